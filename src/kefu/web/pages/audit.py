"""The audit log page (supervisors): filters, a page of entries at a time, CSV export."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from kefu.core import audit_log
from kefu.core.audit import AuditAction, AuditEntity
from kefu.core.audit_log import AuditFilter
from kefu.core.errors import Invalid
from kefu.core.security import Permission
from kefu.core.spreadsheets import MEDIA_TYPES, export_filename, export_rows
from kefu.http.deps import DB, CurrentUser, require
from kefu.overviews import audit_trail
from kefu.web.pages.common import form_body, form_int, form_problems, render

router = APIRouter(include_in_schema=False)

FILTERS = ("start", "end", "actor_id", "action", "entity", "entity_id")
FILTER_LABELS = {
    "start": "开始日期",
    "end": "结束日期",
    "actor_id": "操作人",
    "action": "操作",
    "entity": "对象类型",
    "entity_id": "对象编号",
}
# Where an object of the log can be looked at.
LINKS = {
    AuditEntity.CUSTOMER.value: "/customers/{}",
    AuditEntity.CALL.value: "/calls/{}",
    AuditEntity.WORK_ORDER.value: "/workorders/{}",
    AuditEntity.ARTICLE.value: "/knowledge/{}",
    AuditEntity.RULEBOOK.value: "/quality/rulebooks/{}",
    AuditEntity.INSPECTION.value: "/quality/inspections/{}",
}


def _filters(request: Request) -> tuple[dict[str, str], AuditFilter, str | None]:
    """The form as typed, the filter it gives, and what is wrong with it (then no filter)."""
    form = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    try:
        return form, form_body(AuditFilter, form), None
    except ValidationError as problem:
        return form, AuditFilter(), form_problems(problem, FILTER_LABELS)


@router.get("/audit", dependencies=[require(Permission.AUDIT_VIEW)])
def audit_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    form, filters, error = _filters(request)
    number = form_int(request.query_params.get("page")) or 1
    size = audit_log.PAGE_SIZE
    found = audit_log.search(session, filters, limit=size, offset=(number - 1) * size)
    if not found.entries and found.total:  # past the last page (the log was filtered since): the last one
        found = audit_log.search(session, filters, limit=size, offset=(found.pages - 1) * size)
    query = audit_log.filter_query(filters)
    return render(
        request,
        "audit.html",
        user,
        status_code=422 if error else 200,
        form=form,
        error=error,
        found=found,
        rows=audit_trail.present(session, found.entries),
        operators=audit_trail.operators(session),
        actions=AuditAction.choices(),
        entities=AuditEntity.choices(),
        links=LINKS,
        excerpts=audit_trail.excerpts,
        query=urlencode(query),
        page_url=lambda page: "/audit?" + urlencode({**query, "page": page}),
    )


@router.get("/audit/export", dependencies=[require(Permission.AUDIT_VIEW)])
def audit_export(request: Request, user: CurrentUser, session: DB) -> Response:
    """The entries the page's filters select, as CSV (UTF-8 with a BOM, for Excel)."""
    _, filters, error = _filters(request)
    if error:
        raise Invalid(error)
    entries = audit_log.do_export(session, user.id, filters)
    rows = (audit_trail.export_row(row) for row in audit_trail.present(session, entries))
    name = export_filename("audit-log", "csv")
    return Response(
        export_rows(audit_trail.EXPORT_COLUMNS, rows, "csv"),
        media_type=MEDIA_TYPES["csv"],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
