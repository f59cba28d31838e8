"""抽检方案: which calls go to human review each period, and the runs that draw them.

A run draws, per agent, calls of one period (on the centre's clock) whose current inspection is
done, matches the plan's filters and is not already under review; the draw is random but seeded,
so the same plan, period and seed always pick the same calls. The review tasks are dealt round
robin over the inspectors, so their loads differ by at most one.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord, Channel, Direction
from kefu.calls.reasons import current_reasons
from kefu.core import audit
from kefu.core.changes import apply_change, check_version, created
from kefu.core.clock import centre_tz, on_centre_clock, utc_as_stored
from kefu.core.db import get_or_404
from kefu.core.errors import Conflict, Invalid
from kefu.core.fields import Id
from kefu.core.security import Permission, Role, allowed
from kefu.quality.models import (
    Inspection,
    InspectionStatus,
    Period,
    Review,
    SamplingPlan,
    SamplingRun,
)
from kefu.quality.rulebooks import source_for

ENTITY = audit.AuditEntity.SAMPLING_PLAN
RUN_ENTITY = audit.AuditEntity.SAMPLING_RUN

DEFAULT_PLAN = "每周抽检"
# Seed 004 (通话质量 30%, 质检评分, 每周抽检) names the weekly sample but not its size: we take
# 5 calls per agent per week, enough to see a pattern without burying the inspectors.
DEFAULT_PER_AGENT = 5


class PlanFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score_min: float | None = Field(default=None, ge=0, le=100)
    score_max: float | None = Field(default=None, ge=0, le=100)
    rules: list[str] = Field(default_factory=list)  # any of these rules fired
    directions: list[Direction] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    min_seconds: float | None = Field(default=None, ge=0)  # talk time
    max_seconds: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ranges(self) -> PlanFilters:
        if self.score_min is not None and self.score_max is not None and self.score_min > self.score_max:
            raise ValueError("最低分不能高于最高分")
        if self.min_seconds is not None and self.max_seconds is not None and self.min_seconds > self.max_seconds:
            raise ValueError("最短通话时长不能长于最长通话时长")
        return self


class PlanData(BaseModel):
    """A plan as the user gives it: per agent a count or a percentage, not both."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    period: Period = Period.WEEKLY
    per_agent_count: int | None = Field(default=None, gt=0, le=1000)
    per_agent_percent: float | None = Field(default=None, gt=0, le=100)
    filters: PlanFilters = Field(default_factory=PlanFilters)
    inspector_ids: list[Id] | None = Field(default=None, max_length=100)  # None or empty: every active QA inspector
    active: bool = True

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("请填写方案名称")
        return value

    @model_validator(mode="after")
    def _size(self) -> PlanData:
        if (self.per_agent_count is None) == (self.per_agent_percent is None):
            raise ValueError("每名客服的抽检量请填写条数或比例(二选一)")
        return self


_FIELD_NAMES = {
    "name": "方案名称",
    "period": "周期",
    "per_agent_count": "每人条数",
    "per_agent_percent": "每人比例",
    "inspector_ids": "质检员",
    "score_min": "最低分",
    "score_max": "最高分",
    "min_seconds": "最短通话时长",
    "max_seconds": "最长通话时长",
    "directions": "呼叫方向",
    "channels": "渠道",
}


def plan_data(raw: dict[str, Any] | PlanData) -> PlanData:
    """Validate a plan (from a form or a script); ``Invalid`` with a message a user can act on."""
    if isinstance(raw, PlanData):
        return raw
    try:
        return PlanData.model_validate(raw)
    except ValidationError as error:
        problems = []
        for e in error.errors():
            where = [_FIELD_NAMES.get(str(p), str(p)) for p in e["loc"] if str(p) != "filters"]
            message = e["msg"].removeprefix("Value error, ")
            problems.append(f"{'.'.join(where)}:{message}" if where else message)
        raise Invalid(";".join(problems)) from None


# ---------------------------------------------------------------- plans


def list_plans(session: Session) -> list[SamplingPlan]:
    return list(session.scalars(select(SamplingPlan).order_by(SamplingPlan.id)))


def get_plan(session: Session, plan_id: int) -> SamplingPlan:
    plan = get_or_404(session, SamplingPlan, plan_id, "抽检方案")
    return plan


def qa_inspectors(session: Session) -> list[User]:
    """Every active QA inspector (the default pool of a plan without its own list)."""
    return list(session.scalars(select(User).where(User.role == Role.QA, User.active.is_(True)).order_by(User.id)))


def _check_references(session: Session, data: PlanData) -> None:
    if data.filters.rules:
        known = {rule.id for rule in source_for(session).active(session).rulebook.rules}
        unknown = [r for r in data.filters.rules if r not in known]
        if unknown:
            raise Invalid(f"规则 {'、'.join(unknown)} 不存在")
    if data.filters.reasons:
        catalogue = current_reasons()
        unknown = [r for r in data.filters.reasons if catalogue.get(r) is None]
        if unknown:
            raise Invalid(f"来电原因 {'、'.join(unknown)} 不存在")
    for user_id in data.inspector_ids or []:
        user = session.get(User, user_id)
        if user is None or not user.active or not allowed(user.role, Permission.QA_REVIEW):
            raise Invalid(f"用户 {user_id} 不是在岗的质检人员")


def _values(data: PlanData) -> dict[str, Any]:
    return {
        "name": data.name,
        "period": data.period,
        "per_agent_count": data.per_agent_count,
        "per_agent_percent": data.per_agent_percent,
        "filters": data.filters.model_dump(mode="json", exclude_defaults=True),
        "inspector_ids": sorted(set(data.inspector_ids)) if data.inspector_ids else None,
        "active": data.active,
    }


def do_save_plan(
    session: Session,
    actor_id: int | None,
    data: dict[str, Any] | PlanData,
    *,
    plan_id: int | None = None,
    version: int | None = None,
) -> SamplingPlan:
    """Create a plan (``plan_id`` None) or change one (``version``: the one the user saw)."""
    checked = plan_data(data)
    _check_references(session, checked)
    values = _values(checked)
    same_name = session.scalar(select(SamplingPlan.id).where(SamplingPlan.name == checked.name))
    if same_name is not None and same_name != plan_id:
        raise Conflict(f"已有名为「{checked.name}」的抽检方案")
    if plan_id is None:
        plan = SamplingPlan(**values, created_by=actor_id)
        session.add(plan)
        session.flush()
        audit.record(
            session,
            actor_id,
            "create",
            ENTITY,
            plan.id,
            created(values),
            detail=f"新建抽检方案「{plan.name}」",
        )
        return plan
    plan = get_plan(session, plan_id)
    what = f"抽检方案「{plan.name}」"
    apply_change(session, actor_id, plan, values, entity=ENTITY, what=what, version=version, detail=f"修改{what}")
    return plan


def do_delete_plan(session: Session, actor_id: int | None, plan_id: int, *, version: int | None = None) -> None:
    """Delete a plan with its runs; the review tasks it created stay (they lose their run)."""
    plan = get_plan(session, plan_id)
    check_version(plan, version, f"抽检方案「{plan.name}」")
    audit.record(session, actor_id, "delete", ENTITY, plan.id, detail=f"删除抽检方案「{plan.name}」")
    session.delete(plan)
    session.flush()


def ensure_default_plan(session: Session) -> SamplingPlan | None:
    """The weekly sample of seed 004, created once: never when a plan was ever saved before (so
    an edited, renamed or deleted default stays as the centre left it)."""
    if session.scalar(select(SamplingPlan.id).limit(1)) is not None:
        return None
    ever = session.scalar(select(audit.AuditEntry.id).where(audit.AuditEntry.entity == ENTITY).limit(1))
    if ever is not None:
        return None
    return do_save_plan(
        session, None, PlanData(name=DEFAULT_PLAN, period=Period.WEEKLY, per_agent_count=DEFAULT_PER_AGENT)
    )


# ---------------------------------------------------------------- periods


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC
    end: datetime  # UTC, excluded

    @property
    def label(self) -> str:
        start = self.start.astimezone(centre_tz()).date()
        last = (self.end.astimezone(centre_tz()) - timedelta(seconds=1)).date()
        return start.isoformat() if start == last else f"{start.isoformat()} 至 {last.isoformat()}"


def _period_start_day(period: Period, day: date) -> date:
    if period == Period.WEEKLY:
        return day - timedelta(days=day.weekday())
    if period == Period.MONTHLY:
        return day.replace(day=1)
    return day


def _next_day(period: Period, day: date) -> date:
    if period == Period.WEEKLY:
        return day + timedelta(days=7)
    if period == Period.MONTHLY:
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=centre_tz()).astimezone(UTC)


def period_window(period: Period, moment: date | datetime | None = None, *, now: datetime | None = None) -> Window:
    """The period containing ``moment`` (a day or a time, on the centre's clock); without one,
    the previous complete period before ``now``."""
    if moment is None:
        today = (now or datetime.now(UTC)).astimezone(centre_tz()).date()
        current = _period_start_day(period, today)
        first = _period_start_day(period, current - timedelta(days=1))
    else:
        if isinstance(moment, datetime):
            day = (moment if moment.tzinfo else moment.replace(tzinfo=centre_tz())).astimezone(centre_tz()).date()
        else:
            day = moment
        first = _period_start_day(period, day)
    return Window(_local_midnight(first), _local_midnight(_next_day(period, first)))


# ---------------------------------------------------------------- runs


def run_window(run: SamplingRun) -> Window:
    return Window(utc_as_stored(run.period_start), utc_as_stored(run.period_end))


def list_runs(session: Session, plan_id: int | None = None, limit: int = 100) -> list[SamplingRun]:
    query = select(SamplingRun).order_by(SamplingRun.period_start.desc(), SamplingRun.id.desc()).limit(limit)
    if plan_id is not None:
        query = query.where(SamplingRun.plan_id == plan_id)
    return list(session.scalars(query))


def run_task_counts(session: Session, run_ids: list[int]) -> dict[int, dict[str, int]]:
    """{run id: {"open": n, "done": n}} of the review tasks each run created."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"open": 0, "done": 0})
    if run_ids:
        rows = session.execute(
            select(Review.run_id, Review.status, func.count())
            .where(Review.run_id.in_(run_ids))
            .group_by(Review.run_id, Review.status)
        )
        for run_id, status, n in rows:
            counts[run_id][status.value] = n
    return dict(counts)


def _matches(inspection: Inspection, call: CallRecord, filters: PlanFilters) -> bool:
    score = inspection.machine_score
    if filters.score_min is not None and (score is None or score < filters.score_min):
        return False
    if filters.score_max is not None and (score is None or score > filters.score_max):
        return False
    if filters.rules:
        fired = {f.rule for f in inspection.findings if not f.manual}
        if not fired & set(filters.rules):
            return False
    if filters.directions and call.direction not in filters.directions:
        return False
    if filters.channels and call.channel not in filters.channels:
        return False
    if filters.reasons and call.reason not in filters.reasons:
        return False
    if filters.min_seconds is not None or filters.max_seconds is not None:
        talk = call.talk_seconds
        if talk is None:
            return False
        if filters.min_seconds is not None and talk < filters.min_seconds:
            return False
        if filters.max_seconds is not None and talk > filters.max_seconds:
            return False
    return True


def candidates(session: Session, plan: SamplingPlan, window: Window) -> dict[int | None, list[Inspection]]:
    """Per agent, the current done inspections of the period's calls that match the plan and are
    not under review yet (an open or completed sampling review)."""
    reviewed = select(Review.inspection_id).where(Review.calibration_id.is_(None))
    query = (
        select(Inspection)
        .join(CallRecord, CallRecord.id == Inspection.call_id)
        .where(
            Inspection.current.is_(True),
            Inspection.status == InspectionStatus.DONE,
            CallRecord.ring_at >= window.start,
            CallRecord.ring_at < window.end,
            Inspection.id.not_in(reviewed),
        )
        .order_by(Inspection.call_id)
    )
    filters = PlanFilters.model_validate(plan.filters or {})
    groups: dict[int | None, list[Inspection]] = defaultdict(list)
    for inspection in session.scalars(query).unique():
        if _matches(inspection, inspection.call, filters):
            groups[inspection.call.agent_id].append(inspection)
    return groups


def _how_many(plan: SamplingPlan, available: int) -> int:
    if available == 0:
        return 0
    if plan.per_agent_count is not None:
        return min(plan.per_agent_count, available)
    share = math.ceil(available * float(plan.per_agent_percent or 0) / 100 - 1e-9)
    return min(available, max(1, share))


def _inspectors(session: Session, plan: SamplingPlan) -> list[User]:
    if plan.inspector_ids:
        people = [session.get(User, i) for i in plan.inspector_ids]
        pool = [u for u in people if u is not None and u.active and allowed(u.role, Permission.QA_REVIEW)]
    else:
        pool = qa_inspectors(session)
    if not pool:
        raise Invalid("没有可分配复核任务的在岗质检员,请在方案中指定质检员")
    return pool


@dataclass(frozen=True)
class RunResult:
    run: SamplingRun
    reviews: list[Review]


def do_run_plan(
    session: Session,
    actor_id: int | None,
    plan_id: int,
    period_start: date | datetime | None = None,
    *,
    seed: int | None = None,
    now: datetime | None = None,
) -> RunResult:
    """Draw the plan's sample for one period (default: the previous complete one) and create the
    review tasks. Once per plan and period: a second run is a ``Conflict``."""
    from kefu.quality.review import create_review

    plan = get_plan(session, plan_id)
    if not plan.active:
        raise Invalid(f"抽检方案「{plan.name}」已停用,请先启用")
    window = period_window(plan.period, period_start, now=now)
    done = session.scalar(
        select(SamplingRun).where(SamplingRun.plan_id == plan.id, SamplingRun.period_start == window.start)
    )
    if done is not None:
        raise Conflict(
            f"抽检方案「{plan.name}」已抽取过 {window.label} 的通话(共 {done.calls} 通),同一周期不能重复抽取"
        )
    inspectors = _inspectors(session, plan)
    rng = random.Random(seed if seed is not None else f"{plan.id}:{window.start.isoformat()}")
    groups = candidates(session, plan, window)
    picked: list[Inspection] = []
    for agent_id in sorted(groups, key=lambda a: (a is None, a or 0)):
        pool = groups[agent_id]
        picked.extend(sorted(rng.sample(pool, _how_many(plan, len(pool))), key=lambda i: i.call_id))
    run = SamplingRun(
        plan_id=plan.id, period_start=window.start, period_end=window.end, created_by=actor_id, calls=len(picked)
    )
    session.add(run)
    session.flush()
    offset = rng.randrange(len(inspectors))  # who gets the first task: not always the same person
    reviews = [
        create_review(session, inspection.call_id, inspectors[(offset + n) % len(inspectors)].id, run_id=run.id)
        for n, inspection in enumerate(picked)
    ]
    audit.record(
        session,
        actor_id,
        "run",
        RUN_ENTITY,
        run.id,
        {"calls": [None, [i.call_id for i in picked]]},
        detail=f"抽检方案「{plan.name}」{window.label}:抽取 {len(picked)} 通,分给 {len(inspectors)} 名质检员",
    )
    return RunResult(run, reviews)


def local_label(moment: datetime | None) -> str:
    """A stored time on the centre's clock, for the pages."""
    return "" if moment is None else f"{on_centre_clock(moment):%Y-%m-%d %H:%M}"


def findings_rules(session: Session) -> list[tuple[str, str]]:
    """(rule id, name) of the active rulebook, for the filter form."""
    return [(rule.id, rule.name) for rule in source_for(session).active(session).rulebook.rules]
