"""Bodies and answers of the workforce API (and the pages, which post the same bodies)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from kefu.core.fields import CentreTime, Id, Version
from kefu.workforce.models import LeaveKind, RequestStatus, RosterStatus

Note = Field(min_length=1, max_length=500)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DraftIn(Body):
    week_start: date = Field(description="排班周的周一(中心日历)")
    version: Version | None = Field(default=None, description="重新生成已有草稿时:页面上草稿的版本号")


class CellIn(Body):
    agent_id: Id
    day: date
    shift: str | None = Field(default=None, max_length=16, description="班次代码;空为休息")


class AdjustIn(Body):
    version: Version
    cells: list[CellIn] = Field(min_length=1, max_length=5000)
    reason: str | None = Field(default=None, max_length=500, description="已发布的排班修订时必填")


class PublishIn(Body):
    version: Version
    late_reason: str | None = Field(default=None, max_length=500, description="不足提前天数发布时必填")


class LeaveIn(Body):
    first_day: date
    last_day: date
    kind: LeaveKind
    reason: str = Note
    agent_id: Id | None = Field(default=None, description="代人申请时填写(班组长、主管)")


class DecisionIn(Body):
    approve: bool
    version: Version
    note: str | None = Field(default=None, max_length=500, description="拒绝或特批时必填")


class SwapIn(Body):
    partner_id: Id
    day: date
    note: str = Note


class AgreeIn(Body):
    agree: bool
    version: Version


class ShiftOut(BaseModel):
    code: str
    label: str
    start: str  # 08:00
    end: str  # 16:00 (次日 07:30 for a shift past midnight)
    hours: float


class RosterRow(BaseModel):
    agent_id: int
    agent_no: str
    name: str
    team: str | None
    stage: str | None = None  # 在训 / 待考 / 需重新培训: a new hire not on duty yet, never rostered
    shifts: list[str | None]  # one per day of the week
    leave: list[bool]
    nights: int
    weekends: int


class Problem(BaseModel):
    agent_no: str
    day: date | None
    kind: str  # leave, rest (hard rules) or days (the week's working days)
    text: str


class RevisionOut(BaseModel):
    revision: int
    at: CentreTime
    by: str
    reason: str
    changes: list[dict[str, object]]


class RosterOut(BaseModel):
    id: int
    week_start: date
    days: list[date]
    status: RosterStatus
    revision: int
    version: int
    published_at: CentreTime | None
    late_reason: str | None
    shifts: list[ShiftOut]
    rows: list[RosterRow]
    requirement: list[list[int]]  # agents on the roster per day × half hour
    scheduled: list[list[int]]
    shortfall: list[tuple[date, str, int]]  # day, 08:00, agents missing
    gaps: list[str]  # half hours no shift covers: 07:30
    problems: list[Problem]
    basis: dict[str, object]
    revisions: list[RevisionOut]


class ForecastOut(BaseModel):
    week_start: date
    minutes: int
    days: list[date]
    forecast: list[list[float]]  # calls per day × interval
    actual: list[list[int]] | None  # None for a week not begun
    aht: list[list[float]]
    model_wape: float | None
    baseline_wape: float | None
    backtest_weeks: int
    week_wape: float | None  # the forecast against the week's actual calls so far


class LeaveOut(BaseModel):
    id: int
    version: int
    agent_id: int
    agent_no: str
    agent_name: str
    first_day: date
    last_day: date
    kind: LeaveKind
    reason: str
    late: bool
    status: RequestStatus
    decided_by: str | None
    decided_at: CentreTime | None
    decision_note: str | None
    created_at: CentreTime


class SwapOut(BaseModel):
    id: int
    version: int
    requester_id: int
    requester: str
    partner_id: int
    partner: str
    day: date
    requester_shift: str | None
    partner_shift: str | None
    note: str
    status: RequestStatus
    decision_note: str | None
    created_at: CentreTime


class NoticeOut(BaseModel):
    id: int
    at: CentreTime
    text: str
    read: bool


class MyDay(BaseModel):
    day: date
    shift: str | None  # the label: 早班 08:00–16:00
    leave: bool


class MyScheduleOut(BaseModel):
    weeks: list[tuple[date, bool, list[MyDay]]]  # week start, published, its days
    notices: list[NoticeOut]


class AdherenceDay(BaseModel):
    day: date
    shift: str | None
    scheduled_minutes: float
    present_minutes: float


class AdherenceRow(BaseModel):
    agent_id: int
    agent_no: str
    name: str
    team: str | None
    days: list[AdherenceDay]
    scheduled_minutes: float
    present_minutes: float

    @property
    def adherence(self) -> float | None:
        return self.present_minutes / self.scheduled_minutes if self.scheduled_minutes else None


class AttendanceFed(BaseModel):
    days: int
    agents: int
    through: date | None
