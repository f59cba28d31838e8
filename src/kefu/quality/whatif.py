"""What-if: a draft rulebook tried on stored calls before it is published.

The chosen calls are inspected twice, in memory — with the published rulebook and with the
draft — and compared rule by rule (findings that appear, findings that disappear) and call by
call (score before and after, pass/fail turning). Nothing is stored: a what-if never changes a
scorecard, the call's score or the audit log.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.calls.models import CallRecord
from kefu.core.errors import Invalid, NotFound
from kefu.inspection.engine import Inspector
from kefu.inspection.scorecard import Finding, Report
from kefu.quality.models import Inspection, InspectionStatus, RulebookStatus, RulebookVersion
from kefu.quality.rulebooks import Active, source_for, validate
from kefu.rulebook.schema import Rulebook

MAX_CALLS = 2000  # one what-if; 500 calls take well under a second per rulebook
MOVERS = 10


@dataclass(frozen=True)
class Sample:
    """Which stored calls to try: the ids given, or the ``latest`` N inspected calls, or a
    ``random`` N (reproducible with ``seed``) rung in [since, until)."""

    call_ids: Sequence[int] | None = None
    latest: int | None = None
    random: int | None = None
    seed: int = 0
    since: datetime | None = None
    until: datetime | None = None

    def describe(self) -> str:
        if self.call_ids is not None:
            return f"指定的 {len(self.call_ids)} 通"
        if self.latest is not None:
            return f"最近质检的 {self.latest} 通"
        span = "全部日期"
        if self.since or self.until:
            span = f"{self.since:%Y-%m-%d} 起" if self.since else ""
            span += f"至 {self.until:%Y-%m-%d} 前" if self.until else ""
        return f"随机抽取 {self.random} 通({span},种子 {self.seed})"


@dataclass
class RuleChange:
    rule: str
    name: str
    category: str
    points_before: float | None  # None: the rule is not in (or disabled in) that rulebook
    points_after: float | None
    deduction_before: float | None
    deduction_after: float | None
    before: int = 0  # findings on the sample
    after: int = 0
    appeared: int = 0  # findings the draft makes that the published rulebook does not
    disappeared: int = 0
    calls_appeared: list[int] = field(default_factory=list)  # calls where it fires now and did not before
    calls_disappeared: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.appeared
            or self.disappeared
            or self.points_before != self.points_after
            or self.deduction_before != self.deduction_after
        )


@dataclass(frozen=True)
class CallMove:
    call_id: int
    external_id: str | None
    before: float
    after: float
    passed_before: bool
    passed_after: bool

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 1)


@dataclass
class WhatIfResult:
    before_label: str
    after_label: str
    sample: str
    calls: list[CallMove]
    rules: list[RuleChange]
    skipped: list[int]  # chosen calls without a transcript
    took_ms: int

    @property
    def mean_before(self) -> float | None:
        return round(sum(c.before for c in self.calls) / len(self.calls), 1) if self.calls else None

    @property
    def mean_after(self) -> float | None:
        return round(sum(c.after for c in self.calls) / len(self.calls), 1) if self.calls else None

    @property
    def pass_to_fail(self) -> int:
        return sum(1 for c in self.calls if c.passed_before and not c.passed_after)

    @property
    def fail_to_pass(self) -> int:
        return sum(1 for c in self.calls if not c.passed_before and c.passed_after)

    @property
    def moved(self) -> int:
        return sum(1 for c in self.calls if c.delta)

    @property
    def movers(self) -> list[CallMove]:
        """The biggest score moves, largest first (ties: the lower call id)."""
        moved = [c for c in self.calls if c.delta]
        return sorted(moved, key=lambda c: (-abs(c.delta), c.call_id))[:MOVERS]

    def histogram(self) -> list[tuple[str, int, int]]:
        """Score deltas by 5 points: (label, calls, sign), lowest first. Unchanged calls have a bin
        of their own; empty bins between the extremes are kept so the chart reads as an axis."""
        if not self.calls:
            return []
        counts: Counter[int] = Counter()
        for call in self.calls:  # bin k: (5k-5, 5k] above zero, [5k, 5k+5) below it, 0 exactly
            d = call.delta
            counts[0 if d == 0 else math.ceil(d / 5) if d > 0 else math.floor(d / 5)] += 1
        low, high = min(min(counts), 0), max(max(counts), 0)
        bins = []
        for k in range(low, high + 1):
            if k == 0:
                label = "0"
            elif k > 0:
                label = f"+{5 * k - 5}~+{5 * k}"
            else:
                label = f"{5 * k}~{5 * k + 5}"
            bins.append((label, counts.get(k, 0), (k > 0) - (k < 0)))
        return bins

    def public(self) -> WhatIfOut:
        return WhatIfOut.model_validate(
            {
                **{name: getattr(self, name) for name in WhatIfOut.model_fields if name != "call_count"},
                "call_count": len(self.calls),
            }
        )


class RuleChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    rule: str
    name: str
    category: str
    points_before: float | None
    points_after: float | None
    deduction_before: float | None
    deduction_after: float | None
    before: int = Field(description="findings on the sample with the published rulebook")
    after: int = Field(description="findings with the draft")
    appeared: int
    disappeared: int
    calls_appeared: list[int]
    calls_disappeared: list[int]


class MoverOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    call_id: int
    before: float
    after: float
    delta: float


class CallMoveOut(MoverOut):
    external_id: str | None
    passed_before: bool
    passed_after: bool


class WhatIfOut(BaseModel):
    """A draft tried on stored calls: nothing is stored."""

    model_config = ConfigDict(from_attributes=True)

    before_label: str
    after_label: str
    sample: str
    call_count: int
    skipped: list[int] = Field(description="chosen calls without a transcript")
    mean_before: float | None
    mean_after: float | None
    pass_to_fail: int
    fail_to_pass: int
    moved: int
    took_ms: int
    rules: list[RuleChangeOut]
    calls: list[CallMoveOut]
    movers: list[MoverOut] = Field(description="the biggest score moves, largest first")


# ---------------------------------------------------------------- choosing the calls


def choose_calls(session: Session, sample: Sample) -> list[CallRecord]:
    """The calls of ``sample`` (id order); ``Invalid``/``NotFound`` for a sample that makes no sense."""
    with_text = select(CallRecord).where(CallRecord.transcript.is_not(None))
    if sample.call_ids is not None:
        ids = sorted(set(sample.call_ids))
        if not ids:
            raise Invalid("请至少指定一通电话")
        if len(ids) > MAX_CALLS:
            raise Invalid(f"一次最多试运行 {MAX_CALLS} 通电话")
        found = list(session.scalars(select(CallRecord).where(CallRecord.id.in_(ids)).order_by(CallRecord.id)))
        missing = sorted(set(ids) - {c.id for c in found})
        if missing:
            raise NotFound(f"通话 {', '.join(map(str, missing))} 不存在")
        return found
    if sample.latest is not None:
        count = _count(sample.latest)
        inspected = (
            select(Inspection.call_id)
            .where(Inspection.current.is_(True), Inspection.status == InspectionStatus.DONE)
            .order_by(Inspection.inspected_at.desc(), Inspection.call_id.desc())
            .limit(count)
        )
        ids = list(session.scalars(inspected))
        return list(session.scalars(with_text.where(CallRecord.id.in_(ids)).order_by(CallRecord.id))) if ids else []
    if sample.random is not None:
        count = _count(sample.random)
        if sample.since and sample.until and sample.since >= sample.until:
            raise Invalid("日期范围有误:开始日期须早于结束日期")
        query = select(CallRecord.id).where(CallRecord.transcript.is_not(None))
        if sample.since is not None:
            query = query.where(CallRecord.ring_at >= sample.since)
        if sample.until is not None:
            query = query.where(CallRecord.ring_at < sample.until)
        pool = list(session.scalars(query.order_by(CallRecord.id)))
        ids = sorted(random.Random(sample.seed).sample(pool, min(count, len(pool))))
        return list(session.scalars(with_text.where(CallRecord.id.in_(ids)).order_by(CallRecord.id))) if ids else []
    raise Invalid("请选择试运行的电话:指定通话、最近质检的 N 通,或日期范围内随机 N 通")


def _count(value: int) -> int:
    if not 1 <= value <= MAX_CALLS:
        raise Invalid(f"抽样数量须在 1 到 {MAX_CALLS} 之间")
    return value


# ---------------------------------------------------------------- the run


def draft_rulebook(session: Session, draft: RulebookVersion | str) -> tuple[Inspector, Rulebook, str]:
    """The inspector of a draft (a stored version, or overlay YAML not saved yet). A draft is
    built afresh each time: its text may have changed since the last run (``Invalid`` if wrong)."""
    source = source_for(session)
    if isinstance(draft, RulebookVersion) and draft.status != RulebookStatus.DRAFT:
        active = source.prepare(draft)
        return active.inspector, active.rulebook, draft.label
    overlay = draft.overlay if isinstance(draft, RulebookVersion) else draft
    rulebook = validate(source, overlay)
    label = draft.label if isinstance(draft, RulebookVersion) else "未保存的草稿"
    return Inspector(rulebook), rulebook, label


def whatif(session: Session, draft: RulebookVersion | str, sample: Sample | Sequence[int]) -> WhatIfResult:
    """Inspect the sample with the published rulebook and with ``draft`` and compare them.
    Read only: nothing is added to the session."""
    started = time.perf_counter()
    if not isinstance(sample, Sample):
        sample = Sample(call_ids=list(sample))
    after_inspector, after_rulebook, after_label = draft_rulebook(session, draft)
    current: Active = source_for(session).active(session)
    before_label = current.version.label if current.version is not None else "默认规则(未发布版本)"
    calls = choose_calls(session, sample)

    rules = _rule_rows(current.rulebook, after_rulebook)
    moves: list[CallMove] = []
    skipped: list[int] = []
    for call in calls:
        transcript = call.to_transcript()
        if transcript is None:
            skipped.append(call.id)
            continue
        before = current.inspector.inspect(transcript)
        after = after_inspector.inspect(transcript)
        _compare(call.id, before, after, rules)
        moves.append(CallMove(call.id, call.external_id, before.score, after.score, before.passed, after.passed))
    ordered = sorted(rules.values(), key=lambda r: (not r.changed, -(r.appeared + r.disappeared), r.rule))
    return WhatIfResult(
        before_label=before_label,
        after_label=after_label,
        sample=sample.describe(),
        calls=moves,
        rules=ordered,
        skipped=skipped,
        took_ms=round((time.perf_counter() - started) * 1000),
    )


def _rule_rows(before: Rulebook, after: Rulebook) -> dict[str, RuleChange]:
    old = {r.id: r for r in before.rules if r.enabled}
    new = {r.id: r for r in after.rules if r.enabled}
    rows: dict[str, RuleChange] = {}
    for rule_id in [*new, *(k for k in old if k not in new)]:
        rule = new.get(rule_id) or old[rule_id]
        rows[rule_id] = RuleChange(
            rule=rule_id,
            name=rule.name,
            category=rule.category,
            points_before=old[rule_id].points if rule_id in old else None,
            points_after=new[rule_id].points if rule_id in new else None,
            deduction_before=old[rule_id].deduction if rule_id in old else None,
            deduction_after=new[rule_id].deduction if rule_id in new else None,
        )
    return rows


def _key(finding: Finding) -> tuple[object, ...]:
    """The same finding under both rulebooks: the rule, the turn and what it quotes."""
    return (finding.turn, finding.evidence_span, finding.evidence)


def _compare(call_id: int, before: Report, after: Report, rules: dict[str, RuleChange]) -> None:
    old: dict[str, Counter[tuple[object, ...]]] = {}
    new: dict[str, Counter[tuple[object, ...]]] = {}
    for finding in before.findings:
        old.setdefault(finding.rule, Counter())[_key(finding)] += 1
    for finding in after.findings:
        new.setdefault(finding.rule, Counter())[_key(finding)] += 1
    for rule_id in old.keys() | new.keys():
        row = rules.get(rule_id)
        if row is None:  # a finding of a rule the rulebook lists as disabled cannot happen; be safe
            continue
        was, now = old.get(rule_id, Counter()), new.get(rule_id, Counter())
        row.before += sum(was.values())
        row.after += sum(now.values())
        row.appeared += sum((now - was).values())
        row.disappeared += sum((was - now).values())
        if now and not was:
            row.calls_appeared.append(call_id)
        if was and not now:
            row.calls_disappeared.append(call_id)
