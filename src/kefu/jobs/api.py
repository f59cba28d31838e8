"""/api/jobs: the status, progress and result of an import or export, the exported file, and the
confirmation of a checked import. A job is seen by its creator (and supervisors and admins):
anyone else gets 404, as for a job that does not exist (kefu.jobs.service decides)."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, FastAPI, Request, Response
from fastapi.responses import FileResponse

from kefu.core.fields import Id
from kefu.dataio.jobs import run as run_imports_and_exports
from kefu.http.api_docs import ErrorBody, download_responses
from kefu.http.deps import DB, CurrentUser
from kefu.jobs import service
from kefu.jobs.files import JobFiles
from kefu.jobs.runner import JobRunner
from kefu.jobs.schemas import JobOut, present

router = APIRouter(prefix="/api/jobs", tags=["jobs"])

MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def job_runner(app: FastAPI) -> JobRunner:
    """The app's runner (started by kefu.web.lifespan; without it — a test client without its
    lifespan — jobs wait until someone calls ``run_pending``)."""
    runner: JobRunner | None = getattr(app.state, "jobs", None)
    if runner is None:
        runner = JobRunner.for_settings(app.state.sessions, app.state.settings, run_imports_and_exports)
        app.state.jobs = runner
    return runner


def job_files(request: Request) -> JobFiles:
    return job_runner(request.app).files


def accepted(request: Request, response: Response, background: BackgroundTasks, job: Any) -> JobOut:
    """202 with the job and its status URL; the runner is woken once the job is committed."""
    response.status_code = 202
    response.headers["Location"] = f"/api/jobs/{job.id}"
    background.add_task(job_runner(request.app).wake)
    return present(job)


@router.get("")
def my_jobs(user: CurrentUser, session: DB) -> list[JobOut]:
    """My imports and exports, newest first (the last 20)."""
    return [present(job) for job in service.list_jobs(session, user)]


@router.get("/{job_id}")
def get_job(job_id: Id, user: CurrentUser, session: DB) -> JobOut:
    """Status (排队中/进行中/已完成/失败), progress (done of total, percent), and at the end the
    result: an import's counts and ids, or every bad row as 「第 N 行:字段:原因」 (nothing was
    imported); an export's download_url."""
    return present(service.get_job(session, user, job_id))


@router.get(
    "/{job_id}/file",
    response_class=Response,
    responses={
        **download_responses("csv", "xlsx", description="导出的文件:CSV(UTF-8,带 BOM)或 .xlsx"),
        410: {"model": ErrorBody, "description": "文件已过保存期(24 小时),请重新导出"},
    },
)
def download(job_id: Id, request: Request, user: CurrentUser, session: DB) -> Response:
    """A finished export's file (kept 24 hours; 410 after). Audited: it holds personal data."""
    path, name = service.do_download(session, user, job_id, job_files(request))
    ascii_name = f"{PurePath(name).stem.split('-')[0] or 'export'}{PurePath(name).suffix}"
    return FileResponse(
        path,
        media_type=MEDIA_TYPES.get(PurePath(name).suffix, "application/octet-stream"),
        headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"},
    )


@router.post("/{job_id}/confirm", status_code=202)
def confirm(
    job_id: Id, request: Request, response: Response, background: BackgroundTasks, user: CurrentUser, session: DB
) -> JobOut:
    """Import for real the file a dry run (``dry_run=true``) checked: a new job; every row is
    checked again, all or nothing."""
    job = service.do_confirm(session, user, job_id, job_files(request))
    return accepted(request, response, background, job)
