"""Which greeting and closing fit a moment: time of day, weekday and holidays (seed 003).

Holidays are whole days whatever the hour (「不区分时间段」) and win over the time of day;
春节 comes from the lunar calendar (初一–初三), not from the official holiday span.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from lunardate import LunarDate

from kefu.rulebook.schema import Greetings, Holiday


@dataclass(frozen=True)
class MomentGreetings:
    moment: datetime
    greeting: str
    opening: str
    closing: str
    holiday: str | None


@lru_cache(maxsize=4096)
def _lunar(day: date) -> tuple[int, int] | None:
    """(month, day) in the lunar calendar; None in a leap month or outside 1900–2099."""
    try:
        lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    except ValueError:
        return None
    return None if lunar.is_leap_month else (lunar.month, lunar.day)


def holiday_on(greetings: Greetings, day: date) -> Holiday | None:
    month_day = day.strftime("%m-%d")
    for holiday in greetings.holidays:
        if month_day in holiday.solar:
            return holiday
        if holiday.lunar is not None:
            lunar = _lunar(day)
            if lunar is not None and lunar[0] == holiday.lunar.month and lunar[1] in holiday.lunar.days:
                return holiday
    return None


def moment_greetings(greetings: Greetings, moment: datetime) -> MomentGreetings:
    """A moment with a time zone is read on the centre's clock; one without is taken as is."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(greetings.tz)
    clock = moment.time()
    holiday = holiday_on(greetings, moment.date())
    if holiday is not None:
        greeting, closing = holiday.greeting, holiday.closing
    else:
        greeting = next(
            (span.greeting for span in greetings.time_of_day if span.contains(clock)),
            greetings.default_greeting,
        )
        closing = next(
            (
                rule.closing
                for rule in greetings.weekday_closings
                if rule.weekday == moment.isoweekday() and rule.contains(clock)
            ),
            greetings.closing,
        )
    return MomentGreetings(
        moment=moment,
        greeting=greeting,
        opening=greetings.opening.format(greeting=greeting),
        closing=closing,
        holiday=holiday.name if holiday else None,
    )
