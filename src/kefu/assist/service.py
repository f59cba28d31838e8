"""通话助手 (SPEC §10) without the web layer: a reply or note checked for 服务禁语 as it is typed,
with the recommended wording put in; and what belongs on the agent's screen while a call runs —
the greeting and closing for now, the call stages as a checklist, the scripts of a stage and
scenario. Reads the rulebook only; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kefu.core.errors import Invalid, NotFound
from kefu.inspection.assist import SentenceChecker, SentenceHit
from kefu.knowledge import service as kb
from kefu.rulebook.calendar import MomentGreetings, moment_greetings
from kefu.rulebook.schema import Rulebook, Script, Stage

MAX_CHARS = 2000  # a reply or a note; longer texts go to the quality inspection (kefu qa)


@dataclass(frozen=True)
class Checked:
    text: str
    hits: list[SentenceHit]  # by position
    corrected: str  # the text with every recommended wording put in


def check(checker: SentenceChecker, text: str) -> Checked:
    """The forbidden and negative phrases in ``text``. Empty text has none."""
    if len(text) > MAX_CHARS:
        raise Invalid(f"文字过长:最多检查 {MAX_CHARS} 字,当前 {len(text)} 字,请分段输入")
    hits = checker.check(text) if text.strip() else []
    return Checked(text=text, hits=hits, corrected=apply_suggestions(text, hits))


def apply_suggestions(text: str, hits: list[SentenceHit]) -> str:
    """``text`` with each hit that has a recommended wording replaced by it. Of hits that
    overlap, the first (then the longest) wins; the others are left as they are."""
    chosen: list[SentenceHit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -(h.end - h.start))):
        if hit.suggestion and (not chosen or hit.start >= chosen[-1].end):
            chosen.append(hit)
    for hit in reversed(chosen):
        text = text[: hit.start] + str(hit.suggestion) + text[hit.end :]
    return text


@dataclass(frozen=True)
class StageItem:
    """One entry of the call-stage checklist, with the scenarios it has scripts for."""

    stage: Stage
    scenarios: list[str]


@dataclass(frozen=True)
class Context:
    moment: MomentGreetings  # greeting, opening and closing for now, on the centre's clock
    stages: list[StageItem]  # the checklist, in call order
    scenarios: list[str]  # all of them, in rulebook order
    stage: str | None
    scenario: str | None
    scripts: list[Script]  # of the stage and scenario asked for, in call-stage order


def context(rulebook: Rulebook, now: datetime, stage: str | None = None, scenario: str | None = None) -> Context:
    """What the agent's screen shows at ``now``. ``stage`` and ``scenario`` narrow the scripts
    (None: all); an unknown one is an error, not an empty list."""
    groups = kb.script_stages(rulebook)
    scenarios = kb.script_scenarios(rulebook)
    if stage is not None and stage not in {g.stage.id for g in groups}:
        raise NotFound(f"没有通话阶段「{stage}」")
    if scenario is not None and scenario not in scenarios:
        raise NotFound(f"没有场景「{scenario}」")
    scripts = [
        script
        for group in groups
        if stage is None or group.stage.id == stage
        for script in group.scripts
        if scenario is None or script.scenario == scenario
    ]
    return Context(
        moment=moment_greetings(rulebook.greetings, now),
        stages=[StageItem(g.stage, kb.script_scenarios(rulebook, g.stage.id)) for g in groups],
        scenarios=scenarios,
        stage=stage,
        scenario=scenario,
        scripts=scripts,
    )
