"""Inspect a transcript against the rulebook: findings with evidence, then the scorecard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from kefu.inspection.compiler import CallFn, Compiler, Explanation, TurnFn
from kefu.inspection.scorecard import Finding, NotApplicable, Report, score_call
from kefu.inspection.transcript import Transcript
from kefu.inspection.view import CallView, MissingInput, bits, lowest
from kefu.rulebook.calendar import moment_greetings
from kefu.rulebook.schema import Rule, Rulebook
from kefu.text.phrases import Phrase, PhraseIndex


@dataclass
class _CompiledRule:
    rule: Rule
    captures: list[tuple[str, re.Pattern[str], int | None]]  # name, pattern, speaker mask key
    when: CallFn | None
    forbid: TurnFn | None
    require: CallFn | None
    at: TurnFn | None
    checklist: list[tuple[str, TurnFn, TurnFn | None]]


class Inspector:
    """Compiled once per rulebook; ``inspect`` is then cheap per call."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        sets = phrase_sets(rulebook)
        self.compiler = Compiler(sets)
        self.rules = [self._compile(rule) for rule in rulebook.rules if rule.enabled]
        self._scoped: dict[tuple[str | None, str | None], list[_CompiledRule]] = {}
        scanned = {name: sets[name] for name in sorted(self.compiler.used_sets)}
        self.index = PhraseIndex({**scanned, **self.compiler.literal_sets})

    def _compile(self, rule: Rule) -> _CompiledRule:
        c = self.compiler
        captures = []
        for name, capture in rule.capture.items():
            speaker = None if capture.speaker is None else capture.speaker.value
            captures.append((name, re.compile(capture.regex), speaker))
        return _CompiledRule(
            rule=rule,
            captures=captures,  # type: ignore[arg-type]
            when=c.call(rule.when) if rule.when else None,
            forbid=c.turn(rule.forbid) if rule.forbid else None,
            require=c.call(rule.require) if rule.require else None,
            at=c.turn(rule.at) if rule.at else None,
            checklist=[
                (item.name, c.turn(item.cond), c.turn(item.fallback) if item.fallback else None)
                for item in rule.checklist or []
            ],
        )

    def constants(self, transcript: Transcript) -> dict[str, str | None]:
        values: dict[str, str | None] = {
            "company": transcript.company or self.rulebook.company,
            "agent_id": transcript.agent_id,
            "agent_name": transcript.agent_name,
        }
        moment = transcript.call_time
        if moment is not None:
            values["greeting"], values["closing"] = self._expected(moment.replace(second=0, microsecond=0))
        return values

    @lru_cache(maxsize=4096)  # noqa: B019 — one Inspector lives as long as its rulebook
    def _expected(self, minute: datetime) -> tuple[str, str]:
        expected = moment_greetings(self.rulebook.greetings, minute)
        return expected.greeting, expected.closing

    def view(self, transcript: Transcript) -> CallView:
        return CallView(transcript, self.index, self.constants(transcript))

    def inspect(self, transcript: Transcript) -> Report:
        view = self.view(transcript)
        findings: list[Finding] = []
        not_applicable: list[NotApplicable] = []
        kind = (view.field_value("direction"), view.field_value("channel"))
        in_scope = self._scoped.get(kind)
        if in_scope is None:
            in_scope = self._scoped[kind] = [c for c in self.rules if _in_scope(c.rule, *kind)]
        for compiled in in_scope:
            rule = compiled.rule
            try:
                found = self._run(compiled, view)
            except MissingInput as missing:
                not_applicable.append(NotApplicable(rule=rule.id, rule_name=rule.name, missing=missing.what))
                continue
            findings.extend(_charge(rule, found))
        return score_call(
            self.rulebook,
            [c.rule for c in in_scope],
            transcript.id,
            findings,
            not_applicable,
            agent_id=transcript.agent_id,
            agent_name=transcript.agent_name,
        )

    # ------------------------------------------------------------ one rule

    def _run(self, compiled: _CompiledRule, view: CallView) -> list[Finding]:
        rule = compiled.rule
        for name, pattern, speaker in compiled.captures:
            if name not in view.variables:
                view.variables[name] = _capture(view, pattern, speaker)
        if compiled.when is not None and not compiled.when(view):
            return []
        if compiled.forbid is not None:
            assert rule.forbid is not None
            return [
                finding
                for turn in bits(compiled.forbid(view, view.full))
                for finding in self._forbidden(rule, view, turn)
            ]
        if compiled.require is not None:
            assert rule.require is not None
            if compiled.require(view):
                return []
            notes = self.compiler.explain_call(rule.require, view)
            turn = self._at(compiled, view)
            return [self._finding(rule, view, turn, Explanation(notes=notes))]
        turn = self._at(compiled, view)
        if turn is None:
            return []
        missing, unchecked = [], []
        for name, cond, fallback in compiled.checklist:
            try:
                ok = cond(view, 1 << turn)
            except MissingInput:
                if fallback is None:
                    unchecked.append(name)
                    continue
                ok = fallback(view, 1 << turn)
            if not ok:
                missing.append(name)
        if not missing:
            return []
        notes = ["缺少:" + "、".join(missing)]
        if unchecked:
            notes.append("未核对(缺少资料):" + "、".join(unchecked))
        return [self._finding(rule, view, turn, Explanation(notes=notes))]

    def _at(self, compiled: _CompiledRule, view: CallView) -> int | None:
        if compiled.at is None:
            return None
        mask = compiled.at(view, view.full)
        return lowest(mask) if mask else None

    def _forbidden(self, rule: Rule, view: CallView, turn: int) -> list[Finding]:
        assert rule.forbid is not None
        explanation = self.compiler.explain_turn(rule.forbid, view, turn)
        phrase_evidence = [e for e in explanation.evidence if e.set is not None]
        advised = [e for e in phrase_evidence if self.index.sets[e.set][e.entry].suggestion]  # type: ignore[index]
        if not advised:  # a cue, not a phrase with its own better wording: one finding per turn
            return [self._finding(rule, view, turn, explanation)]
        out = []
        for evidence in advised:
            entry = self.index.sets[evidence.set][evidence.entry]  # type: ignore[index]
            single = Explanation([evidence], explanation.notes)
            out.append(self._finding(rule, view, turn, single, entry))
        return out

    def _finding(
        self,
        rule: Rule,
        view: CallView,
        turn: int | None,
        explanation: Explanation,
        entry: Phrase | None = None,
    ) -> Finding:
        t = view.transcript.turns[turn] if turn is not None else None
        evidence_text, span = None, None
        if t is not None:
            if explanation.evidence:
                quoted = max(explanation.evidence, key=lambda e: e.end - e.start)
                span = (quoted.start, quoted.end)
                source_text = t.text if len(t.text) == len(view.simple[turn]) else view.simple[turn]
                evidence_text = source_text[quoted.start : quoted.end]
            else:
                evidence_text = t.text
        message = rule.message
        if entry is not None and entry.quote:
            message += f"(规范原文:「{entry.quote}」)"
        if explanation.notes:
            message += ";" + ";".join(dict.fromkeys(explanation.notes))
        message = _fill(message, view.variables)
        suggestion = entry.suggestion if entry is not None and entry.suggestion else rule.suggestion
        if suggestion:
            suggestion = _fill(suggestion, view.variables)
        source = entry.source if entry is not None and entry.source else rule.source
        return Finding(
            rule=rule.id,
            rule_name=rule.name,
            category=rule.category,
            deduction=rule.deduction,
            fatal=rule.fatal,
            turn=turn,
            speaker=t.speaker.value if t is not None else None,
            start=t.start if t is not None else None,
            end=t.end if t is not None else None,
            evidence=evidence_text,
            evidence_span=span,
            message=message,
            standard=rule.standard,
            source=source,
            suggestion=suggestion,
        )


def _in_scope(rule: Rule, direction: str | None, channel: str | None) -> bool:
    """A rule for another kind of call is not part of this call's scorecard at all."""
    scope = rule.applies_to
    if scope is None:
        return True
    if scope.direction is not None and direction != scope.direction:
        return False
    return scope.channel is None or channel is None or channel == scope.channel


def phrase_sets(rulebook: Rulebook) -> dict[str, list[Phrase]]:
    return {
        name: [Phrase(e.text, e.suggestion, e.source, e.quote, tuple(e.except_)) for e in ps.entries]
        for name, ps in rulebook.phrase_sets.items()
    }


def _capture(view: CallView, pattern: re.Pattern[str], speaker: str | None) -> str | None:
    mask = view.full if speaker is None else (view.agent if speaker == "agent" else view.customer)
    for i in bits(mask):
        match = pattern.search(view.simple[i])
        if match:
            return next((g for g in match.groups() if g), None)
    return None


_BLANKS = {"company": "[企业名称]", "agent_id": "[工号]", "agent_name": "[姓名]", "surname": "×"}


def _fill(template: str, variables: dict[str, object]) -> str:
    if "{" not in template:
        return template

    def value(match: re.Match[str]) -> str:
        found = variables.get(match.group(1))
        return str(found) if found else _BLANKS.get(match.group(1), "…")

    return re.sub(r"\{(\w+)\}", value, template)


def _charge(rule: Rule, findings: list[Finding]) -> list[Finding]:
    """Deduct per finding until the rule's points are used up."""
    left = rule.points
    for finding in findings:
        finding.deduction = min(rule.deduction, left)
        left -= finding.deduction
    return findings
