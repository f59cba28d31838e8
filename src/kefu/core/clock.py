"""The centre's clock: one time zone (``KEFU_TIMEZONE``) for the whole platform.

Calls (night service, times typed without a zone), SLA business hours, work-order numbers (the
day in GD20261123-0001) and the expected greeting of the platform's inspector all read
``centre_tz()``. The offline ``kefu qa`` has no platform settings and keeps the rulebook's
``greetings.utc_offset``.
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
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
