"""kefu on real text written by real agents and customers (``shared/data``, see its README).

* 390 STC-3 customer ↔ helpdesk dialogues from Weibo: they all parse and inspect, the reports
  are well formed, and an angry customer's words are never charged to the agent.
* 10,270 real JD.com agent replies: how often polite, real replies are flagged (printed with
  ``pytest -s``; bounds with headroom), and ``kefu check`` agrees with ``kefu qa`` on them.

The data lives beside the repository (``<repo>/../shared/data``), never inside the package.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SHARED_DATA, shared_data
from kefu.inspection.assist import SentenceChecker
from kefu.inspection.engine import Inspector
from kefu.inspection.parsers import ParsedItem, parse_file
from kefu.inspection.scorecard import Report
from kefu.inspection.transcript import Speaker, Transcript, Turn
from kefu.rulebook.schema import Rulebook

DATA = SHARED_DATA
STC3 = DATA / "stc3_test_cn.jsonl"
JDDC = DATA / "jddc_agent_replies.txt"

# Rules about what the agent says: a customer's words must never trigger them.
AGENT_SPEECH_RULES = ("forbidden_phrase", "negative_wording", "abuse", "privacy")
# Honest bounds with headroom (share of real, polite JDDC replies that get a finding).
FP_BOUNDS = {"forbidden_phrase": 0.005, "negative_wording": 0.02, "abuse": 0.0005}


def _need(path: Path) -> Path:
    return shared_data(path.name)


@pytest.fixture(scope="module")
def stc3_items() -> list[ParsedItem]:
    return parse_file(_need(STC3))


@pytest.fixture(scope="module")
def stc3(stc3_items: list[ParsedItem], inspector: Inspector) -> list[tuple[Transcript, Report]]:
    out = []
    for item in stc3_items:
        if item.transcript is not None:
            out.append((item.transcript, inspector.inspect(item.transcript)))
    return out


@pytest.fixture(scope="module")
def replies() -> list[str]:
    lines = _need(JDDC).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


def _agent_says(text: str, call_id: str = "") -> Transcript:
    return Transcript(id=call_id, turns=[Turn(speaker=Speaker.AGENT, text=text)])


@pytest.fixture(scope="module")
def jddc(replies: list[str], inspector: Inspector) -> list[tuple[Transcript, Report]]:
    """Each real reply as a one-turn agent transcript, so a finding names its reply."""
    out = []
    for n, text in enumerate(replies):
        call = _agent_says(text, f"jddc-{n}")
        out.append((call, inspector.inspect(call)))
    return out


def _problems(call: Transcript, report: Report) -> Iterator[str]:
    """Everything wrong with one report's shape; empty when the report is well formed."""
    if not 0 <= report.score <= 100:
        yield f"{call.id}: score {report.score} outside [0, 100]"
    for f in report.findings:
        where = f"{call.id} {f.rule} turn {f.turn}"
        if f.turn is None:
            if f.evidence_span is not None:
                yield f"{where}: an evidence span without a turn"
            continue
        if not 0 <= f.turn < len(call.turns):
            yield f"{where}: no such turn (the call has {len(call.turns)})"
            continue
        turn = call.turns[f.turn]
        expected = Speaker.CUSTOMER if f.rule == "read_back" else Speaker.AGENT
        if turn.speaker is not expected:
            yield f"{where}: points at a {turn.speaker.value} turn: {turn.text[:60]!r}"
        if f.evidence_span is not None:
            start, end = f.evidence_span
            if not 0 <= start < end <= len(turn.text) or turn.text[start:end] != f.evidence:
                yield (
                    f"{where}: evidence {f.evidence!r} is not text[{start}:{end}] = "
                    f"{turn.text[start:end]!r} of {turn.text[:80]!r}"
                )


# ---------------------------------------------------------------------------- STC-3 dialogues


def test_all_stc3_dialogues_parse(stc3_items: list[ParsedItem]) -> None:
    errors = [str(item.error) for item in stc3_items if item.error is not None]
    assert errors == []
    assert len(stc3_items) == 390
    calls = [item.transcript for item in stc3_items if item.transcript is not None]
    assert len({call.id for call in calls}) == 390
    # The real data has what the README promises: chats, and empty turns (images, emoji).
    assert all(call.channel is not None and call.channel.value == "chat" for call in calls)
    assert any(turn.text == "" for call in calls for turn in call.turns)


def test_stc3_reports_are_well_formed(stc3: list[tuple[Transcript, Report]]) -> None:
    assert len(stc3) == 390
    problems = [p for call, report in stc3 for p in _problems(call, report)]
    assert problems == [], "\n".join(problems[:20])
    # The engine did real work on them (not a vacuous pass).
    assert sum(len(report.findings) for _, report in stc3) > 390


def test_customer_speech_is_never_the_agents_fault(stc3: list[tuple[Transcript, Report]], inspector: Inspector) -> None:
    blamed = [
        f"{call.id} {f.rule} {f.evidence!r} in {call.turns[f.turn].text[:60]!r}"
        for call, report in stc3
        for f in report.findings
        if f.rule in AGENT_SPEECH_RULES and f.turn is not None and call.turns[f.turn].speaker is Speaker.CUSTOMER
    ]
    assert blamed == [], "\n".join(blamed)

    # The check has teeth: these customers do swear. Put their words in the agent's mouth
    # and the fatal abuse rule fires.
    swapped_abuse = 0
    for call, _ in stc3:
        swapped = call.model_copy(
            update={
                "turns": [
                    turn.model_copy(
                        update={"speaker": Speaker.AGENT if turn.speaker is Speaker.CUSTOMER else Speaker.CUSTOMER}
                    )
                    for turn in call.turns
                ]
            }
        )
        report = inspector.inspect(swapped)
        swapped_abuse += any(f.rule == "abuse" for f in report.findings)
    print(f"\nSTC-3: {swapped_abuse} dialogues would be fatal (abuse) if the customer were the agent")
    assert swapped_abuse >= 3


# ---------------------------------------------------------------------------- JDDC agent replies


def test_jddc_reports_are_well_formed(jddc: list[tuple[Transcript, Report]]) -> None:
    assert len(jddc) > 10_000
    problems = [p for call, report in jddc for p in _problems(call, report)]
    assert problems == [], "\n".join(problems[:20])


def test_false_positive_rates_on_real_polite_replies(
    jddc: list[tuple[Transcript, Report]],
) -> None:
    flagged: dict[str, list[tuple[str, str]]] = {rule: [] for rule in FP_BOUNDS}
    for call, report in jddc:
        for rule in FP_BOUNDS:
            evidence = [f.evidence or "" for f in report.findings if f.rule == rule]
            if evidence:
                flagged[rule].append(("、".join(evidence), call.turns[0].text))
    total = len(jddc)
    print(f"\nJDDC: {total} real agent replies, each inspected as a one-turn agent transcript")
    for rule, hits in flagged.items():
        rate = len(hits) / total
        print(f"  {rule:17} {len(hits):4} replies = {rate:.3%} (bound {FP_BOUNDS[rule]:.2%})")
        by_phrase = Counter(evidence for evidence, _ in hits)
        if by_phrase:
            print("    evidence: " + ", ".join(f"{e} ×{n}" for e, n in by_phrase.most_common(8)))
        for evidence, text in hits[:8]:
            print(f"    「{evidence}」 in {text[:70]!r}")
    rates = {rule: len(hits) / total for rule, hits in flagged.items()}
    for rule, bound in FP_BOUNDS.items():
        assert rates[rule] < bound, f"{rule} flags {rates[rule]:.3%} of real polite replies"


def test_sentence_checker_agrees_with_engine_on_real_replies(
    jddc: list[tuple[Transcript, Report]], rulebook: Rulebook, inspector: Inspector
) -> None:
    """``kefu check`` (SentenceChecker) and ``kefu qa`` (Inspector) never disagree about 禁语.

    On the raw replies (nearly none contain a 禁语) and on 2,000 of them with each forbidden
    phrase of the rulebook, in the seed's own wording, said before or after the real text.
    """
    checker = SentenceChecker(rulebook)
    entries = rulebook.phrase_sets["forbidden"].entries
    cases = [(call.turns[0].text, report) for call, report in jddc]
    for n, (call, _) in enumerate(jddc[:2000]):
        entry = entries[n % len(entries)]
        said, text = entry.quote or entry.text, call.turns[0].text
        text = f"{said}{text}" if n % 2 else f"{text}{said}"
        cases.append((text, inspector.inspect(_agent_says(text))))

    disagreements = []
    engine_total = 0
    for text, report in cases:
        engine = sorted(f.evidence or "" for f in report.findings if f.rule == "forbidden_phrase")
        check = sorted(h.evidence for h in checker.check(text) if h.set == "forbidden")
        engine_total += len(engine)
        if engine != check:
            disagreements.append(f"{text[:70]!r}: qa {engine} vs check {check}")
    print(
        f"\nSentenceChecker vs Inspector: {len(cases)} texts, {engine_total} 禁语 findings, "
        f"{len(disagreements)} disagreements"
    )
    assert disagreements == [], "\n".join(disagreements[:20])
    assert engine_total >= 1900  # the injected phrases were found (the check is not vacuous)
