"""Call pages (通话记录, one call with its scorecard) and the import page (数据导入)."""

from __future__ import annotations

import contextlib
import secrets
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.calls.api import call_filters
from kefu.calls.models import CallChannel, CallDirection
from kefu.calls.reasons import current_reasons
from kefu.calls.schemas import CallFilter
from kefu.core.errors import Invalid, KefuError
from kefu.core.security import Permission
from kefu.dataio import ImportRejected, import_calls, import_customers
from kefu.dataio.api import read_upload
from kefu.dataio.tables import RowError
from kefu.quality.card import scorecard
from kefu.web.deps import DB, CurrentUser, CustomerReader, require
from kefu.web.pages.common import redirect, render

router = APIRouter(include_in_schema=False)

ImportKind = Literal["customers", "calls"]
IMPORT_KINDS: dict[str, str] = {"customers": "客户", "calls": "通话(含转写)"}
PENDING_HOURS = 6  # a checked file waits this long for its confirmation


# ---------------------------------------------------------------------------- calls


def _page_filters(params: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The form's values (dates, end inclusive) → the query of /api/calls (end exclusive)."""
    form = {k: params.get(k, "").strip() for k in ("start", "end", "reason", "direction", "agent_id")}
    query = {k: v for k, v in form.items() if v}
    if form["end"]:
        with contextlib.suppress(ValueError):  # else left as typed: call_filters explains the problem
            query["end"] = (date.fromisoformat(form["end"]) + timedelta(days=1)).isoformat()
    return form, query


@router.get("/calls", dependencies=[require(Permission.CUSTOMER_VIEW)])
def call_list(request: Request, reader: CustomerReader, session: DB) -> HTMLResponse:
    user = reader.user
    form, query = _page_filters(dict(request.query_params))
    error = None
    try:
        filters = call_filters(**query)
    except Invalid as problem:
        error, filters, query = str(problem), CallFilter(), {}
    found = [calls.present(c, reader) for c in calls.list_calls(session, filters, limit=200, viewer=user)]
    total = calls.count_calls(session, filters, viewer=user)
    start, end = calls.day_range(datetime.now().astimezone())
    today = CallFilter(agent_id=user.id, start=start, end=end)
    mine = [calls.present(c, reader) for c in calls.list_calls(session, today, viewer=user)]
    agents = list(session.scalars(select(User).order_by(User.agent_no)))
    return render(
        request,
        "calls.html",
        user,
        status_code=422 if error else 200,
        form=form,
        error=error,
        found=found,
        total=total,
        mine=mine,
        today=calls.agent_today(session, user.id),
        agents=agents,
        reasons=current_reasons().choices(),
        directions=[(d.value, d.label) for d in CallDirection],
        export_query=urlencode(query),
    )


@router.get("/calls/{call_id:int}", dependencies=[require(Permission.CUSTOMER_VIEW)])
def call_page(request: Request, call_id: int, reader: CustomerReader, session: DB) -> HTMLResponse:
    record = calls.read_call(session, reader.user, call_id)
    card = scorecard(session, record, reader)  # the stored inspection, never a fresh one
    flagged: dict[int, list[Any]] = {}
    for finding in card.findings:
        if finding["turn"] is not None:
            flagged.setdefault(finding["turn"], []).append(finding)
    return render(
        request,
        "call.html",
        reader.user,
        call=calls.present(record, reader),
        customer=record.customer,
        card=card,
        flagged=flagged,
        chat=record.channel == CallChannel.CHAT,
    )


# ---------------------------------------------------------------------------- import


def _pending_dir(request: Request) -> Path:
    folder = Path(request.app.state.settings.data_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - PENDING_HOURS * 3600
    for old in folder.glob("*.upload"):
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return folder


def _run_import(session: Any, user: Any, kind: str, data: bytes, filename: str, *, dry_run: bool) -> Any:
    importer = import_customers if kind == "customers" else import_calls
    return importer(session, user.id, data, filename, dry_run=dry_run)


def _import_page(request: Request, user: Any, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("kind", "customers")
    return render(request, "import.html", user, status_code=status_code, kinds=IMPORT_KINDS, **context)


def _rejected(request: Request, user: Any, session: Any, kind: str, filename: str, errors: list[RowError]) -> Response:
    session.rollback()
    return _import_page(request, user, 422, kind=kind, filename=filename, errors=[str(e) for e in errors])


@router.get("/import", dependencies=[require(Permission.IMPORT_EXPORT)])
def import_form(request: Request, user: CurrentUser) -> HTMLResponse:
    return _import_page(request, user)


@router.post("/import/check", dependencies=[require(Permission.IMPORT_EXPORT)])
async def import_check(request: Request, user: CurrentUser, session: DB) -> Response:
    """Step 1: a dry run. Bad rows are listed and nothing is kept; a clean file waits (on the
    server, for this session only) for the confirmation."""
    form = await request.form()
    kind = str(form.get("kind", "customers"))
    upload = form.get("file")
    if kind not in IMPORT_KINDS:
        return _import_page(request, user, 422, errors=[f"未知的导入类型“{kind}”"])
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _import_page(request, user, 422, kind=kind, errors=["请选择要导入的文件(CSV 或 Excel .xlsx)"])
    filename = upload.filename
    try:
        data = read_upload(await upload.read())
        result = _run_import(session, user, kind, data, filename, dry_run=True)
    except ImportRejected as problem:
        return _rejected(request, user, session, kind, filename, problem.errors)
    except KefuError as problem:
        return _rejected(request, user, session, kind, filename, [RowError(None, "文件", str(problem))])
    token = secrets.token_urlsafe(16)
    (_pending_dir(request) / f"{token}.upload").write_bytes(data)
    pending = dict(request.session.get("imports", {}))
    pending[token] = {"kind": kind, "filename": filename}
    request.session["imports"] = pending
    return _import_page(request, user, kind=kind, filename=filename, checked=result, token=token)


@router.post("/import/confirm", dependencies=[require(Permission.IMPORT_EXPORT)])
async def import_confirm(request: Request, user: CurrentUser, session: DB) -> Response:
    """Step 2: import the checked file; every row is checked again (all or nothing)."""
    form = await request.form()
    token = str(form.get("token", ""))
    pending = dict(request.session.get("imports", {}))
    item = pending.pop(token, None)
    path = _pending_dir(request) / f"{token}.upload"
    if item is None or not token.replace("-", "").replace("_", "").isalnum() or not path.is_file():
        request.session["imports"] = pending
        return _import_page(request, user, 422, errors=["待导入的文件已失效,请重新选择文件检查"])
    kind, filename = item["kind"], item["filename"]
    data = path.read_bytes()
    try:
        result = _run_import(session, user, kind, data, filename, dry_run=False)
    except ImportRejected as problem:
        return _rejected(request, user, session, kind, filename, problem.errors)
    except KefuError as problem:
        return _rejected(request, user, session, kind, filename, [RowError(None, "文件", str(problem))])
    finally:
        path.unlink(missing_ok=True)
        request.session["imports"] = pending
    return redirect("/import", result.message, request)
