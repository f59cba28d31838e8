"""SLA: business hours (shifts, holidays, weekends), paused clocks, complaint stages — no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core.clock import centre_tz
from kefu.workorders.models import EventKind, OrderType, Priority, Status
from kefu.workorders.sla import (
    SLA_TABLE,
    BusinessCalendar,
    SlaPolicy,
    SlaSettings,
    deadlines,
    describe_duration,
    next_due,
    overdue,
    parse_shift,
)

CAL = BusinessCalendar()
POLICY = SlaPolicy(calendar=CAL)


def at(day: str, clock: str) -> datetime:
    """A moment on the centre's clock: at("2026-11-23", "09:00")."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=centre_tz())


def local(moment: datetime | None) -> str:
    assert moment is not None
    return moment.astimezone(centre_tz()).strftime("%Y-%m-%d %H:%M")


@dataclass
class Event:
    at: datetime
    kind: EventKind
    from_status: Status | None = None
    to_status: Status | None = None
    data: dict[str, Any] | None = None


@dataclass
class Order:
    type: OrderType
    priority: Priority
    created_at: datetime
    events: list[Event] = field(default_factory=list)
    status: Status = Status.NEW
    promised_at: datetime | None = None

    def move(self, moment: datetime, kind: EventKind, to: Status | None = None) -> Order:
        self.events.append(Event(moment, kind, self.status if to else None, to))
        if to is not None:
            self.status = to
        return self


def by_name(order: Order, now: datetime) -> dict[str, Any]:
    return {d.name: d for d in deadlines(order, now, POLICY)}


# ---------------------------------------------------------------- the calendar


def test_service_hours_are_the_union_of_the_seed_shifts() -> None:
    assert CAL.windows == ((8 * 60, 24 * 60),) and CAL.hours_per_day == 16
    assert parse_shift("23:30-07:30") == [(23 * 60 + 30, 24 * 60), (0, 7 * 60 + 30)]  # seed 002 night service
    night = BusinessCalendar.from_shifts({"早班": "08:00-16:00", "夜间": "23:30-07:30"})
    assert night.windows == ((0, 450), (480, 960), (1410, 1440))
    assert BusinessCalendar.from_settings(SlaSettings()).windows == CAL.windows


@pytest.mark.parametrize(
    ("spec", "message"),
    [("8点-16点", "格式不正确"), ("08:00", "HH:MM-HH:MM"), ("08:00-25:00", "超出"), ("09:00-09:00", "相同")],
)
def test_bad_shift_times_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_shift(spec)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEFU_SLA_SHIFTS", '{"白班": "09:00-18:00"}')
    monkeypatch.setenv("KEFU_SLA_SKIP_WEEKENDS", "true")
    calendar = BusinessCalendar.from_settings()
    assert calendar.windows == ((540, 1080),) and calendar.skip_weekends


def test_business_time_across_a_night() -> None:
    start = at("2026-11-23", "23:50")
    due = CAL.add(start, timedelta(minutes=15))
    assert local(due) == "2026-11-24 08:05"  # 10 minutes tonight, 5 tomorrow after the 早班 starts
    assert CAL.between(start, due) == timedelta(minutes=15)
    assert CAL.between(at("2026-11-24", "01:00"), at("2026-11-24", "07:59")) == timedelta(0)
    assert local(CAL.add(at("2026-11-24", "03:00"), timedelta(hours=1))) == "2026-11-24 09:00"


def test_business_time_skips_national_day() -> None:
    """国庆 2026: 1–7 October are official holidays (chinese_calendar); 10 October is a make-up
    working Saturday."""
    start = at("2026-09-30", "22:00")
    due = CAL.add(start, timedelta(hours=4))
    assert local(due) == "2026-10-08 10:00"  # 2 h on the 30th, the holiday skipped, 2 h on the 8th
    assert CAL.between(start, due) == timedelta(hours=4)
    assert CAL.between(at("2026-10-01", "00:00"), at("2026-10-08", "00:00")) == timedelta(0)
    assert not CAL.is_service_day(datetime(2026, 10, 3).date())  # a Saturday inside the holiday


def test_ordinary_weekends_count_unless_the_centre_says_otherwise() -> None:
    saturday = at("2026-11-21", "08:00")
    assert CAL.between(saturday, at("2026-11-22", "00:00")) == timedelta(hours=16)
    offices = BusinessCalendar(skip_weekends=True)
    assert offices.between(saturday, at("2026-11-23", "00:00")) == timedelta(0)
    assert local(offices.add(at("2026-11-20", "23:00"), timedelta(hours=2))) == "2026-11-23 09:00"
    assert offices.is_service_day(datetime(2026, 10, 10).date())  # 调休: the Saturday is a working day
    holidays_count = BusinessCalendar(skip_holidays=False)
    assert holidays_count.between(at("2026-10-01", "00:00"), at("2026-10-02", "00:00")) == timedelta(hours=16)


def test_years_without_holiday_data_still_work() -> None:
    start = at("2031-02-01", "09:00")
    assert CAL.between(start, CAL.add(start, timedelta(hours=40))) == timedelta(hours=40)


def test_a_calendar_without_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="至少需要一个班次"):
        BusinessCalendar.from_shifts({})


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31)),
    seconds=st.integers(min_value=0, max_value=40 * 16 * 3600),
    skip_weekends=st.booleans(),
    shift=st.sampled_from(["08:00-24:00", "09:00-18:00", "23:30-07:30", "00:00-24:00"]),
)
def test_adding_business_time_then_measuring_it_gives_it_back(
    start: datetime, seconds: int, skip_weekends: bool, shift: str
) -> None:
    calendar = BusinessCalendar.from_shifts([shift], skip_weekends=skip_weekends)
    start = start.replace(tzinfo=centre_tz())
    duration = timedelta(seconds=seconds)
    end = calendar.add(start, duration)
    assert end >= start
    assert calendar.between(start, end) == duration
    if seconds:  # and not a moment later than needed
        assert calendar.between(start, end - timedelta(microseconds=1)) < duration


# ---------------------------------------------------------------- deadlines


def test_response_and_resolution_deadlines_of_an_urgent_consultation() -> None:
    order = Order(OrderType.CONSULTATION, Priority.URGENT, at("2026-11-23", "22:00"))
    clocks = by_name(order, at("2026-11-23", "22:00"))
    assert SLA_TABLE[OrderType.CONSULTATION][Priority.URGENT] == {
        "响应": timedelta(minutes=15),
        "解决": timedelta(hours=4),
    }
    assert local(clocks["响应"].due) == "2026-11-23 22:15"
    assert local(clocks["解决"].due) == "2026-11-24 10:00"  # 2 h tonight + 2 h tomorrow morning
    assert overdue(order, at("2026-11-23", "22:14"), POLICY) == []
    assert [d.name for d in overdue(order, at("2026-11-23", "22:16"), POLICY)] == ["响应"]
    order.move(at("2026-11-23", "22:20"), EventKind.START, Status.IN_PROGRESS)
    response = by_name(order, at("2026-11-23", "22:30"))["响应"]
    assert response.met and response.late and not response.overdue(at("2026-11-23", "22:30"))
    assert overdue(order, at("2026-11-24", "09:59"), POLICY) == []
    assert [d.name for d in overdue(order, at("2026-11-24", "10:00"), POLICY)] == ["解决"]
    assert local(next_due(order, at("2026-11-24", "09:00"), POLICY)) == "2026-11-24 10:00"


def test_the_clock_stands_still_while_waiting_on_the_customer() -> None:
    order = Order(OrderType.FAULT, Priority.HIGH, at("2026-11-23", "09:00"))  # resolve within 16 h
    order.move(at("2026-11-23", "09:10"), EventKind.START, Status.IN_PROGRESS)
    order.move(at("2026-11-23", "10:00"), EventKind.WAIT, Status.WAITING)
    waiting = by_name(order, at("2026-11-23", "20:00"))["解决"]
    assert waiting.paused and waiting.due is None and waiting.used == timedelta(hours=1)
    assert waiting.remaining == timedelta(hours=15)
    assert overdue(order, at("2026-11-25", "12:00"), POLICY) == []  # days later: still paused
    order.move(at("2026-11-24", "10:00"), EventKind.RESUME, Status.IN_PROGRESS)
    resumed = by_name(order, at("2026-11-24", "11:00"))["解决"]
    # 1 h used on Monday; 15 h left from Tuesday 10:00: 14 h to midnight, 1 h on Wednesday.
    assert not resumed.paused and local(resumed.due) == "2026-11-25 09:00"
    assert resumed.used == timedelta(hours=2)
    without_pause = Order(OrderType.FAULT, Priority.HIGH, at("2026-11-23", "09:00"))
    assert local(by_name(without_pause, at("2026-11-23", "09:00"))["解决"].due) == "2026-11-24 09:00"


def test_time_spent_resolved_does_not_count_after_a_reopen() -> None:
    order = Order(OrderType.CONSULTATION, Priority.MEDIUM, at("2026-11-23", "09:00"))  # 16 h to resolve
    order.move(at("2026-11-23", "09:30"), EventKind.START, Status.IN_PROGRESS)
    order.move(at("2026-11-23", "11:00"), EventKind.RESOLVE, Status.RESOLVED)
    resolved = by_name(order, at("2026-11-23", "12:00"))["解决"]
    assert resolved.met and not resolved.late and resolved.used == timedelta(hours=2)
    order.move(at("2026-11-25", "09:00"), EventKind.REOPEN, Status.IN_PROGRESS)
    reopened = by_name(order, at("2026-11-25", "09:00"))["解决"]
    assert not reopened.met and reopened.used == timedelta(hours=2)
    assert local(reopened.due) == "2026-11-25 23:00"  # 14 h left from Wednesday 09:00


def test_complaints_follow_the_four_stages_each_with_its_limit() -> None:
    created = at("2026-11-23", "09:00")
    order = Order(OrderType.COMPLAINT, Priority.URGENT, created)  # 15 min / 1 h / 4 h / 8 h
    stages = deadlines(order, created, POLICY)
    assert [d.name for d in stages] == ["接收与记录", "分类与分级", "处理与解决", "回访与跟进"]
    assert [d.started for d in stages] == [True, False, False, False]
    order.move(at("2026-11-23", "09:05"), EventKind.START, Status.IN_PROGRESS)
    clocks = by_name(order, at("2026-11-23", "09:30"))
    assert clocks["接收与记录"].met and local(clocks["分类与分级"].due) == "2026-11-23 10:05"
    assert [d.name for d in overdue(order, at("2026-11-23", "10:06"), POLICY)] == ["分类与分级"]
    order.move(at("2026-11-23", "10:30"), EventKind.CLASSIFY)
    clocks = by_name(order, at("2026-11-23", "10:30"))
    assert clocks["分类与分级"].late and local(clocks["处理与解决"].due) == "2026-11-23 14:30"
    order.move(at("2026-11-23", "14:00"), EventKind.RESOLVE, Status.RESOLVED)
    clocks = by_name(order, at("2026-11-23", "14:00"))
    assert clocks["处理与解决"].met and not clocks["处理与解决"].late
    assert local(clocks["回访与跟进"].due) == "2026-11-23 22:00"
    assert [d.name for d in overdue(order, at("2026-11-23", "22:01"), POLICY)] == ["回访与跟进"]
    order.move(at("2026-11-23", "21:00"), EventKind.CALLBACK)
    assert overdue(order, at("2026-11-23", "22:01"), POLICY) == []


def test_a_missed_deadline_keeps_its_key_so_it_is_escalated_once() -> None:
    order = Order(OrderType.COMPLAINT, Priority.HIGH, at("2026-11-23", "09:00"))
    first = overdue(order, at("2026-11-23", "10:00"), POLICY)
    later = overdue(order, at("2026-11-24", "10:00"), POLICY)
    assert [d.key for d in first] == [d.key for d in later] == ["接收与记录@2026-11-23T01:30:00+00:00"]


def test_a_promised_time_is_a_deadline_on_the_wall_clock() -> None:
    order = Order(OrderType.FAULT, Priority.LOW, at("2026-11-23", "09:00"), promised_at=at("2026-11-23", "12:00"))
    order.move(at("2026-11-23", "09:30"), EventKind.START, Status.IN_PROGRESS)
    assert [d.name for d in overdue(order, at("2026-11-23", "12:01"), POLICY)] == ["承诺时间"]
    order.move(at("2026-11-23", "13:00"), EventKind.RESOLVE, Status.RESOLVED)
    promise = by_name(order, at("2026-11-23", "13:00"))["承诺时间"]
    assert promise.met and promise.late and overdue(order, at("2026-11-23", "13:00"), POLICY) == []


def test_closed_orders_are_never_overdue() -> None:
    order = Order(OrderType.CONSULTATION, Priority.URGENT, at("2026-11-23", "09:00"))
    order.status = Status.CLOSED
    assert overdue(order, at("2026-12-23", "09:00"), POLICY) == []


def test_stored_times_without_a_zone_are_utc() -> None:
    """SQLite hands back UTC values without their zone."""
    naive = datetime(2026, 11, 23, 1, 0)  # 09:00 in Beijing
    order = Order(OrderType.CONSULTATION, Priority.URGENT, naive)
    assert local(by_name(order, naive.replace(tzinfo=UTC))["响应"].due) == "2026-11-23 09:15"


def test_durations_read_naturally() -> None:
    assert describe_duration(timedelta(minutes=15)) == "15 分钟"
    assert describe_duration(timedelta(hours=4)) == "4 小时"
    assert describe_duration(timedelta(minutes=90)) == "1 小时 30 分钟"
