"""质检报表: figures over the current, done inspections of the calls that rang in a date range
(on the centre's clock), optionally of one team or one agent — the score distribution, the
weekly trend, the rules that cost most, per team and per agent — and the calls behind any bar.

Figures and drill-down read the same rows, so a bar's number is exactly the length of the list
it links to. Scores are the final ones (after review and appeals) unless named machine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core.clock import centre_tz, on_centre_clock, utc_for_storing
from kefu.core.errors import Invalid
from kefu.core.fields import MAX_ID
from kefu.core.spreadsheets import to_xlsx_book
from kefu.inspection.charts import BINS, bin_index
from kefu.quality.models import (
    Appeal,
    AppealStatus,
    Finding,
    FindingReview,
    Inspection,
    InspectionStatus,
    Review,
    ReviewStatus,
)

DEFAULT_DAYS = 28  # the page opens on the last four weeks
MAX_DAYS = 366
NO_TEAM = "-"  # the team key of agents without a team (and of calls without an agent)
NO_TEAM_LABEL = "未分组"
MANUAL_RULE = "manual"


@dataclass(frozen=True)
class ReportFilter:
    start: date  # ring day on the centre's clock, included
    end: date  # included
    team: str | None = None  # a team name, or NO_TEAM
    agent_id: int | None = None

    @property
    def query(self) -> dict[str, str]:
        """As a query string (links keep the filters)."""
        out = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.team:
            out["team"] = self.team
        if self.agent_id is not None:
            out["agent_id"] = str(self.agent_id)
        return out


def _day(value: str | None, label: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{label}「{value}」格式不正确,应为 2026-11-23 这样的日期") from None


def today() -> date:
    return datetime.now(centre_tz()).date()


def report_filter(
    start: str | None = None,
    end: str | None = None,
    team: str | None = None,
    agent_id: str | None = None,
    *,
    now: date | None = None,
) -> ReportFilter:
    """The filters as typed in the form or the query string; empty = default (the last four
    weeks, everyone). Wrong ones are ``Invalid`` with a Chinese message."""
    last = _day(end, "结束日期") or now or today()
    first = _day(start, "开始日期") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise Invalid(f"筛选条件有误:开始日期 {first} 晚于结束日期 {last}")
    if (last - first).days >= MAX_DAYS:
        raise Invalid(f"筛选条件有误:日期范围不能超过 {MAX_DAYS} 天")
    agent: int | None = None
    if agent_id is not None and agent_id.strip():
        try:
            agent = int(agent_id)
        except ValueError:
            agent = 0
        if not 1 <= agent <= MAX_ID:
            raise Invalid(f"筛选条件有误:客服「{agent_id}」不存在")
    return ReportFilter(first, last, (team or "").strip() or None, agent)


# ---------------------------------------------------------------------------- figures


@dataclass
class Bucket:
    low: int
    high: int
    calls: int


@dataclass
class Week:
    key: str  # 2026-W48
    monday: date
    calls: int
    mean_score: float | None
    passed: int
    pass_rate: float | None  # 0–1


@dataclass
class RuleCount:
    rule: str
    rule_name: str
    findings: int  # counted findings (not overturned, no upheld appeal)
    calls: int  # calls with at least one


@dataclass
class Group:
    key: str  # team name (NO_TEAM) or agent id
    name: str
    team: str | None
    calls: int
    mean_machine: float | None
    mean_final: float | None
    passed: int
    pass_rate: float | None


@dataclass
class Figures:
    filters: ReportFilter
    calls: int
    mean_score: float | None
    pass_rate: float | None
    pass_line: float | None
    failed_inspections: int  # calls in range whose current inspection failed (not in the figures)
    buckets: list[Bucket]
    weeks: list[Week]
    rules: list[RuleCount]
    teams: list[Group]
    agents: list[Group]

    def public(self) -> ReportOut:
        return ReportOut(
            filters=self.filters.query,
            **{name: getattr(self, name) for name in ReportOut.model_fields if name != "filters"},
        )


class ReportOut(BaseModel):
    """The quality report as ``GET /api/quality/reports`` answers it."""

    filters: dict[str, str] = Field(description="the filters as a query string's parameters")
    calls: int
    mean_score: float | None
    pass_rate: float | None
    pass_line: float | None
    failed_inspections: int = Field(description="calls in range whose current inspection failed")
    buckets: list[Bucket]
    weeks: list[Week]
    rules: list[RuleCount]
    teams: list[Group]
    agents: list[Group]


def _range(filters: ReportFilter) -> tuple[datetime, datetime]:
    zone = centre_tz()
    first = utc_for_storing(datetime.combine(filters.start, time(), tzinfo=zone))
    after = utc_for_storing(datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=zone))
    return first, after


def _scoped(query: Select[Any], filters: ReportFilter, status: InspectionStatus = InspectionStatus.DONE) -> Select[Any]:
    """The current inspections of ``status`` of the calls in range, of the team / agent asked."""
    first, after = _range(filters)
    query = (
        query.join(CallRecord, CallRecord.id == Inspection.call_id)
        .outerjoin(User, User.id == CallRecord.agent_id)
        .where(
            Inspection.current.is_(True),
            Inspection.status == status,
            CallRecord.ring_at >= first,
            CallRecord.ring_at < after,
        )
    )
    if filters.team == NO_TEAM:
        query = query.where(or_(User.team.is_(None), User.team == ""))
    elif filters.team:
        query = query.where(User.team == filters.team)
    if filters.agent_id is not None:
        query = query.where(CallRecord.agent_id == filters.agent_id)
    return query


def _counted_findings() -> Any:
    """A finding that costs points now (as ``kefu.quality.service.counted_findings``): not
    overturned, no upheld appeal; a manual one only from the review that counts for the call."""
    latest_review = (
        select(Review.id)
        .where(
            Review.inspection_id == Inspection.id,
            Review.status == ReviewStatus.DONE,
            Review.calibration_id.is_(None),
        )
        .order_by(Review.completed_at.desc(), Review.id.desc())
        .limit(1)
        .correlate(Inspection)
        .scalar_subquery()
    )
    return and_(
        Finding.review != FindingReview.OVERTURNED,
        or_(Appeal.id.is_(None), Appeal.status != AppealStatus.UPHELD),
        or_(Finding.manual.is_(False), Finding.review_id == latest_review),
    )


def _rows(session: Session, filters: ReportFilter) -> list[Any]:
    query = _scoped(
        select(
            Inspection.call_id,
            CallRecord.external_id,
            CallRecord.ring_at,
            CallRecord.agent_id,
            User.name.label("agent_name"),
            User.agent_no,
            User.team,
            Inspection.machine_score,
            Inspection.final_score,
            Inspection.passed,
            Inspection.pass_line,
            Inspection.rulebook_label,
        ),
        filters,
    )
    return list(session.execute(query.order_by(CallRecord.ring_at, Inspection.call_id)))


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def _rate(passed: int, calls: int) -> float | None:
    return round(passed / calls, 4) if calls else None


def week_key(moment: datetime) -> str:
    year, week, _ = on_centre_clock(moment).isocalendar()
    return f"{year}-W{week:02d}"


def _weeks_in(filters: ReportFilter) -> list[tuple[str, date]]:
    monday = filters.start - timedelta(days=filters.start.weekday())
    out = []
    while monday <= filters.end:
        year, week, _ = monday.isocalendar()
        out.append((f"{year}-W{week:02d}", monday))
        monday += timedelta(days=7)
    return out


def _group(key: str, name: str, team: str | None, calls: int, machine: Any, final: Any, passed: Any) -> Group:
    return Group(
        key=key,
        name=name,
        team=team,
        calls=calls,
        mean_machine=None if machine is None else round(float(machine), 1),
        mean_final=None if final is None else round(float(final), 1),
        passed=int(passed or 0),
        pass_rate=_rate(int(passed or 0), calls),
    )


def figures(session: Session, filters: ReportFilter, *, top: int = 10) -> Figures:
    rows = _rows(session, filters)
    scored = [r for r in rows if r.final_score is not None]
    counts = [0] * len(BINS)
    for row in scored:
        counts[bin_index(row.final_score)] += 1
    by_week: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_week[week_key(row.ring_at)].append(row)
    weeks = []
    for key, monday in _weeks_in(filters):
        members = by_week.get(key, [])
        passed = sum(1 for r in members if r.passed)
        weeks.append(
            Week(
                key, monday, len(members), _mean([r.final_score for r in members]), passed, _rate(passed, len(members))
            )
        )

    passed_sum = func.sum(case((Inspection.passed.is_(True), 1), else_=0))
    team_of = func.nullif(User.team, "")  # NULL and "" both mean no team
    team_rows = session.execute(
        _scoped(
            select(
                team_of,
                func.count(Inspection.id),
                func.avg(Inspection.machine_score),
                func.avg(Inspection.final_score),
                passed_sum,
            ),
            filters,
        ).group_by(team_of)
    )
    teams = [
        _group(team or NO_TEAM, team or NO_TEAM_LABEL, team, calls, machine, final, passed)
        for team, calls, machine, final, passed in team_rows
    ]
    agent_rows = session.execute(
        _scoped(
            select(
                CallRecord.agent_id,
                User.name,
                User.agent_no,
                User.team,
                func.count(Inspection.id),
                func.avg(Inspection.machine_score),
                func.avg(Inspection.final_score),
                passed_sum,
            ),
            filters,
        ).group_by(CallRecord.agent_id, User.name, User.agent_no, User.team)
    )
    agents = [
        _group(
            str(agent_id) if agent_id is not None else NO_TEAM,
            f"{name}({agent_no})" if name else "无客服",
            team,
            calls,
            machine,
            final,
            passed,
        )
        for agent_id, name, agent_no, team, calls, machine, final, passed in agent_rows
    ]
    rule_rows = session.execute(
        _scoped(
            select(
                Finding.rule,
                func.max(Finding.rule_name),
                func.count(Finding.id),
                func.count(func.distinct(Finding.inspection_id)),
            )
            .select_from(Finding)
            .join(Inspection, Inspection.id == Finding.inspection_id)
            .outerjoin(Appeal, Appeal.finding_id == Finding.id),
            filters,
        )
        .where(_counted_findings())
        .group_by(Finding.rule)
    )
    rules = [RuleCount(rule, "人工发现" if rule == MANUAL_RULE else name, n, c) for rule, name, n, c in rule_rows]
    rules.sort(key=lambda r: (-r.findings, -r.calls, r.rule))
    failed = session.scalar(_scoped(select(func.count(Inspection.id)), filters, InspectionStatus.FAILED)) or 0
    passed_all = sum(1 for r in rows if r.passed)
    pass_lines = [r.pass_line for r in rows if r.pass_line is not None]
    return Figures(
        filters=filters,
        calls=len(rows),
        mean_score=_mean([r.final_score for r in rows]),
        pass_rate=_rate(passed_all, len(rows)),
        pass_line=min(pass_lines) if pass_lines else None,
        failed_inspections=failed,
        buckets=[Bucket(lo, hi, n) for (lo, hi), n in zip(BINS, counts, strict=True)],
        weeks=weeks,
        rules=rules[:top],
        teams=sorted(teams, key=lambda g: (g.mean_final is None, g.mean_final or 0, g.name)),
        agents=sorted(agents, key=lambda g: (g.mean_final is None, g.mean_final or 0, g.name)),
    )


# ---------------------------------------------------------------------------- drill-down


@dataclass
class CallRow:
    call_id: int
    external_id: str | None
    ring_at: datetime  # on the centre's clock
    agent_id: int | None
    agent: str
    team: str | None
    machine_score: float | None
    final_score: float | None
    passed: bool | None
    rulebook_label: str
    link: str = field(default="")


def _call_row(row: Any) -> CallRow:
    return CallRow(
        call_id=row.call_id,
        external_id=row.external_id,
        ring_at=on_centre_clock(row.ring_at),
        agent_id=row.agent_id,
        agent=f"{row.agent_name}({row.agent_no})" if row.agent_name else "无客服",
        team=row.team,
        machine_score=row.machine_score,
        final_score=row.final_score,
        passed=row.passed,
        rulebook_label=row.rulebook_label,
        link=f"/calls/{row.call_id}",
    )


def _bucket(value: str | int | None) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        low = int(value)
    except ValueError:
        low = -1
    if low not in [lo for lo, _ in BINS]:
        raise Invalid(f"分数段「{value}」不存在,应为 0、10、20 … 90")
    return bin_index(low)


def calls_behind(
    session: Session,
    filters: ReportFilter,
    *,
    bucket: str | int | None = None,
    week: str | None = None,
    rule: str | None = None,
) -> list[CallRow]:
    """The calls behind one bar: a score bucket (its lower bound, 0 … 90), an ISO week
    (2026-W48), a rule (calls with a counted finding of it); team and agent are the filters.
    Oldest first."""
    index = _bucket(bucket)
    week = (week or "").strip() or None
    if week is not None and week not in {key for key, _ in _weeks_in(filters)}:
        raise Invalid(f"周「{week}」不在所选日期范围内")
    rows = _rows(session, filters)
    if rule:
        with_rule = set(
            session.scalars(
                _scoped(
                    select(Inspection.call_id)
                    .select_from(Finding)
                    .join(Inspection, Inspection.id == Finding.inspection_id)
                    .outerjoin(Appeal, Appeal.finding_id == Finding.id),
                    filters,
                ).where(Finding.rule == rule, _counted_findings())
            )
        )
        rows = [r for r in rows if r.call_id in with_rule]
    if index is not None:
        rows = [r for r in rows if r.final_score is not None and bin_index(r.final_score) == index]
    if week is not None:
        rows = [r for r in rows if week_key(r.ring_at) == week]
    return [_call_row(r) for r in rows]


def describe(
    filters: ReportFilter,
    *,
    bucket: str | int | None = None,
    week: str | None = None,
    rule: str | None = None,
    rule_name: str | None = None,
    agent_name: str | None = None,
) -> str:
    """What a drill-down list shows, in words: 「2026-11-01 至 2026-11-28 · 一组 · 60–69 分」."""
    parts = [f"{filters.start} 至 {filters.end}"]
    if filters.team:
        parts.append(NO_TEAM_LABEL if filters.team == NO_TEAM else f"班组 {filters.team}")
    if filters.agent_id is not None:
        parts.append(f"客服 {agent_name or filters.agent_id}")
    index = _bucket(bucket)
    if index is not None:
        lo, hi = BINS[index]
        parts.append(f"{lo}–{hi} 分")
    if week:
        parts.append(f"第 {week} 周")
    if rule:
        parts.append(f"规则 {rule_name or rule}")
    return " · ".join(parts)


# ---------------------------------------------------------------------------- failed inspections


@dataclass
class FailedCall:
    call_id: int
    external_id: str | None
    ring_at: datetime
    agent: str
    error: str | None
    inspected_at: datetime
    link: str


def failed_calls(session: Session, limit: int = 500) -> list[FailedCall]:
    """Every call whose current inspection failed (待重新质检), oldest failure first."""
    query = (
        select(Inspection, CallRecord, User)
        .join(CallRecord, CallRecord.id == Inspection.call_id)
        .outerjoin(User, User.id == CallRecord.agent_id)
        .where(Inspection.current.is_(True), Inspection.status == InspectionStatus.FAILED)
        .order_by(Inspection.inspected_at, Inspection.id)
        .limit(limit)
    )
    return [
        FailedCall(
            call_id=call.id,
            external_id=call.external_id,
            ring_at=on_centre_clock(call.ring_at),
            agent=f"{user.name}({user.agent_no})" if user else "无客服",
            error=inspection.error,
            inspected_at=on_centre_clock(inspection.inspected_at),
            link=f"/calls/{call.id}",
        )
        for inspection, call, user in session.execute(query).unique()
    ]


# ---------------------------------------------------------------------------- Excel


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def export_xlsx(session: Session, filters: ReportFilter) -> bytes:
    """The report as .xlsx: one sheet per figure, then every call in it."""
    report = figures(session, filters, top=1000)
    calls = calls_behind(session, filters)
    group_header = ["通话数", "平均机检得分", "平均最终得分", "合格数", "合格率(%)"]

    def group_row(g: Group) -> list[Any]:
        return [g.calls, g.mean_machine, g.mean_final, g.passed, _percent(g.pass_rate)]

    return to_xlsx_book(
        [
            (
                "概况",
                ["开始日期", "结束日期", "班组", "客服", "通话数", "平均最终得分", "合格率(%)", "质检失败"],
                [
                    [
                        filters.start.isoformat(),
                        filters.end.isoformat(),
                        NO_TEAM_LABEL if filters.team == NO_TEAM else filters.team or "全部",
                        filters.agent_id if filters.agent_id is not None else "全部",
                        report.calls,
                        report.mean_score,
                        _percent(report.pass_rate),
                        report.failed_inspections,
                    ]
                ],
            ),
            ("分数分布", ["分数段", "通话数"], [[f"{b.low}-{b.high}", b.calls] for b in report.buckets]),
            (
                "每周趋势",
                ["周", "周一", "通话数", "平均最终得分", "合格数", "合格率(%)"],
                [
                    [w.key, w.monday.isoformat(), w.calls, w.mean_score, w.passed, _percent(w.pass_rate)]
                    for w in report.weeks
                ],
            ),
            (
                "问题规则",
                ["规则", "规则名称", "问题数", "涉及通话"],
                [[r.rule, r.rule_name, r.findings, r.calls] for r in report.rules],
            ),
            ("班组", ["班组", *group_header], [[g.name, *group_row(g)] for g in report.teams]),
            ("客服", ["客服", "班组", *group_header], [[g.name, g.team, *group_row(g)] for g in report.agents]),
            (
                "通话",
                ["通话", "通话编号", "振铃时间", "客服", "班组", "机检得分", "最终得分", "合格", "规则版本"],
                [
                    [
                        c.call_id,
                        c.external_id,
                        c.ring_at,
                        c.agent,
                        c.team,
                        c.machine_score,
                        c.final_score,
                        c.passed,
                        c.rulebook_label,
                    ]
                    for c in calls
                ],
            ),
        ]
    )
