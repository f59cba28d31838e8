"""Greetings and closings for a moment: time of day, Friday evening, holidays, lunar 春节 (003)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lunardate import LunarDate

from kefu.rulebook.calendar import moment_greetings
from kefu.rulebook.loader import load_rulebook
from kefu.rulebook.schema import Greetings

NORMAL_CLOSING = "感谢您的来电,稍后请对我的服务做出评价,谢谢您,再见!"
FRIDAY_CLOSING = "祝您周末愉快,再见!"


@pytest.fixture(scope="module")
def greetings() -> Greetings:
    return load_rulebook().greetings


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def greeting(greetings: Greetings, text: str) -> str:
    return moment_greetings(greetings, at(text)).greeting


def holiday_closing(greetings: Greetings, name: str) -> str:
    (holiday,) = [h for h in greetings.holidays if h.name == name]
    return holiday.closing


def spring_festival_days(year: int) -> list[date]:
    """初一–初三 of the lunar year that starts in ``year``, from the lunardate library."""
    first = LunarDate(year, 1, 1).to_solar_date()
    return [first + timedelta(days=n) for n in range(3)]


# ---------------------------------------------------------------- time of day (2026-11-24 is a Tuesday)


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        ("06:59", "您好"),
        ("07:00", "早上好"),
        ("08:59", "早上好"),
        ("09:00", "您好"),
        ("12:30", "您好"),
        ("18:59", "您好"),
        ("19:00", "晚上好"),
        ("23:59", "晚上好"),
        ("00:00", "您好"),
    ],
)
def test_time_of_day(greetings: Greetings, clock: str, expected: str) -> None:
    moment = moment_greetings(greetings, at(f"2026-11-24T{clock}"))
    assert moment.greeting == expected
    assert moment.opening.startswith(expected)
    assert moment.closing == NORMAL_CLOSING
    assert moment.holiday is None


def test_time_of_day_boundaries_to_the_second(greetings: Greetings) -> None:
    assert greeting(greetings, "2026-11-24T08:59:59") == "早上好"
    assert greeting(greetings, "2026-11-24T06:59:59") == "您好"
    assert greeting(greetings, "2026-11-24T18:59:59") == "您好"
    assert greeting(greetings, "2026-11-24T23:59:59.999999") == "晚上好"


# ---------------------------------------------------------------- holidays


def test_new_year_wins_over_the_time_of_day(greetings: Greetings) -> None:
    moment = moment_greetings(greetings, at("2026-01-01T20:00"))
    assert moment.greeting == "新年好"
    assert moment.opening.startswith("新年好")
    assert moment.holiday == "元旦"
    assert moment.closing == holiday_closing(greetings, "元旦")
    assert moment.closing != NORMAL_CLOSING
    # the whole day, 0:00–24:00
    assert greeting(greetings, "2026-01-01T00:00") == "新年好"
    assert greeting(greetings, "2026-01-01T08:00") == "新年好"
    assert greeting(greetings, "2026-01-02T08:00") == "早上好"
    assert greeting(greetings, "2025-12-31T20:00") == "晚上好"


def test_new_year_on_a_friday_evening_keeps_the_holiday_closing(greetings: Greetings) -> None:
    assert date(2027, 1, 1).isoweekday() == 5
    moment = moment_greetings(greetings, at("2027-01-01T20:00"))
    assert moment.greeting == "新年好"
    assert moment.closing == holiday_closing(greetings, "元旦")


def test_spring_festival_2026_from_the_lunar_calendar(greetings: Greetings) -> None:
    days = spring_festival_days(2026)
    assert days == [date(2026, 2, 17), date(2026, 2, 18), date(2026, 2, 19)]
    for day in days:
        for clock in ("00:00", "08:30", "20:00"):
            moment = moment_greetings(greetings, at(f"{day.isoformat()}T{clock}"))
            assert moment.greeting == "春节好", (day, clock)
            assert moment.holiday == "春节"
            assert moment.closing == holiday_closing(greetings, "春节")
    assert greeting(greetings, "2026-02-20T08:30") == "早上好"  # 初四
    assert greeting(greetings, "2026-02-16T20:00") == "晚上好"  # 除夕


def test_spring_festival_2027_from_the_lunar_calendar(greetings: Greetings) -> None:
    days = spring_festival_days(2027)
    assert days == [date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)]
    for day in days:
        assert greeting(greetings, f"{day.isoformat()}T12:00") == "春节好", day
    assert greeting(greetings, "2027-02-05T12:00") == "您好"
    assert greeting(greetings, "2027-02-09T12:00") == "您好"


@pytest.mark.parametrize(
    "day",
    # 2026 official Spring Festival holiday 2-15 .. 2-23: only 初一–初三 get 春节好
    ["2026-02-15", "2026-02-16", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23"],
)
def test_official_holiday_days_outside_chuyi_to_chusan(greetings: Greetings, day: str) -> None:
    lunar = LunarDate.from_solar_date(*map(int, day.split("-")))
    assert not (lunar.month == 1 and lunar.day <= 3)
    moment = moment_greetings(greetings, at(f"{day}T12:00"))
    assert moment.greeting == "您好"
    assert moment.holiday is None


@pytest.mark.parametrize("year", [1901, 1950, 2000, 2024, 2025, 2030, 2099])
def test_spring_festival_in_other_years(greetings: Greetings, year: int) -> None:
    days = spring_festival_days(year)
    for day in days:
        assert greeting(greetings, f"{day.isoformat()}T12:00") == "春节好", day
    assert greeting(greetings, f"{(days[-1] + timedelta(days=1)).isoformat()}T12:00") == "您好"
    assert greeting(greetings, f"{(days[0] - timedelta(days=1)).isoformat()}T12:00") == "您好"


def test_labour_day(greetings: Greetings) -> None:
    moment = moment_greetings(greetings, at("2026-05-01T08:00"))
    assert moment.greeting == "节日快乐"
    assert moment.holiday == "劳动节"
    assert moment.closing == holiday_closing(greetings, "劳动节")
    assert greeting(greetings, "2026-05-02T08:00") == "早上好"
    assert greeting(greetings, "2026-04-30T20:00") == "晚上好"


@pytest.mark.parametrize("day", ["2026-10-01", "2026-10-02", "2026-10-03"])
def test_national_day_first_three_days(greetings: Greetings, day: str) -> None:
    moment = moment_greetings(greetings, at(f"{day}T20:00"))
    assert moment.greeting == "节日快乐"
    assert moment.closing == holiday_closing(greetings, "国庆节")


def test_national_day_fourth_day_is_ordinary(greetings: Greetings) -> None:
    moment = moment_greetings(greetings, at("2026-10-04T20:00"))
    assert moment.greeting == "晚上好"
    assert moment.holiday is None
    assert moment.closing == NORMAL_CLOSING


# ---------------------------------------------------------------- Friday evening closing


def test_friday_evening_closing(greetings: Greetings) -> None:
    assert date(2026, 11, 27).isoweekday() == 5
    for clock in ("19:00", "21:30", "23:59"):
        moment = moment_greetings(greetings, at(f"2026-11-27T{clock}"))
        assert moment.closing == FRIDAY_CLOSING, clock
        assert moment.greeting == "晚上好"


def test_friday_before_19_and_saturday_evening_have_the_normal_closing(
    greetings: Greetings,
) -> None:
    assert moment_greetings(greetings, at("2026-11-27T18:59")).closing == NORMAL_CLOSING
    assert moment_greetings(greetings, at("2026-11-28T20:00")).closing == NORMAL_CLOSING
    assert moment_greetings(greetings, at("2026-11-26T20:00")).closing == NORMAL_CLOSING  # Thu
    assert moment_greetings(greetings, at("2026-11-28T00:30")).closing == NORMAL_CLOSING


# ---------------------------------------------------------------- time zones

BEIJING = timezone(timedelta(hours=8))


def test_a_moment_with_a_time_zone_is_judged_on_china_time(greetings: Greetings) -> None:
    """Call records often carry UTC instants (…Z); the greeting is for the hotline's clock."""
    morning = datetime(2026, 11, 22, 0, 15, tzinfo=UTC)  # 08:15 in Beijing
    assert moment_greetings(greetings, morning.astimezone(BEIJING)).greeting == "早上好"
    assert moment_greetings(greetings, morning).greeting == "早上好"
    chuyi = datetime(2026, 2, 16, 16, 30, tzinfo=UTC)  # 2026-02-17 00:30 in Beijing, 初一
    assert moment_greetings(greetings, chuyi).greeting == "春节好"


# ---------------------------------------------------------------- any moment


@settings(max_examples=400, deadline=None)
@given(st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)))
def test_any_moment_gets_a_configured_greeting(moment: datetime) -> None:
    greetings = _greetings()
    expected = moment_greetings(greetings, moment)
    configured = {greetings.default_greeting}
    configured |= {span.greeting for span in greetings.time_of_day}
    configured |= {holiday.greeting for holiday in greetings.holidays}
    assert expected.greeting in configured
    assert expected.greeting in expected.opening
    closings = {greetings.closing} | {w.closing for w in greetings.weekday_closings}
    closings |= {holiday.closing for holiday in greetings.holidays}
    assert expected.closing in closings
    holiday_greetings = {h.greeting for h in greetings.holidays}
    assert (expected.holiday is None) == (expected.greeting not in holiday_greetings)


_GREETINGS: list[Greetings] = []


def _greetings() -> Greetings:
    if not _GREETINGS:
        _GREETINGS.append(load_rulebook().greetings)
    return _GREETINGS[0]
