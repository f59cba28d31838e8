"""SLA of work orders: response and resolution deadlines counted in business hours.

Pure functions, no database: they read an order's type, priority, status, ``created_at``,
``promised_at`` and its events (``at``, ``kind``, ``from_status``, ``to_status``, ``data``).

Business hours
    The centre's service hours are the union of its shifts (seed 004: 早班 08:00–16:00,
    中班 12:00–20:00, 晚班 16:00–24:00 → 08:00–24:00, 16 hours a day), on the centre's clock
    (``KEFU_TIMEZONE``, see ``kefu.core.clock``). Official public holidays
    (法定节假日, from ``chinese_calendar``: the whole holiday span, including weekend days inside
    it) are skipped. Ordinary weekends are NOT skipped by default: the hotline runs seven days a
    week (seed 004: 实行轮班制, 每周工作5天 is per agent, not per centre). A centre that works
    office days only sets ``KEFU_SLA_SKIP_WEEKENDS=true`` and then the official working-day
    calendar applies (调休 make-up Saturdays count, weekends do not). Outside the years that
    ``chinese_calendar`` knows, no day is taken as a holiday (and with ``skip_weekends``, Monday
    to Friday are working days).

Paused clock
    A clock only runs while the order is in a status that the clock measures: while the order
    waits on the customer (待客户回复) every clock stands still; the time an order spends 已解决
    does not count towards its resolution if the customer reopens it.

Complaints
    Complaint orders follow the four stages of seed 004's 投诉处理流程, each with its own time
    limit, counted from the end of the previous stage: 接收与记录 (created → accepted, i.e. the
    order leaves 待处理), 分类与分级 (accepted → classified and graded), 处理与解决 (classified →
    resolved), 回访与跟进 (resolved → callback). Other types have 响应 (created → accepted) and
    解决 (created → resolved). A promised time (承诺时间, seed 001: 承诺办理时间) is a deadline
    too, on the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any, Protocol

import chinese_calendar
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from kefu.core.clock import centre_tz, parse_zone, utc_as_stored
from kefu.workorders.models import EventKind, OrderType, Priority, Status

# ---------------------------------------------------------------- service hours

# Seed 004 客服代表的职责/工作时间安排: 早班(8:00-16:00)、中班(12:00-20:00)、晚班(16:00-24:00).
SHIFTS: dict[str, str] = {"早班": "08:00-16:00", "中班": "12:00-20:00", "晚班": "16:00-24:00"}


class SlaSettings(BaseSettings):
    """``KEFU_SLA_…``; e.g. ``KEFU_SLA_SHIFTS='{"白班": "09:00-18:00"}'``."""

    model_config = SettingsConfigDict(env_prefix="KEFU_SLA_", extra="ignore")

    shifts: dict[str, str] = Field(default_factory=lambda: dict(SHIFTS), description="班次 → HH:MM-HH:MM")
    skip_holidays: bool = Field(default=True, description="official public holidays do not count")
    skip_weekends: bool = Field(default=False, description="only official working days count")
    # The centre's clock is not an SLA setting: KEFU_TIMEZONE (kefu.core.clock.centre_tz).


def _minutes(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(minutes) < 60):
        raise ValueError(f"班次时间「{text.strip()}」格式不正确,应为 HH:MM")
    value = int(hours) * 60 + int(minutes)
    if value > 24 * 60:
        raise ValueError(f"班次时间「{text.strip()}」超出 00:00–24:00")
    return value


def parse_shift(spec: str) -> list[tuple[int, int]]:
    """「08:00-16:00」 → minutes after midnight; a shift past midnight (「23:30-07:30」, seed 002
    夜间服务) splits into the evening part and the early part of the next day."""
    start_text, sep, end_text = spec.replace("–", "-").partition("-")
    if not sep:
        raise ValueError(f"班次「{spec}」格式不正确,应为 HH:MM-HH:MM")
    start, end = _minutes(start_text), _minutes(end_text)
    if start == end:
        raise ValueError(f"班次「{spec}」的开始和结束时间相同")
    return [(start, end)] if start < end else [(start, 24 * 60), (0, end)]


def merge_windows(windows: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[list[int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged if end > start)


SERVICE_WINDOWS = merge_windows(w for spec in SHIFTS.values() for w in parse_shift(spec))  # 08:00–24:00


@dataclass(frozen=True)
class BusinessCalendar:
    """When the SLA clock runs: daily service windows (minutes after local midnight) on the
    centre's clock, minus skipped days."""

    windows: tuple[tuple[int, int], ...] = SERVICE_WINDOWS
    tz: tzinfo = field(default_factory=centre_tz)
    skip_holidays: bool = True
    skip_weekends: bool = False

    @classmethod
    def from_shifts(
        cls,
        shifts: Mapping[str, str] | Iterable[str],
        *,
        tz: str | tzinfo | None = None,
        skip_holidays: bool = True,
        skip_weekends: bool = False,
    ) -> BusinessCalendar:
        specs = shifts.values() if isinstance(shifts, Mapping) else shifts
        windows = merge_windows(w for spec in specs for w in parse_shift(spec))
        if not windows:
            raise ValueError("至少需要一个班次")
        return cls(
            windows=windows,
            tz=centre_tz() if tz is None else parse_zone(tz) if isinstance(tz, str) else tz,
            skip_holidays=skip_holidays,
            skip_weekends=skip_weekends,
        )

    @classmethod
    def from_settings(cls, settings: SlaSettings | None = None, *, tz: tzinfo | None = None) -> BusinessCalendar:
        """The ``KEFU_SLA_…`` settings on the centre's clock (``tz``, default KEFU_TIMEZONE)."""
        settings = settings or SlaSettings()
        return cls.from_shifts(
            settings.shifts,
            tz=tz if tz is not None else centre_tz(),
            skip_holidays=settings.skip_holidays,
            skip_weekends=settings.skip_weekends,
        )

    @property
    def hours_per_day(self) -> float:
        return sum(end - start for start, end in self.windows) / 60

    def is_service_day(self, day: date) -> bool:
        try:
            if self.skip_weekends:
                return bool(chinese_calendar.is_workday(day))
            if self.skip_holidays:
                holiday, name = chinese_calendar.get_holiday_detail(day)
                return not (holiday and name is not None)  # a named holiday, not a plain weekend
        except NotImplementedError:  # a year chinese_calendar has no data for
            return day.weekday() < 5 if self.skip_weekends else True
        return True

    def day_windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The day's service windows as UTC instants."""
        return _day_windows(self, day)

    def local(self, moment: datetime) -> datetime:
        return utc_as_stored(moment).astimezone(self.tz)

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end)."""
        start, end = utc_as_stored(start), utc_as_stored(end)
        total = timedelta(0)
        if end <= start:
            return total
        day, last = self.local(start).date(), self.local(end).date()
        while day <= last:
            for window_start, window_end in self.day_windows(day):
                overlap = min(window_end, end) - max(window_start, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The first moment by which ``duration`` of business time has passed since ``start``."""
        start = utc_as_stored(start)
        remaining = duration
        if remaining <= timedelta(0):
            return start
        day = self.local(start).date()
        for _ in range(MAX_DAYS):
            for window_start, window_end in self.day_windows(day):
                begin = max(window_start, start)
                if window_end <= begin:
                    continue
                if window_end - begin >= remaining:
                    return begin + remaining
                remaining -= window_end - begin
            day += timedelta(days=1)
        raise ValueError(f"{MAX_DAYS} 天内没有足够的服务时间,请检查班次和节假日设置")


MAX_DAYS = 3660


@lru_cache(maxsize=8192)
def _day_windows(calendar: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    if not calendar.is_service_day(day):
        return ()
    midnight = datetime.combine(day, time(0), tzinfo=calendar.tz)
    return tuple(
        (
            (midnight + timedelta(minutes=start)).astimezone(UTC),
            (midnight + timedelta(minutes=end)).astimezone(UTC),
        )
        for start, end in calendar.windows
    )


# ---------------------------------------------------------------- the SLA table

# Clock names: what the pages show and what an escalation names.
RESPONSE = "响应"
RESOLUTION = "解决"
PROMISE = "承诺时间"
RECEIVE, CLASSIFY, HANDLE, CALLBACK = "接收与记录", "分类与分级", "处理与解决", "回访与跟进"
COMPLAINT_STAGES = (RECEIVE, CLASSIFY, HANDLE, CALLBACK)  # seed 004 投诉处理流程, in order


def _m(minutes: int) -> timedelta:
    return timedelta(minutes=minutes)


def _h(hours: int) -> timedelta:
    return timedelta(hours=hours)


# SLA_TABLE: business time allowed per type × priority; one service day is 16 business hours
# (08:00–24:00). What comes from a seed and what is ours:
#   - the business hours: seed 004 shifts; holidays: the official calendar (chinese_calendar);
#   - the four complaint stages and their order: seed 004 投诉处理流程 (接收与记录 → 分类与分级 →
#     处理与解决 → 回访与跟进; 「设定合理的处理时限并告知客户」); seed 003 lists 时限控制 for
#     投诉处理 / 申诉处理 / 升级投诉处理 and that overdue complaints are escalated, without numbers;
#   - 1 hour to classify an urgent complaint follows seed 003's model answer 「我会跟工程部协商一下,
#     一小时后给您一个答复」;
#   - every other number is ours: a common hotline practice (urgent: answer within 15 minutes and
#     solve within half a service day; low: answer the same day and solve within a week), to be
#     replaced by the centre's own agreement.
SLA_TABLE: dict[OrderType, dict[Priority, dict[str, timedelta]]] = {
    OrderType.CONSULTATION: {
        Priority.URGENT: {RESPONSE: _m(15), RESOLUTION: _h(4)},
        Priority.HIGH: {RESPONSE: _m(30), RESOLUTION: _h(8)},
        Priority.MEDIUM: {RESPONSE: _h(1), RESOLUTION: _h(16)},  # 1 service day
        Priority.LOW: {RESPONSE: _h(4), RESOLUTION: _h(32)},  # 2 service days
    },
    OrderType.FAULT: {
        Priority.URGENT: {RESPONSE: _m(15), RESOLUTION: _h(4)},
        Priority.HIGH: {RESPONSE: _m(30), RESOLUTION: _h(16)},
        Priority.MEDIUM: {RESPONSE: _h(1), RESOLUTION: _h(32)},
        Priority.LOW: {RESPONSE: _h(4), RESOLUTION: _h(80)},  # 5 service days
    },
    # A suggestion is 'resolved' once recorded and passed on to the department (seed 002: 如实、
    # 详细地记录 … 生成建议工单; no promise to the customer), so it is not urgent by nature.
    OrderType.SUGGESTION: {
        Priority.URGENT: {RESPONSE: _h(1), RESOLUTION: _h(16)},
        Priority.HIGH: {RESPONSE: _h(4), RESOLUTION: _h(32)},
        Priority.MEDIUM: {RESPONSE: _h(8), RESOLUTION: _h(80)},
        Priority.LOW: {RESPONSE: _h(16), RESOLUTION: _h(160)},  # 10 service days
    },
    OrderType.COMPLAINT: {
        Priority.URGENT: {RECEIVE: _m(15), CLASSIFY: _h(1), HANDLE: _h(4), CALLBACK: _h(8)},
        Priority.HIGH: {RECEIVE: _m(30), CLASSIFY: _h(2), HANDLE: _h(16), CALLBACK: _h(16)},
        Priority.MEDIUM: {RECEIVE: _h(1), CLASSIFY: _h(4), HANDLE: _h(32), CALLBACK: _h(32)},
        Priority.LOW: {RECEIVE: _h(2), CLASSIFY: _h(8), HANDLE: _h(48), CALLBACK: _h(48)},
    },
}


@dataclass(frozen=True)
class SlaPolicy:
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    table: Mapping[OrderType, Mapping[Priority, Mapping[str, timedelta]]] = field(default_factory=lambda: SLA_TABLE)

    def limits(self, order_type: OrderType, priority: Priority) -> Mapping[str, timedelta]:
        return self.table[order_type][priority]


def default_policy() -> SlaPolicy:
    """The SLA table with the calendar of the ``KEFU_SLA_…`` settings (read once) on the
    centre's clock (KEFU_TIMEZONE)."""
    return _policy_on(centre_tz())


@lru_cache(maxsize=4)
def _policy_on(tz: tzinfo) -> SlaPolicy:
    return SlaPolicy(calendar=BusinessCalendar.from_settings(tz=tz))


# ---------------------------------------------------------------- deadlines of an order


class EventLike(Protocol):
    at: datetime
    kind: EventKind
    from_status: Status | None
    to_status: Status | None
    data: dict[str, Any] | None


class OrderLike(Protocol):
    type: OrderType
    priority: Priority
    status: Status
    created_at: datetime
    promised_at: datetime | None

    @property
    def events(self) -> Sequence[EventLike]: ...


@dataclass(frozen=True)
class Deadline:
    """One clock of an order. ``due`` is when the limit is (or was) reached; None while the clock
    has not started, or stands still (待客户回复) with time left, or stopped in time."""

    name: str
    limit: timedelta | None  # business time allowed; None for the promised time (a wall-clock moment)
    started_at: datetime | None
    due: datetime | None
    met_at: datetime | None
    used: timedelta  # business time the clock has run (until met, or until ``now``)
    paused: bool = False

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def met(self) -> bool:
        return self.met_at is not None

    @property
    def late(self) -> bool:
        """Met, but after the limit."""
        return self.met_at is not None and self.due is not None and self.due <= self.met_at

    @property
    def remaining(self) -> timedelta | None:
        return None if self.limit is None else self.limit - self.used

    def overdue(self, now: datetime) -> bool:
        return self.met_at is None and self.due is not None and self.due <= utc_as_stored(now)

    @property
    def key(self) -> str:
        """Identifies one miss of this deadline: escalating it twice is recognised."""
        return f"{self.name}@{self.due.isoformat() if self.due else '-'}"


_FOREVER = datetime.max.replace(tzinfo=UTC)
_CLOSED = frozenset({Status.RESOLVED, Status.CLOSED})


@dataclass(frozen=True)
class _Timeline:
    """The order's history as status intervals and milestones."""

    intervals: tuple[tuple[Status, datetime, datetime], ...]  # the last one ends at _FOREVER
    status: Status
    created_at: datetime
    responded_at: datetime | None  # left 待处理 the first time
    classified_at: datetime | None
    resolved_at: datetime | None  # the latest resolution, if resolved or closed now
    callback_at: datetime | None  # the first callback after that resolution

    @classmethod
    def of(cls, order: OrderLike) -> _Timeline:
        created = utc_as_stored(order.created_at)
        events = sorted(order.events, key=lambda e: utc_as_stored(e.at))
        status, since = Status.NEW, created
        intervals: list[tuple[Status, datetime, datetime]] = []
        responded = classified = last_resolved = None
        callbacks: list[datetime] = []
        for event in events:
            at = utc_as_stored(event.at)
            if event.kind == EventKind.CLASSIFY and classified is None:
                classified = at
            if event.kind == EventKind.CALLBACK:
                callbacks.append(at)
            target = event.to_status
            if target is None or target == status:
                continue
            if status == Status.NEW and responded is None:
                responded = at
            if target == Status.RESOLVED:
                last_resolved = at
            intervals.append((status, since, at))
            status, since = target, at
        intervals.append((status, since, _FOREVER))
        resolved = last_resolved if status in _CLOSED else None
        callback = next((at for at in callbacks if resolved is not None and at >= resolved), None)
        return cls(tuple(intervals), status, created, responded, classified, resolved, callback)


def _clock(
    name: str,
    limit: timedelta,
    started: datetime | None,
    met: datetime | None,
    running: frozenset[Status],
    timeline: _Timeline,
    calendar: BusinessCalendar,
    now: datetime,
) -> Deadline:
    if started is None:
        return Deadline(name, limit, None, None, None, timedelta(0))
    stop = met or _FOREVER
    pieces = [
        (max(begin, started), min(end, stop))
        for status, begin, end in timeline.intervals
        if status in running and min(end, stop) > max(begin, started)
    ]
    due, left = None, limit
    for begin, end in pieces:
        span = None if end == _FOREVER else calendar.between(begin, end)
        if span is None or span >= left:
            due = calendar.add(begin, left)
            break
        left -= span
    used = sum((calendar.between(begin, min(end, now)) for begin, end in pieces if begin < now), timedelta(0))
    paused = met is None and timeline.status not in running
    return Deadline(name, limit, started, due, met, used, paused)


def deadlines(order: OrderLike, now: datetime | None = None, policy: SlaPolicy | None = None) -> list[Deadline]:
    """The order's clocks in order; ``now`` only matters for ``used`` (default: the present)."""
    policy = policy or default_policy()
    now = utc_as_stored(now) if now is not None else datetime.now(UTC)
    limits = policy.limits(order.type, order.priority)
    timeline = _Timeline.of(order)
    calendar = policy.calendar
    waiting_to_start = frozenset({Status.NEW})
    working = frozenset({Status.NEW, Status.IN_PROGRESS})
    in_progress = frozenset({Status.IN_PROGRESS})
    resolved = frozenset({Status.RESOLVED})
    out: list[Deadline] = []
    if order.type == OrderType.COMPLAINT:
        received = _clock(
            RECEIVE,
            limits[RECEIVE],
            timeline.created_at,
            timeline.responded_at,
            waiting_to_start,
            timeline,
            calendar,
            now,
        )
        classified_at = None
        if timeline.classified_at is not None and received.met_at is not None:
            classified_at = max(timeline.classified_at, received.met_at)
        classified = _clock(
            CLASSIFY, limits[CLASSIFY], received.met_at, classified_at, in_progress, timeline, calendar, now
        )
        handled = _clock(
            HANDLE, limits[HANDLE], classified.met_at, timeline.resolved_at, working, timeline, calendar, now
        )
        called_back = _clock(
            CALLBACK, limits[CALLBACK], timeline.resolved_at, timeline.callback_at, resolved, timeline, calendar, now
        )
        out += [received, classified, handled, called_back]
    else:
        created = timeline.created_at
        out.append(
            _clock(
                RESPONSE, limits[RESPONSE], created, timeline.responded_at, waiting_to_start, timeline, calendar, now
            )
        )
        out.append(
            _clock(RESOLUTION, limits[RESOLUTION], created, timeline.resolved_at, working, timeline, calendar, now)
        )
    if order.promised_at is not None:
        out.append(
            Deadline(
                PROMISE, None, timeline.created_at, utc_as_stored(order.promised_at), timeline.resolved_at, timedelta(0)
            )
        )
    return out


def overdue(order: OrderLike, now: datetime, policy: SlaPolicy | None = None) -> list[Deadline]:
    """The deadlines the order has missed and not yet met: what to highlight and escalate."""
    if order.status == Status.CLOSED:
        return []
    return [deadline for deadline in deadlines(order, now, policy) if deadline.overdue(now)]


def next_due(order: OrderLike, now: datetime | None = None, policy: SlaPolicy | None = None) -> datetime | None:
    """The earliest deadline still to meet (for 'my open orders by deadline')."""
    return earliest_due(deadlines(order, now, policy))


def earliest_due(computed: Iterable[Deadline]) -> datetime | None:
    return min((d.due for d in computed if d.met_at is None and d.due is not None), default=None)


# ---------------------------------------------------------------- wording


def describe_duration(duration: timedelta) -> str:
    """「1 小时 30 分钟」."""
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} 小时"] if hours else []) + ([f"{minutes} 分钟"] if minutes or not hours else [])
    return " ".join(parts)


def describe_overdue(deadline: Deadline, calendar: BusinessCalendar | None = None) -> str:
    calendar = calendar or default_policy().calendar
    due = calendar.local(deadline.due).strftime("%m月%d日 %H:%M") if deadline.due else "?"
    if deadline.limit is None:
        return f"已超过承诺时间({due}),尚未解决"
    return f"「{deadline.name}」超时:时限 {describe_duration(deadline.limit)}(工作时间),已于 {due} 到期"
