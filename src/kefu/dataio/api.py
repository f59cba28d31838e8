"""/api/import and the exports: customers and calls from CSV / .xlsx, lists back out — each as
a background job (kefu.jobs), so that a large file never holds up the web workers.

Every route answers 202 with the job (``status_url``, ``Location``); ``GET /api/jobs/{id}`` gives
its status, progress and result. Imports are multipart uploads (``file``, optional
``dry_run``): every row is checked before anything is written; one bad row and the job fails
with every problem as {row, field, reason, message:「第 N 行:字段:原因」} and the database is
unchanged. A dry run only checks; ``POST /api/jobs/{id}/confirm`` then imports the same file.
Exports end with a ``download_url``. All of it needs ``data.import_export`` (team lead,
supervisor, admin).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, Response, UploadFile

from kefu.calls.api import Filters
from kefu.core.errors import Invalid, KefuError
from kefu.core.security import Permission
from kefu.core.spreadsheets import Format
from kefu.http.deps import DB, CurrentUser, require
from kefu.jobs import service as jobs
from kefu.jobs.api import accepted, job_files
from kefu.jobs.models import JobKind
from kefu.jobs.schemas import JobOut
from kefu.workorders.schemas import WorkOrderFilter

router = APIRouter(prefix="/api", tags=["import/export"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
FILE = Annotated[UploadFile, File(description="CSV (UTF-8/GB18030/UTF-16) or .xlsx, at most 20 MB")]
DRY_RUN = Annotated[bool, Form(description="only check every row; nothing is written")]


class TooLarge(KefuError):
    status = 413


def read_upload(upload: Any) -> bytes:
    """The uploaded file's bytes (``UploadFile`` or starlette's), read no further than the limit."""
    data = upload.file.read(MAX_UPLOAD_BYTES + 1)
    if not data or not data.strip():
        raise Invalid("文件是空的,请选择要导入的文件(CSV 或 Excel .xlsx)")
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB,请分批导入")
    return data


def start_import(session: Any, user: Any, request: Request, kind: JobKind, upload: Any, dry_run: bool) -> Any:
    """The import job of an uploaded file (the API's and the import page's)."""
    data = read_upload(upload)
    params = {"filename": upload.filename or "上传文件", "dry_run": dry_run}
    return jobs.do_start(session, user, kind, params, job_files(request), data)


@router.post("/import/customers", status_code=202, dependencies=[require(Permission.IMPORT_EXPORT)])
def import_customers_file(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: CurrentUser,
    session: DB,
    file: FILE,
    dry_run: DRY_RUN = False,
) -> JobOut:
    """Columns 姓名, 电话 (required), 账户, 证件号码, 邮箱, 地址, 备注 (common aliases accepted)."""
    job = start_import(session, user, request, JobKind.IMPORT_CUSTOMERS, file, dry_run)
    return accepted(request, response, background, job)


@router.post("/import/calls", status_code=202, dependencies=[require(Permission.IMPORT_EXPORT)])
def import_calls_file(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: CurrentUser,
    session: DB,
    file: FILE,
    dry_run: DRY_RUN = False,
) -> JobOut:
    """One row per call: 呼叫方向, 振铃时间, 来电原因 (required), 工号, 客户编号/客户账户, times,
    小结 and 转写 (「客服: …」 lines or JSON) in a cell. Every call is inspected on import."""
    job = start_import(session, user, request, JobKind.IMPORT_CALLS, file, dry_run)
    return accepted(request, response, background, job)


def start_export(session: Any, user: Any, request: Request, kind: JobKind, fmt: str, filters: dict[str, Any]) -> Any:
    return jobs.do_start(session, user, kind, {"format": fmt, "filters": filters}, job_files(request))


@router.post("/calls/export", status_code=202, dependencies=[require(Permission.IMPORT_EXPORT)])
def export_call_list(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: CurrentUser,
    session: DB,
    filters: Filters,
    format: Annotated[Format, Query()] = "csv",
) -> JobOut:
    """The calls (the filters of GET /api/calls; those the user may read) as CSV (UTF-8 with BOM)
    or .xlsx, importable again; at most 50,000."""
    where = filters.model_dump(mode="json", exclude_none=True)
    job = start_export(session, user, request, JobKind.EXPORT_CALLS, format, where)
    return accepted(request, response, background, job)


@router.post("/customers/export", status_code=202, dependencies=[require(Permission.IMPORT_EXPORT)])
def export_customer_list(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: CurrentUser,
    session: DB,
    format: Annotated[Format, Query()] = "csv",
) -> JobOut:
    """Every customer as the user may see them (unmasked only for `customer.unmask` roles; audited), as CSV
    (UTF-8 with BOM) or .xlsx."""
    job = start_export(session, user, request, JobKind.EXPORT_CUSTOMERS, format, {})
    return accepted(request, response, background, job)


@router.post("/workorders/export", status_code=202, dependencies=[require(Permission.IMPORT_EXPORT)])
def export_workorder_list(
    request: Request,
    response: Response,
    background: BackgroundTasks,
    user: CurrentUser,
    session: DB,
    filters: Annotated[WorkOrderFilter, Query()],
    format: Annotated[Format, Query()] = "csv",
) -> JobOut:
    """The work-order list (the filters of GET /api/workorders) as CSV (UTF-8 with BOM) or .xlsx."""
    where = filters.model_dump(mode="json", exclude_defaults=True)
    job = start_export(session, user, request, JobKind.EXPORT_WORKORDERS, format, where)
    return accepted(request, response, background, job)
