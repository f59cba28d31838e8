"""The centre's clock: one time zone (``KEFU_TIMEZONE``) for the whole platform.

Calls (night service, times typed without a zone), SLA business hours, work-order numbers (the
day in GD20261123-0001) and the expected greeting of the platform's inspector all read
``centre_tz()``. The offline ``kefu qa`` has no platform settings and keeps the rulebook's
``greetings.utc_offset``.

The database holds UTC (kefu.core.db.UTCDateTime gives every stored time back aware, in UTC).
Two rules, one function each: a time *coming in* without a zone (a form's datetime-local, a
spreadsheet cell) is on the centre's clock (``utc_for_storing``); a time *going out* to a person
or an answer is shown on the centre's clock (``on_centre_clock``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Shanghai"

_OFFSET = re.compile(r"(?:UTC|GMT)?([+-])(\d{2}):?(\d{2})", re.IGNORECASE)


@lru_cache(maxsize=32)
def parse_zone(name: str) -> tzinfo:
    """An IANA zone name (``Asia/Shanghai``) or a fixed offset (``+08:00``, ``UTC+0800``).
    Anything else is a ``ValueError`` saying what is accepted."""
    text = name.strip()
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes = match.groups()
        if int(hours) > 14 or int(minutes) > 59:
            raise ValueError(f"时区偏移「{name}」超出范围(-14:00 到 +14:00)")
        offset = timedelta(hours=int(hours), minutes=int(minutes)) * (-1 if sign == "-" else 1)
        return timezone(offset, f"{sign}{hours}:{minutes}")
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"未知的时区「{name}」:应为 IANA 时区名(如 Asia/Shanghai)或固定偏移(如 +08:00)") from None


def centre_tz() -> tzinfo:
    """The centre's time zone, from ``KEFU_TIMEZONE`` (validated when the settings are read)."""
    from kefu.core.settings import get_settings

    return get_settings().tz


def utc_for_storing(moment: datetime) -> datetime:
    """A time coming in, as UTC: one without a zone is on the centre's clock."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=centre_tz())
    return moment.astimezone(UTC)


def utc_as_stored(moment: datetime) -> datetime:
    """A time read back from the database (or about to be stored), as an aware UTC time: one
    without a zone is already UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def on_centre_clock(moment: datetime) -> datetime:
    """A stored time as people and programs read it: on the centre's clock, with its offset
    (one without a zone is UTC, as stored)."""
    return utc_as_stored(moment).astimezone(centre_tz())
