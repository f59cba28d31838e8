"""/api/audit: the audit log, for supervisors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from kefu.core import audit
from kefu.core.fields import CentreTime
from kefu.core.security import Permission
from kefu.http.deps import DB, require

router = APIRouter(prefix="/api", tags=["audit"])


class AuditOut(BaseModel):
    id: int
    at: CentreTime
    actor_id: int | None
    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, Any] | None
    detail: str | None


@router.get("/audit", dependencies=[require(Permission.AUDIT_VIEW)])
def audit_log(
    session: DB,
    entity: str | None = None,
    entity_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    return [
        AuditOut(
            id=e.id,
            at=e.at,
            actor_id=e.actor_id,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            changes=e.changes,
            detail=e.detail,
        )
        for e in audit.entries(session, entity=entity, entity_id=entity_id, limit=limit)
    ]
