"""The import/export page (数据导入导出): a file is checked by a background job (a dry run), the
page follows the job with a progress bar, shows the bad rows or the 「确认导入」 button, and the
confirmation imports the same file in a second job. Exports are jobs too; the page offers the
file when it is ready. Jobs come from kefu.jobs; who may see one is decided there."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from kefu.calls.api import call_filters
from kefu.core.db import attempt
from kefu.core.errors import Invalid, KefuError, NotFound
from kefu.core.security import Permission
from kefu.dataio.api import start_export, start_import
from kefu.http.deps import DB, CurrentUser, require
from kefu.jobs import service as jobs
from kefu.jobs.api import job_files, job_runner
from kefu.jobs.models import Job, JobKind, JobStatus
from kefu.jobs.schemas import present
from kefu.web.pages.common import form_int, redirect, render

router = APIRouter(include_in_schema=False)

IMPORT_KINDS: dict[str, tuple[str, JobKind]] = {
    "customers": ("客户", JobKind.IMPORT_CUSTOMERS),
    "calls": ("通话(含转写)", JobKind.IMPORT_CALLS),
}
EXPORT_KINDS: dict[str, JobKind] = {
    "customers": JobKind.EXPORT_CUSTOMERS,
    "calls": JobKind.EXPORT_CALLS,
    "workorders": JobKind.EXPORT_WORKORDERS,
}
CALL_FILTERS = (
    "start", "end", "agent_id", "customer_id", "reason", "direction", "channel", "night_service", "answered"
)  # fmt: skip


def _page(request: Request, user: Any, session: Any, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("kind", "customers")
    job: Job | None = context.get("job")
    confirmed = None
    if job is not None and job.status == JobStatus.DONE and (job.params or {}).get("dry_run"):
        confirmed = jobs.confirmed_by(session, job.id)
    return render(
        request,
        "import.html",
        user,
        status_code=status_code,
        kinds={key: label for key, (label, _) in IMPORT_KINDS.items()},
        recent=[present(j) for j in jobs.list_jobs(session, user, limit=10)],
        view=present(job) if job is not None else None,
        confirmed=confirmed,
        **context,
    )


@router.get("/import", dependencies=[require(Permission.IMPORT_EXPORT)])
def import_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    """The forms, my recent jobs, and the job of ``?job=`` (its progress, then its outcome)."""
    job = None
    wanted = request.query_params.get("job")
    if wanted is not None:
        job_id = form_int(wanted)
        if job_id is None:
            raise NotFound(f"任务 {wanted} 不存在")
        job = jobs.get_job(session, user, job_id)
    kind = next((k for k, (_, v) in IMPORT_KINDS.items() if job is not None and job.kind == v), "customers")
    return _page(request, user, session, job=job, kind=kind)


@router.post("/import/check", dependencies=[require(Permission.IMPORT_EXPORT)])
async def import_check(request: Request, background: BackgroundTasks, user: CurrentUser, session: DB) -> Response:
    """Step 1: a dry-run job checks every row; nothing is written. The page follows the job."""
    form = await request.form()
    kind = str(form.get("kind", "customers"))
    upload = form.get("file")
    if kind not in IMPORT_KINDS:
        return _page(request, user, session, 422, errors=[f"未知的导入类型“{kind}”"])
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, user, session, 422, kind=kind, errors=["请选择要导入的文件(CSV 或 Excel .xlsx)"])
    try:  # reading and storing up to 20 MB: not on the event loop
        with attempt(session):
            job = await run_in_threadpool(start_import, session, user, request, IMPORT_KINDS[kind][1], upload, True)
    except KefuError as problem:
        return _page(request, user, session, problem.status, kind=kind, errors=[str(problem)], filename=upload.filename)
    background.add_task(job_runner(request.app).wake)
    return redirect(f"/import?job={job.id}")


@router.post("/import/confirm", dependencies=[require(Permission.IMPORT_EXPORT)])
async def import_confirm(request: Request, background: BackgroundTasks, user: CurrentUser, session: DB) -> Response:
    """Step 2: import the checked file in a new job; every row is checked again (all or nothing)."""
    form = await request.form()
    job_id = form_int(form.get("job"))
    if job_id is None:
        return _page(request, user, session, 422, errors=["待导入的文件已失效,请重新选择文件检查"])
    try:
        with attempt(session):
            job = jobs.do_confirm(session, user, job_id, job_files(request))
    except KefuError as problem:
        return _page(request, user, session, problem.status, errors=[str(problem)])
    background.add_task(job_runner(request.app).wake)
    return redirect(f"/import?job={job.id}")


@router.post("/export/{what}", dependencies=[require(Permission.IMPORT_EXPORT)])
async def export(what: str, request: Request, background: BackgroundTasks, user: CurrentUser, session: DB) -> Response:
    """An export job (calls with the list page's filters, in the query string); the import page
    follows it and offers the file."""
    if what not in EXPORT_KINDS:
        raise NotFound("没有这种导出")
    form = await request.form()
    fmt = str(form.get("format", "csv"))
    if fmt not in ("csv", "xlsx"):
        raise Invalid(f"不支持的导出格式“{fmt}”,可选:csv、xlsx")
    filters: dict[str, Any] = {}
    if what == "calls":
        query = {k: v for k, v in request.query_params.items() if k in CALL_FILTERS}
        filters = call_filters(**query).model_dump(mode="json", exclude_none=True)
    job = start_export(session, user, request, EXPORT_KINDS[what], fmt, filters)
    background.add_task(job_runner(request.app).wake)
    return redirect(f"/import?job={job.id}")
