"""The audit log page (supervisors)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kefu.core import audit
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, require
from kefu.web.pages.common import render

router = APIRouter(include_in_schema=False)


@router.get("/audit", dependencies=[require(Permission.AUDIT_VIEW)])
def audit_page(request: Request, user: CurrentUser, session: DB, entity: str | None = None) -> HTMLResponse:
    return render(request, "audit.html", user, entries=audit.entries(session, entity=entity or None), entity=entity)
