"""Reading the audit log (supervisors): entries by date range on the centre's calendar,
operator, action, object kind and object id, a page at a time with the total, and the export
of everything a filter selects (itself an audit entry).

The pages and the API parse the same ``AuditFilter`` and call these functions; how an entry
reads (names, Chinese labels, values) is kefu.overviews.audit_trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from kefu.core.audit import AuditAction, AuditEntity, AuditEntry, record
from kefu.core.clock import utc_for_storing
from kefu.core.errors import Invalid
from kefu.core.fields import Id

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
EXPORT_LIMIT = 50_000  # one file; more is a sign the filter is too wide
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)  # days any log can have (and times can hold)


class AuditFilter(BaseModel):
    """What a supervisor looks for; every field may be left out. Days are the centre's calendar
    days (``KEFU_TIMEZONE``), ``end`` included."""

    start: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY, description="从这一天起(中心日历)")
    end: date | None = Field(default=None, ge=FIRST_DAY, le=LAST_DAY, description="到这一天止(含)")
    actor_id: Id | None = Field(default=None, description="操作人(用户编号)")
    action: AuditAction | None = Field(default=None, description="操作,值或中文名")
    entity: AuditEntity | None = Field(default=None, description="对象类型,值或中文名")
    entity_id: str | None = Field(default=None, min_length=1, max_length=64, description="对象编号")

    @field_validator("action", mode="before")
    @classmethod
    def _action(cls, value: object) -> object:
        return AuditAction.parse(value) if isinstance(value, str) else value

    @field_validator("entity", mode="before")
    @classmethod
    def _entity(cls, value: object) -> object:
        return AuditEntity.parse(value) if isinstance(value, str) else value

    @field_validator("entity_id", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() or None if isinstance(value, str) else value

    @model_validator(mode="after")
    def _in_order(self) -> AuditFilter:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("结束日期不能早于开始日期")
        return self

    def describe(self) -> str:
        """The filter in a few words (for the export's own audit entry): 「2026-11-01 至 2026-11-30;操作:登录」."""
        parts = []
        if self.start or self.end:
            parts.append(f"{self.start or '最早'} 至 {self.end or '今天'}")
        if self.actor_id is not None:
            parts.append(f"操作人:用户 {self.actor_id}")
        if self.action is not None:
            parts.append(f"操作:{self.action.label}")
        if self.entity is not None:
            parts.append(f"对象:{self.entity.label}{' ' + self.entity_id if self.entity_id else ''}")
        elif self.entity_id:
            parts.append(f"对象编号:{self.entity_id}")
        return ";".join(parts) or "全部"


def _day_starts(day: date) -> datetime:
    """Midnight of ``day`` on the centre's clock, as UTC."""
    return utc_for_storing(datetime.combine(day, time.min))


def _conditions(filters: AuditFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.start is not None:
        where.append(AuditEntry.at >= _day_starts(filters.start))
    if filters.end is not None:
        where.append(AuditEntry.at < _day_starts(filters.end + timedelta(days=1)))
    if filters.actor_id is not None:
        where.append(AuditEntry.actor_id == filters.actor_id)
    if filters.action is not None:
        where.append(AuditEntry.action == filters.action.value)
    if filters.entity is not None:
        where.append(AuditEntry.entity == filters.entity.value)
    if filters.entity_id is not None:
        where.append(AuditEntry.entity_id == filters.entity_id)
    return where


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]  # newest first
    total: int  # all entries the filter selects
    offset: int
    limit: int

    @property
    def number(self) -> int:
        """This page's number, from 1."""
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))


def count(session: Session, filters: AuditFilter) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(*_conditions(filters))) or 0


def _selected(session: Session, filters: AuditFilter, limit: int, offset: int = 0) -> list[AuditEntry]:
    query = select(AuditEntry).where(*_conditions(filters))
    return list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)))


def search(session: Session, filters: AuditFilter, *, limit: int = PAGE_SIZE, offset: int = 0) -> AuditPage:
    """One page of the entries ``filters`` selects, newest first, and how many there are in all."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    return AuditPage(_selected(session, filters, limit, offset), count(session, filters), offset, limit)


def do_export(session: Session, actor_id: int, filters: AuditFilter) -> Sequence[AuditEntry]:
    """Every entry ``filters`` selects, newest first, for a file; the export is audited too (the
    log names people and what they changed)."""
    total = count(session, filters)
    if total > EXPORT_LIMIT:
        raise Invalid(f"符合条件的记录有 {total} 条,一次最多导出 {EXPORT_LIMIT} 条:请缩小日期范围或增加筛选条件")
    found = _selected(session, filters, EXPORT_LIMIT)
    record(
        session,
        actor_id,
        AuditAction.EXPORT,
        AuditEntity.AUDIT_LOG,
        None,
        detail=f"导出审计日志 {len(found)} 条({filters.describe()})",
    )
    return found


def filter_query(filters: AuditFilter) -> dict[str, Any]:
    """The filter as query parameters (links to other pages, the export), empty ones left out."""
    return {name: str(value) for name, value in filters.model_dump(exclude_none=True).items()}
