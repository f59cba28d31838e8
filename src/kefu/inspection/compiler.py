"""Turn rule conditions (data) into fast functions over a ``CallView``.

A turn condition becomes ``f(view, candidates) -> mask``: the subset of the candidate turns
for which it holds. A call condition becomes ``f(view) -> bool``. Literal phrases of all
rules join the rulebook's phrase sets in one automaton, so a call is scanned once.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kefu.inspection.view import CallView, MissingInput, bits, lowest
from kefu.rulebook.schema import CallCond, Echo, TurnCond, Window
from kefu.text.normalize import normalize, strip_with_offsets
from kefu.text.phrases import Phrase

TurnFn = Callable[[CallView, int], int]
CallFn = Callable[[CallView], bool]
Loc = tuple[str | int, ...]

_FORMATTER = string.Formatter()


@cache
def placeholders(text: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in _FORMATTER.parse(text) if name)


@dataclass(frozen=True)
class Evidence:
    start: int  # in the simplified text of the turn (same length as the original)
    end: int
    set: str | None = None
    entry: int | None = None


@dataclass
class Explanation:
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Compiler:
    """Compiles the conditions of many rules against one phrase index."""

    def __init__(self, phrase_sets: dict[str, list[Phrase]]) -> None:
        self.phrase_sets = phrase_sets
        self.used_sets: set[str] = set()
        self.literal_sets: dict[str, list[Phrase]] = {}
        self._literal_names: dict[tuple[str, ...], str] = {}
        self.turn_fns: dict[int, TurnFn] = {}
        self.call_fns: dict[int, CallFn] = {}
        self._keep: list[Any] = []  # keeps compiled models alive so their id() stays unique

    # ------------------------------------------------------------ turn conditions

    def turn(self, cond: TurnCond) -> TurnFn:
        steps: list[TurnFn] = []
        given = cond.model_fields_set
        if "speaker" in given and cond.speaker is not None:
            speaker = cond.speaker
            steps.append(lambda v, c: c & v.speaker_mask(speaker))
        if cond.chars is not None:
            steps.append(_measured(lambda v: v.lengths, cond.chars.min, cond.chars.max))
        if cond.time is not None:
            steps.append(_measured(lambda v: v.times()[0], cond.time.min, cond.time.max))
        if cond.first is not None:
            steps.append(_first(cond.first))
        if cond.last is not None:
            steps.append(_last(cond.last))
        if cond.set is not None:
            names = [cond.set] if isinstance(cond.set, str) else list(cond.set)
            self.used_sets.update(names)
            steps.append(_in_sets(names))
        if cond.phrases is not None:
            steps.append(self._phrases(cond.phrases))
        if cond.all_phrases is not None:
            for phrase in cond.all_phrases:
                steps.append(self._phrases([phrase]))
        if cond.only is not None:
            steps.append(_only(self.phrase_sets[cond.only]))
        if cond.gap_before is not None:
            steps.append(_measured(lambda v: v.gaps, cond.gap_before, None))
        if cond.overlap is not None:
            steps.append(_measured(lambda v: v.overlaps, cond.overlap, None))
        if cond.after is not None:
            steps.append(_after(self.turn(cond.after)))
        if cond.before is not None:
            steps.append(_before(self.turn(cond.before)))
        if cond.preceded_by is not None:
            steps.append(_window(self.turn(cond.preceded_by), cond.preceded_by, backwards=True))
        if cond.followed_by is not None:
            steps.append(_window(self.turn(cond.followed_by), cond.followed_by, backwards=False))
        if cond.echoed_by is not None:
            steps.append(_echoed(cond.echoed_by))
        if cond.regex is not None:
            steps.append(_regex(re.compile(cond.regex), keep=True))
        if cond.exclude is not None:
            steps.append(_regex(re.compile(cond.exclude), keep=False))
        if cond.all is not None:
            steps.extend(self.turn(sub) for sub in cond.all)
        if cond.any is not None:
            options = [self.turn(sub) for sub in cond.any]
            if all(sub.model_fields_set <= {"regex", "note"} for sub in cond.any):
                joined = "|".join(f"(?:{sub.regex})" for sub in cond.any)
                steps.append(_regex(re.compile(joined), keep=True))  # one search, not one per option
            else:
                steps.append(_any(options))
        if cond.not_ is not None:
            inner = self.turn(cond.not_)
            steps.append(lambda v, c: c & ~inner(v, c))

        def run(view: CallView, candidates: int) -> int:
            for step in steps:
                if not candidates:
                    return 0
                candidates = step(view, candidates)
            return candidates

        fn = steps[0] if len(steps) == 1 else run
        self.turn_fns[id(cond)] = fn
        self._keep.append(cond)
        return fn

    def _phrases(self, phrases: list[str]) -> TurnFn:
        fixed = tuple(p for p in phrases if not placeholders(p))
        templated = tuple(p for p in phrases if placeholders(p))
        fixed_name = self._literal_set(fixed) if fixed else None
        if not templated:
            assert fixed_name is not None
            return _in_sets([fixed_name])

        key = id(templated)

        def run(view: CallView, candidates: int) -> int:
            found = candidates & view.set_masks.get(fixed_name, 0) if fixed_name else 0
            needles = view.resolved.get(key)
            if needles is None:
                needles = view.resolved[key] = _resolve(templated, view.variables)
            if not needles and not fixed_name:
                missing = {n for p in templated for n in placeholders(p)}
                raise MissingInput("、".join(sorted({VARIABLE_LABELS.get(n, n) for n in missing})))
            return found | (candidates & view.needle_mask(tuple(needles)))

        return run

    def _literal_set(self, phrases: tuple[str, ...]) -> str:
        if phrases not in self._literal_names:
            name = f"_literal_{len(self._literal_names)}"
            self._literal_names[phrases] = name
            self.literal_sets[name] = [Phrase(text) for text in phrases]
        return self._literal_names[phrases]

    # ------------------------------------------------------------ call conditions

    def call(self, cond: CallCond) -> CallFn:
        checks: list[CallFn] = []
        if cond.exists is not None:
            fn = self.turn(cond.exists)
            checks.append(lambda v: fn(v, v.full) != 0)
        if cond.absent is not None:
            absent = self.turn(cond.absent)
            checks.append(lambda v: absent(v, v.full) == 0)
        if cond.count is not None:
            of, low, high = self.turn(cond.count.of), cond.count.min, cond.count.max
            checks.append(lambda v: _within(of(v, v.full).bit_count(), low, high))
        if cond.metric is not None:
            metric = cond.metric
            checks.append(lambda v: _within(v.metric(metric.name), metric.min, metric.max))
        if cond.field is not None:
            checks.append(_field(cond.field.name, cond.field.is_, cond.field.missing))
        if cond.known is not None:
            known = cond.known
            checks.append(lambda v: v.variables.get(known) is not None)
        if cond.all is not None:
            checks.extend(self.call(sub) for sub in cond.all)
        if cond.any is not None:
            checks.append(_any_call([self.call(sub) for sub in cond.any]))
        if cond.not_ is not None:
            inner = self.call(cond.not_)
            checks.append(lambda v: not inner(v))

        def run(view: CallView) -> bool:
            return all(check(view) for check in checks)

        self.call_fns[id(cond)] = run
        self._keep.append(cond)
        return run

    # ------------------------------------------------------------ explanations (slow path)

    def explain_turn(self, cond: TurnCond, view: CallView, turn: int) -> Explanation:
        """Why ``cond`` holds for ``turn``: the spans to quote and the notes to print."""
        out = Explanation()
        self._explain_turn(cond, view, turn, out)
        return out

    def _explain_turn(self, cond: TurnCond, view: CallView, turn: int, out: Explanation) -> None:
        if cond.note:
            out.notes.append(cond.note)
        if cond.set is not None:
            for name in [cond.set] if isinstance(cond.set, str) else cond.set:
                out.evidence.extend(_set_evidence(view, name, turn))
        if cond.phrases is not None or cond.all_phrases is not None:
            needles = _resolve(list(cond.phrases or []) + list(cond.all_phrases or []), view.variables)
            out.evidence.extend(_needle_evidence(view, turn, needles))
        if cond.regex is not None:
            match = re.search(cond.regex, view.simple[turn])
            if match:
                out.evidence.append(Evidence(match.start(), match.end()))
        if cond.gap_before is not None:
            out.notes.append(f"静默 {view.gaps[turn]:.1f} 秒")
        if cond.overlap is not None:
            out.notes.append(f"与对方重叠 {view.overlaps[turn]:.1f} 秒")
        for sub in cond.all or []:
            self._explain_turn(sub, view, turn, out)
        for sub in cond.any or []:
            if self.turn_fns[id(sub)](view, 1 << turn):
                self._explain_turn(sub, view, turn, out)

    def explain_call(self, cond: CallCond, view: CallView) -> list[str]:
        """Notes on the parts of a call condition that do not hold."""
        notes: list[str] = []
        if cond.note:
            notes.append(cond.note)
        if cond.metric is not None:
            try:
                value = view.metric(cond.metric.name)
            except MissingInput:
                value = None
            if value is not None and not _within(value, cond.metric.min, cond.metric.max):
                notes.append(
                    f"{METRIC_LABELS[cond.metric.name]} {value:.1f}"
                    f"(标准 {_range_text(cond.metric.min, cond.metric.max)})"
                )
        if cond.count is not None:
            found = self.turn_fns[id(cond.count.of)](view, view.full).bit_count()
            notes.append(f"出现 {found} 次(标准 {_range_text(cond.count.min, cond.count.max)})")
        for sub in (cond.all or []) + (cond.any or []):
            if not self.call_fns[id(sub)](view):
                notes.extend(self.explain_call(sub, view))
        return notes


VARIABLE_LABELS = {
    "company": "企业名称",
    "agent_id": "工号",
    "agent_name": "客服姓名",
    "greeting": "来电时间",
    "closing": "来电时间",
    "surname": "客户姓氏",
}

METRIC_LABELS = {
    "answer_delay": "振铃至接听(秒)",
    "duration": "通话时长(秒)",
    "speech_rate": "语速(字/分钟)",
    "agent_talk_share": "客服说话占比",
}


def _range_text(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"{low:g}–{high:g}"
    return f"≥ {low:g}" if low is not None else f"≤ {high:g}"


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


_resolved: dict[str, str] = {}


def _resolve(templates: Sequence[str], variables: dict[str, Any]) -> list[str]:
    """The templates whose placeholders this call has values for, filled in and normalised."""
    out = []
    for template in templates:
        names = placeholders(template)
        if all(variables.get(n) for n in names):
            text = template.format(**{n: variables[n] for n in names})
            if text not in _resolved:
                if len(_resolved) > 10_000:  # agent ids and names are many but finite
                    _resolved.clear()
                _resolved[text] = normalize(text)
            if _resolved[text]:
                out.append(_resolved[text])
    return out


def _first(count: int) -> TurnFn:
    def run(view: CallView, candidates: int) -> int:
        return sum(1 << i for i in bits(candidates)[:count])

    return run


def _last(count: int) -> TurnFn:
    def run(view: CallView, candidates: int) -> int:
        return sum(1 << i for i in bits(candidates)[-count:])

    return run


def _measured(values: Callable[[CallView], Sequence[float]], low: float | None, high: float | None) -> TurnFn:
    """Turns whose measure (length, start, silence before, overlap) lies in [low, high]."""
    low_ = -math.inf if low is None else low
    high_ = math.inf if high is None else high

    def run(view: CallView, candidates: int) -> int:
        measures = values(view)
        found = 0
        for i in bits(candidates):
            if low_ <= measures[i] <= high_:
                found |= 1 << i
        return found

    return run


def _in_sets(names: list[str]) -> TurnFn:
    if len(names) == 1:
        name = names[0]
        return lambda v, c: c & v.set_masks.get(name, 0)

    def run(view: CallView, candidates: int) -> int:
        mask = 0
        for name in names:
            mask |= view.set_masks.get(name, 0)
        return candidates & mask

    return run


def _only(entries: list[Phrase]) -> TurnFn:
    """The turn says nothing but these phrases (an empty turn included)."""
    alternatives = sorted({normalize(e.text) for e in entries}, key=len, reverse=True)
    pattern = re.compile("(?:" + "|".join(map(re.escape, alternatives)) + ")*")

    def run(view: CallView, candidates: int) -> int:
        return sum(1 << i for i in bits(candidates) if pattern.fullmatch(view.norm[i]))

    return run


def _everywhere(inner: TurnFn, view: CallView) -> int:
    """``inner`` over the whole call, computed once per call however many rules ask."""
    memo = view.memo
    key = id(inner)
    if key not in memo:
        memo[key] = inner(view, view.full)
    return memo[key]


def _after(inner: TurnFn) -> TurnFn:
    def run(view: CallView, candidates: int) -> int:
        mask = _everywhere(inner, view)
        return candidates & ~((1 << (lowest(mask) + 1)) - 1) if mask else 0

    return run


def _before(inner: TurnFn) -> TurnFn:
    """Turns before the first match; every turn when there is no match at all."""

    def run(view: CallView, candidates: int) -> int:
        mask = _everywhere(inner, view)
        return candidates & ((1 << lowest(mask)) - 1) if mask else candidates

    return run


def _window(inner: TurnFn, window: Window, *, backwards: bool) -> TurnFn:
    distance = window.turns

    def run(view: CallView, candidates: int) -> int:
        mask = _everywhere(inner, view)
        if not mask:
            return 0
        if distance is None:  # any distance: everything after the first / before the last match
            after_first = view.full & ~((1 << (lowest(mask) + 1)) - 1)
            before_last = (1 << (mask.bit_length() - 1)) - 1
            return candidates & (after_first if backwards else before_last)
        reach = 0
        for step in range(1, distance + 1):
            reach |= (mask << step) if backwards else (mask >> step)
        return candidates & reach & view.full

    return run


def _echoed(echo: Echo) -> TurnFn:
    pattern = re.compile(echo.regex)

    def run(view: CallView, candidates: int) -> int:
        found = 0
        listeners = view.speaker_mask(echo.speaker)
        for i in bits(candidates):
            tokens = [m.group(0) for m in pattern.finditer(view.simple[i])]
            end = view.n if echo.turns is None else min(view.n, i + 1 + echo.turns)
            later = [view.simple[j].replace(" ", "") for j in range(i + 1, end) if listeners >> j & 1]
            if all(any(token.replace(" ", "")[-echo.tail :] in text for text in later) for token in tokens):
                found |= 1 << i
        return found

    return run


def _regex(pattern: re.Pattern[str], *, keep: bool) -> TurnFn:
    def run(view: CallView, candidates: int) -> int:
        found = 0
        for i in bits(candidates):
            if (pattern.search(view.simple[i]) is not None) is keep:
                found |= 1 << i
        return found

    return run


def _any(options: list[TurnFn]) -> TurnFn:
    """Either option; one that lacks its input counts as not holding, unless all of them do."""

    def run(view: CallView, candidates: int) -> int:
        mask, missing = 0, []
        for option in options:
            try:
                mask |= option(view, candidates & ~mask)
            except MissingInput as error:
                missing.append(error)
        if len(missing) == len(options):
            raise missing[0]
        return mask

    return run


def _any_call(options: list[CallFn]) -> CallFn:
    def run(view: CallView) -> bool:
        missing = []
        for option in options:
            try:
                if option(view):
                    return True
            except MissingInput as error:
                missing.append(error)
        if len(missing) == len(options):
            raise missing[0]
        return False

    return run


def _field(name: str, expected: str | list[str], missing: str) -> CallFn:
    allowed = {expected} if isinstance(expected, str) else set(expected)

    def run(view: CallView) -> bool:
        value = view.field_value(name)
        if value is None:
            if missing == "not_applicable":
                raise MissingInput({"channel": "渠道", "hangup_by": "挂机方"}.get(name, name))
            return missing == "true"
        return value in allowed

    return run


def _set_evidence(view: CallView, name: str, turn: int) -> list[Evidence]:
    hits = view.hits_in(name, turn)
    if not hits:
        return []
    _, offsets = strip_with_offsets(view.simple[turn])
    return [Evidence(offsets[h.start], offsets[h.end - 1] + 1, name, h.entry) for h in hits]


def _needle_evidence(view: CallView, turn: int, needles: list[str]) -> list[Evidence]:
    norm, offsets = strip_with_offsets(view.simple[turn])
    out = []
    for needle in needles:
        at = norm.find(needle)
        if at >= 0:
            out.append(Evidence(offsets[at], offsets[at + len(needle) - 1] + 1))
    return out
