"""The simulation handbook of seed 004 (话务模拟手册) and role play without a trainer.

Each scenario (基础场景, 复杂场景, 投诉处理, 异常处理, 销售话术) has its description, the
customer's traits, the key phrases (required or optional, as the seed marks them) and notes, and
a scripted customer: a list of steps, each opened by what the customer says. The agent's reply
moves the script on when it matches one of the step's patterns (what an agent would say there,
in its many wordings); otherwise the customer reacts (the step's ``otherwise``) and waits; after
two misses the step is counted as missed and the script goes on. Matching is on the simplified
text (kefu.text), so an agent typing traditional characters is understood the same.

At the end the transcript is scored by the centre's inspection rules (by the caller, who has
the rulebook) and against the scenario's key phrases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from kefu.text.normalize import simplify

CHAPTERS = ("基础场景", "复杂场景", "投诉处理", "异常处理", "销售话术")
MISSES_ALLOWED = 2


@dataclass(frozen=True)
class KeyPhrase:
    text: str
    required: bool
    patterns: tuple[re.Pattern[str], ...]

    def said_in(self, agent_text: str) -> bool:
        return all(p.search(agent_text) for p in self.patterns)


@dataclass(frozen=True)
class Step:
    customer: str
    expect: tuple[re.Pattern[str], ...]
    otherwise: str

    def answered_by(self, reply: str) -> bool:
        return any(p.search(reply) for p in self.expect)


@dataclass(frozen=True)
class Scenario:
    code: str
    chapter: str
    title: str
    description: str
    customer: str
    notes: str
    key_phrases: tuple[KeyPhrase, ...]
    script: tuple[Step, ...]


@cache
def scenarios() -> dict[str, Scenario]:
    """The handbook kefu ships (kefu/training/data/scenarios.yaml), by code, in chapter order."""
    text = (resources.files("kefu.training") / "data" / "scenarios.yaml").read_text(encoding="utf-8")
    out = {}
    for raw in yaml.safe_load(text):
        out[raw["code"]] = Scenario(
            code=raw["code"], chapter=raw["chapter"], title=raw["title"], description=raw["description"],
            customer=raw["customer"], notes=raw["notes"],
            key_phrases=tuple(
                KeyPhrase(k["text"], bool(k["required"]), tuple(re.compile(p) for p in k["patterns"]))
                for k in raw["key_phrases"]
            ),
            script=tuple(
                Step(s["customer"], tuple(re.compile(p) for p in s["expect"]), s["otherwise"]) for s in raw["script"]
            ),
        )  # fmt: skip
    return dict(sorted(out.items(), key=lambda kv: (CHAPTERS.index(kv[1].chapter), kv[0])))


@dataclass
class Play:
    """Where a role play stands: the turns so far, the step the customer is on, how often the
    agent's reply missed it, and the steps given up on."""

    turns: list[dict[str, Any]] = field(default_factory=list)
    step: int = 0
    misses: int = 0
    missed: list[int] = field(default_factory=list)
    finished: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"turns": self.turns, "step": self.step, "misses": self.misses, "missed": self.missed,
                "finished": self.finished}  # fmt: skip

    @classmethod
    def of(cls, data: dict[str, Any]) -> Play:
        return cls(list(data["turns"]), data["step"], data["misses"], list(data["missed"]), data["finished"])


def start(scenario: Scenario) -> Play:
    return Play(turns=[{"speaker": "customer", "text": scenario.script[0].customer}])


def reply(scenario: Scenario, play: Play, text: str) -> Play:
    """The agent says ``text``; the customer answers (or the play ends)."""
    if play.finished:
        raise ValueError("这次演练已经结束")
    text = text.strip()
    if not text:
        raise ValueError("请输入您要对客户说的话")
    play.turns.append({"speaker": "agent", "text": text})
    step = scenario.script[play.step]
    if step.answered_by(simplify(text)):
        play.misses = 0
        _next(scenario, play)
    else:
        play.misses += 1
        if play.misses >= MISSES_ALLOWED:
            play.missed.append(play.step)
            play.misses = 0
            _next(scenario, play)
        else:
            play.turns.append({"speaker": "customer", "text": step.otherwise})
    return play


def _next(scenario: Scenario, play: Play) -> None:
    play.step += 1
    if play.step >= len(scenario.script):
        play.finished = True
    else:
        play.turns.append({"speaker": "customer", "text": scenario.script[play.step].customer})


def key_phrases(scenario: Scenario, turns: list[dict[str, Any]]) -> list[tuple[KeyPhrase, bool]]:
    """Each key phrase and whether the agent said it (in any of its wordings)."""
    said = simplify("\n".join(t["text"] for t in turns if t["speaker"] == "agent"))
    return [(k, k.said_in(said)) for k in scenario.key_phrases]
