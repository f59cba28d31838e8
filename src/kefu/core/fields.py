"""Field types every boundary shares (route parameters and request/response models): ids,
versions and offsets that fit the database, and times on the centre's clock.

A number past what a column can hold (PostgreSQL's ``integer`` ends at 2**31 - 1, SQLite refuses
anything past 64 bits) would otherwise reach the database and come back as a 500; here it is a
422 naming the field, before any query runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from kefu.core.clock import on_centre_clock, utc_for_storing

# Ids are INTEGER columns (int4 on PostgreSQL): a larger id can never exist.
MAX_ID = 2**31 - 1

Id = Annotated[int, Field(ge=1, le=MAX_ID, description="编号(1–2147483647)")]
"""The id of a stored object, in a path, a query string or a body."""

Version = Annotated[int, Field(ge=1, le=MAX_ID, description="读取时的版本号(乐观锁)")]
"""The version a change is based on (optimistic locking); stored in an INTEGER column too."""

Offset = Annotated[int, Field(ge=0, le=MAX_ID, description="跳过前若干条")]
"""How many rows of a list to skip."""


def api_time(moment: datetime | None) -> str | None:
    """For answers built as dicts: ISO 8601 with the centre's offset (2026-11-23T14:30:00+08:00)."""
    return None if moment is None else on_centre_clock(moment).isoformat()


CentreTime = Annotated[datetime, AfterValidator(on_centre_clock)]
"""A time in an answer: ISO 8601 with the offset of the centre's clock (``KEFU_TIMEZONE``),
the same whether the object was just created or read back from SQLite or PostgreSQL."""


# Besides ISO 8601, the ways people in China type a time (2026/11/22 08:15, 2026年11月22日 08:15).
_TIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M",
)


def typed_time(value: object) -> object:
    """A time as people type it: ISO 8601 or one of ``_TIME_FORMATS``; a ``ValueError`` in Chinese
    otherwise. Values that are not text are left for the ``datetime`` check."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError("时间格式不正确,应如 2026-11-22 08:15:00")


def _incoming_utc(moment: datetime) -> datetime:
    try:
        return utc_for_storing(moment)
    except OverflowError:  # 0001-01-01 on a clock east of UTC has no UTC
        raise ValueError("时间超出范围") from None


IncomingTime = Annotated[datetime, BeforeValidator(typed_time), AfterValidator(_incoming_utc)]
"""A time sent in (a form, a spreadsheet, the API): without a zone it is on the centre's clock;
kept as UTC."""
