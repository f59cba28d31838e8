"""The one way a stored record is changed: compare with the version the user saw, work out what
really changes (old → new), set it, save — refused if someone saved in between (optimistic
locking, ``kefu.core.db.Versioned``) — and write the audit entry with the old and new values, all
in the caller's transaction.

    changes = apply_change(session, actor_id, plan, values, entity=AuditEntity.SAMPLING_PLAN,
                           what=f"抽检方案「{plan.name}」", version=data.version)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from kefu.core import audit
from kefu.core.clock import utc_as_stored
from kefu.core.errors import Conflict, Invalid

REFRESH = "请刷新后重新核对再保存"


class HasVersion(Protocol):
    id: Any
    version: int


def check_version(record: HasVersion, version: int | None, what: str, *, refresh: str = REFRESH) -> None:
    """Refuse a change made on another version than the stored one (None: not checked)."""
    if version is not None and version != record.version:
        raise Conflict(f"{what}已被他人修改(您看到的是第 {version} 版,现在是第 {record.version} 版),{refresh}")


def save(session: Session, what: str, *, refresh: str = REFRESH) -> None:
    """Flush the changes; a record saved by someone else since it was read is a ``Conflict``."""
    try:
        session.flush()
    except StaleDataError:  # saved by someone else between our read and our write
        raise Conflict(f"{what}刚被他人修改,{refresh}") from None


def plain(value: Any) -> Any:
    """A value as the audit log keeps it (JSON): choices as their value, times as ISO 8601 UTC,
    lists copied."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return utc_as_stored(value).isoformat()
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, datetime) and isinstance(new, datetime):
        return utc_as_stored(old) == utc_as_stored(new)
    return bool(old == new)


def diff(record: object, updates: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields ``updates`` would really change on ``record``, as {field: [old, new]}."""
    return {
        name: [plain(getattr(record, name)), plain(value)]
        for name, value in updates.items()
        if not _same(getattr(record, name), value)
    }


def created(values: dict[str, Any]) -> dict[str, list[Any]]:
    """The audit entry's changes of a new record: every value given, as [None, value]."""
    return {name: [None, plain(value)] for name, value in values.items() if value not in (None, "", [], {})}


def apply_change(
    session: Session,
    actor_id: int | None,
    record: HasVersion,
    updates: dict[str, Any],
    *,
    entity: str,
    what: str,
    version: int | None = None,
    action: str = audit.AuditAction.UPDATE,
    detail: str | None = None,
    require_change: bool = False,
    vet: Callable[[dict[str, list[Any]]], None] | None = None,
    touched: dict[str, Any] | None = None,
    refresh: str = REFRESH,
) -> dict[str, list[Any]]:
    """Apply ``updates`` to ``record``, save and audit; what changed, as {field: [old, new]}.

    ``version``: the version the user saw (None: not checked). ``require_change``: nothing to
    change is an error for the user rather than a quiet no-op. ``vet`` may refuse the changes
    before anything is set. ``touched`` is set along when something changes, without being
    listed (who edited, when)."""
    check_version(record, version, what, refresh=refresh)
    changes = diff(record, updates)
    if require_change and not changes:
        raise Invalid("没有需要保存的修改")
    if vet is not None:
        vet(changes)
    for name in changes:
        setattr(record, name, updates[name])
    if changes and touched:
        for name, value in touched.items():
            setattr(record, name, value)
    save(session, what, refresh=refresh)
    audit.record(session, actor_id, action, entity, record.id, changes or None, detail=detail)
    return changes
