"""/api/audit: the audit log, for supervisors — the same filters and pages as /audit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kefu.core import audit_log
from kefu.core.audit_log import AuditFilter
from kefu.core.fields import Offset
from kefu.core.security import Permission
from kefu.http.deps import DB, require
from kefu.overviews import audit_trail
from kefu.overviews.audit_trail import AuditRow

router = APIRouter(prefix="/api", tags=["audit"])


class AuditLogOut(BaseModel):
    total: int  # every entry the filters select
    offset: int
    limit: int
    entries: list[AuditRow]  # newest first


@router.get("/audit", dependencies=[require(Permission.AUDIT_VIEW)])
def audit_entries(
    session: DB,
    filters: Annotated[AuditFilter, Query()],
    limit: Annotated[int, Query(ge=1, le=audit_log.MAX_PAGE_SIZE)] = audit_log.PAGE_SIZE,
    offset: Offset = 0,
) -> AuditLogOut:
    """Who did what, when, to which record: operators by name, actions and changes in Chinese
    beside the stored values. Days (``start``, ``end`` included) are the centre's calendar."""
    found = audit_log.search(session, filters, limit=limit, offset=offset)
    return AuditLogOut(
        total=found.total, offset=found.offset, limit=found.limit, entries=audit_trail.present(session, found.entries)
    )
