"""Field types every boundary shares (route parameters and request/response models): ids,
versions and offsets that fit the database, and times on the centre's clock.

A number past what a column can hold (PostgreSQL's ``integer`` ends at 2**31 - 1, SQLite refuses
anything past 64 bits) would otherwise reach the database and come back as a 500; here it is a
422 naming the field, before any query runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from kefu.core.clock import on_centre_clock

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
