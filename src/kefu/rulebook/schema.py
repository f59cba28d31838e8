"""The rulebook's shape. Every YAML file is validated against these models on load.

A rule is built from general operators (see ``TurnCond`` and ``CallCond``); a centre combines
them in YAML without writing Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time, timedelta, timezone, tzinfo
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from kefu.rulebook.vocabulary import Speaker

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# The usual mistakes in a regular expression, in words an author can act on.
_REGEX_PROBLEMS = {
    "missing ), unterminated subpattern": "缺少「)」",
    "unbalanced parenthesis": "括号不配对",
    "unterminated character set": "缺少「]」",
    "nothing to repeat": "量词(*、+、?、{…})前面没有内容",
    "multiple repeat": "量词重复",
}


def _check_regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as err:
            where = f"第 {err.pos + 1} 个字符处" if err.pos is not None else ""
            reason = next((text for key, text in _REGEX_PROBLEMS.items() if err.msg.startswith(key)), err.msg)
            raise ValueError(f"正则表达式「{value}」无效:{where}{reason}") from None
    return value


# ---------------------------------------------------------------- phrases


class PhraseEntry(Strict):
    text: str = Field(min_length=1)
    quote: str | None = None
    suggestion: str | None = None
    source: str | None = None
    except_: list[str] = Field(default_factory=list, alias="except")


class PhraseSet(Strict):
    label: str | None = None
    source: str | None = None
    replace: bool = Field(default=False, description="a centre's set replaces the default one")
    remove: list[str] = Field(default_factory=list, description="texts to drop from the default")
    entries: list[PhraseEntry] = Field(default_factory=list)

    @field_validator("entries", mode="before")
    @classmethod
    def _plain_strings(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"text": str(v)} if isinstance(v, str | int | float) else v for v in value]
        return value


# ---------------------------------------------------------------- conditions


class Range(Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("请给出 min、max 或两者")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min({self.min:g})不能大于 max({self.max:g})")
        return self


class TurnCond(Strict):
    """Selects turns. All keys given in one mapping must hold for the same turn (AND).

    ``first``/``last`` count among the turns selected by ``speaker``, ``chars`` and ``time``.
    """

    note: str | None = Field(default=None, description="added to the finding when this matches")
    speaker: Speaker | None = None
    first: int | None = Field(default=None, ge=1)
    last: int | None = Field(default=None, ge=1)
    time: Range | None = Field(default=None, description="turn starts within [min, max] seconds")
    set: str | list[str] | None = Field(default=None, description="phrase set name(s): any hit")
    phrases: list[str] | None = Field(default=None, description="literal phrases, any of them; may use {placeholders}")
    all_phrases: list[str] | None = None
    only: str | None = Field(default=None, description="the turn says nothing but this set")
    regex: str | None = None
    exclude: str | None = Field(default=None, description="regex that rules the turn out")
    chars: Range | None = Field(default=None, description="length once normalised")
    gap_before: float | None = Field(default=None, ge=0, description="silence before, seconds")
    overlap: float | None = Field(default=None, ge=0, description="starts while the other party still talks, seconds")
    echoed_by: Echo | None = None
    after: TurnCond | None = None
    before: TurnCond | None = None
    preceded_by: Window | None = None
    followed_by: Window | None = None
    all: list[TurnCond] | None = None
    any: list[TurnCond] | None = None
    not_: TurnCond | None = Field(default=None, alias="not")

    _regex = field_validator("regex", "exclude")(classmethod(lambda cls, v: _check_regex(v)))

    @model_validator(mode="after")
    def _not_empty(self) -> TurnCond:
        if not self.model_fields_set - {"note"}:
            raise ValueError("空条件什么也选不出:请至少给出一个条件")
        return self


class Window(TurnCond):
    """A turn within ``turns`` turns before/after the one being tested (null: any distance)."""

    turns: int | None = Field(default=1, ge=1)


class Echo(Strict):
    """The regex matches of this turn are repeated (at least their last ``tail`` characters)
    by a turn of ``speaker`` within the next ``turns`` turns."""

    regex: str
    speaker: Speaker = Speaker.AGENT
    turns: int | None = Field(default=None, ge=1)
    tail: int = Field(default=4, ge=1)

    _regex = field_validator("regex")(classmethod(lambda cls, v: _check_regex(v)))


MetricName = Literal["answer_delay", "duration", "speech_rate", "agent_talk_share"]


class Metric(Range):
    name: MetricName


class Count(Range):
    of: TurnCond


class FieldTest(Strict):
    name: Literal["channel", "direction", "hangup_by", "agent_id", "agent_name", "company"]
    is_: str | list[str] = Field(alias="is")
    missing: Literal["not_applicable", "false", "true"] = "not_applicable"


class CallCond(Strict):
    """A statement about the whole call. All keys given must hold (AND)."""

    note: str | None = None
    exists: TurnCond | None = None
    absent: TurnCond | None = None
    count: Count | None = None
    metric: Metric | None = None
    field: FieldTest | None = None
    known: str | None = Field(default=None, description="a captured variable has a value")
    all: list[CallCond] | None = None
    any: list[CallCond] | None = None
    not_: CallCond | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _not_empty(self) -> CallCond:
        if not self.model_fields_set - {"note"}:
            raise ValueError("空条件没有意义:请至少给出一个条件")
        return self


class Capture(Strict):
    """Remember the first group of the first match, e.g. the customer's surname."""

    regex: str
    speaker: Speaker | None = None

    @field_validator("regex")
    @classmethod
    def _has_group(cls, value: str) -> str:
        _check_regex(value)
        if re.compile(value).groups < 1:
            raise ValueError(f"capture 的正则「{value}」需要一个分组 (…) 来取出值")
        return value


class ChecklistItem(Strict):
    name: str
    cond: TurnCond
    fallback: TurnCond | None = Field(default=None, description="used when cond needs a value this call does not have")


# ---------------------------------------------------------------- rules and scorecard


class Scope(Strict):
    """The kind of call a rule belongs to. A call of unknown channel gets channel rules too."""

    direction: Literal["inbound", "outbound"] | None = None
    channel: Literal["voice", "chat"] | None = None


class Rule(Strict):
    id: Id
    name: str
    category: Id
    points: float = Field(gt=0, description="what the rule is worth; the most it can deduct")
    deduction: float = Field(gt=0, description="deducted per finding")
    fatal: bool = False
    enabled: bool = True
    source: str
    standard: str = Field(description="the standard, in the centre's words")
    message: str
    suggestion: str | None = None
    applies_to: Scope | None = Field(default=None, description="only calls of this direction/channel")
    capture: dict[Id, Capture] = Field(default_factory=dict)
    when: CallCond | None = None
    forbid: TurnCond | None = None
    require: CallCond | None = None
    checklist: list[ChecklistItem] | None = None
    at: TurnCond | None = Field(default=None, description="the turn a require/checklist finding points at")

    @model_validator(mode="after")
    def _one_check(self) -> Rule:
        given = [k for k in ("forbid", "require", "checklist") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"每条规则须有且只有 forbid、require、checklist 其中之一(现有:{'、'.join(given) or '无'})")
        if self.checklist is not None and self.at is None:
            raise ValueError("checklist 需要 at:指明检查哪一句话的内容")
        return self


class Category(Strict):
    name: str
    source: str | None = None


# ---------------------------------------------------------------- greetings and scripts


class TimeSpan(Strict):
    from_: time = Field(alias="from")
    to: time | Literal["24:00"]

    def contains(self, moment: time) -> bool:
        if self.to == "24:00":
            return moment >= self.from_
        return self.from_ <= moment < self.to


class TimeGreeting(TimeSpan):
    greeting: str
    source: str | None = None


class WeekdayClosing(TimeSpan):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, 5 = Friday")
    closing: str
    source: str | None = None


class LunarDays(Strict):
    month: int = Field(ge=1, le=12)
    days: list[int]


class Holiday(Strict):
    id: Id
    name: str
    solar: list[str] = Field(default_factory=list, description="MM-DD days")
    lunar: LunarDays | None = None
    greeting: str
    closing: str
    source: str | None = None

    @field_validator("solar")
    @classmethod
    def _month_day(cls, value: list[str]) -> list[str]:
        for day in value:
            if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", day):
                raise ValueError(f"公历日期「{day}」应为 MM-DD(月-日)")
        return value


class Template(Strict):
    id: Id
    text: str
    source: str | None = None
    direction: Literal["inbound", "outbound"] = "inbound"


class Greetings(Strict):
    utc_offset: str = Field(
        default="+08:00",
        pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$",
        description="the centre's clock for `kefu qa`: times that carry a time zone are read on it "
        "(the platform uses its own setting, KEFU_TIMEZONE, instead: see Rulebook.on_clock)",
    )
    default_greeting: str = "您好"
    opening: str = Field(description="opening template; {greeting} is filled in")
    closing: str
    time_of_day: list[TimeGreeting] = Field(default_factory=list)
    weekday_closings: list[WeekdayClosing] = Field(default_factory=list)
    holidays: list[Holiday] = Field(default_factory=list)
    templates: list[Template] = Field(default_factory=list)
    _zone: tzinfo | None = PrivateAttr(default=None)

    @property
    def tz(self) -> tzinfo:
        """The clock greetings are chosen on: the platform's zone if set (``Rulebook.on_clock``),
        else ``utc_offset``."""
        if self._zone is not None:
            return self._zone
        sign = -1 if self.utc_offset.startswith("-") else 1
        hours, minutes = self.utc_offset[1:].split(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


class Stage(Strict):
    id: Id
    name: str
    source: str | None = None


class Script(Strict):
    id: Id
    stage: Id
    scenario: str
    title: str
    steps: list[str] = Field(min_length=1)
    avoid: list[str] = Field(default_factory=list)
    source: str


# ---------------------------------------------------------------- files


class Rulebook(Strict):
    """The merged rulebook: the shipped defaults with a centre's file laid over them."""

    version: str
    name: str
    company: str | None = Field(default=None, description="used when a transcript names none")
    pass_line: float = Field(default=80, ge=0, le=100)
    categories: dict[Id, Category]
    greetings: Greetings
    phrase_sets: dict[Id, PhraseSet] = Field(default_factory=dict)
    stages: list[Stage] = Field(default_factory=list)
    scripts: list[Script] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)

    def on_clock(self, zone: tzinfo) -> Rulebook:
        """The same rulebook with greetings chosen on ``zone`` instead of ``greetings.utc_offset``:
        inside the platform the centre's clock is one setting (KEFU_TIMEZONE) for calls, SLA,
        work orders and greetings alike."""
        greetings = self.greetings.model_copy()
        greetings._zone = zone
        return self.model_copy(update={"greetings": greetings})

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


TurnCond.model_rebuild()
Window.model_rebuild()
CallCond.model_rebuild()

Loc = tuple[str | int, ...]  # where in a rule: ("when", 0, "set")


def referenced_sets(rule: Rule) -> Iterator[tuple[Loc, str]]:
    """Every phrase-set name a rule uses, with where it is used."""

    def walk(node: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
        if isinstance(node, TurnCond | CallCond):
            for name in node.model_fields_set:
                value = getattr(node, name)
                key = type(node).model_fields[name].alias or name
                if name in ("set", "only") and isinstance(node, TurnCond):
                    names = [value] if isinstance(value, str) else value
                    for position, set_name in enumerate(names):
                        yield (
                            ((*loc, key) if isinstance(value, str) else (*loc, key, position)),
                            set_name,
                        )
                else:
                    yield from walk(value, (*loc, key))
        elif isinstance(node, list):
            for position, item in enumerate(node):
                yield from walk(item, (*loc, position))
        elif hasattr(node, "model_fields_set"):
            for name in node.model_fields_set:
                yield from walk(getattr(node, name), (*loc, name))

    for part in ("when", "forbid", "require", "at", "checklist"):
        yield from walk(getattr(rule, part), (part,))
