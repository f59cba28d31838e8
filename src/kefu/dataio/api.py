"""/api/import and the exports: customers and calls from CSV / .xlsx, lists back out.

Imports are multipart uploads (``file``, optional ``dry_run``). Every row is checked before
anything is written; one bad row and the answer is 422 with every problem as
{row, field, reason, message:「第 N 行:字段:原因」} and the database is unchanged.
Importing and exporting need ``data.import_export`` (team lead, supervisor, admin).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from kefu.calls.api import Filters
from kefu.core.security import Permission
from kefu.dataio import (
    MEDIA_TYPES,
    ImportRejected,
    ImportResult,
    export_calls,
    export_customers,
    export_filename,
    import_calls,
    import_customers,
)
from kefu.dataio.tables import Format, file_error
from kefu.web.deps import DB, CurrentUser, require

router = APIRouter(prefix="/api", tags=["import/export"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def result_json(result: ImportResult) -> dict[str, Any]:
    return {
        "entity": result.entity,
        "source": result.source,
        "rows": result.rows,
        "created": result.created,
        "ids": result.ids,
        "ignored_columns": result.ignored_columns,
        "dry_run": result.dry_run,
        "message": result.message,
    }


def rejected_json(error: ImportRejected) -> dict[str, Any]:
    return {
        "detail": "没有导入任何数据:" + str(error),
        "errors": [{"row": e.row, "field": e.field, "reason": e.reason, "message": str(e)} for e in error.errors],
    }


def read_upload(data: bytes) -> bytes:
    if not data:
        raise file_error("文件是空的")
    if len(data) > MAX_UPLOAD_BYTES:
        raise file_error(f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB,请分批导入")
    return data


async def _import(session: Session, user: Any, kind: Literal["customers", "calls"], file: UploadFile, dry_run: bool):
    importer = import_customers if kind == "customers" else import_calls
    try:
        data = read_upload(await file.read())
        result = importer(session, user.id, data, file.filename or f"{kind}.csv", dry_run=dry_run)
    except ImportRejected as error:
        session.rollback()  # nothing half-imported, whatever was flushed
        return JSONResponse(rejected_json(error), status_code=422)
    return result_json(result)


@router.post("/import/customers", dependencies=[require(Permission.IMPORT_EXPORT)])
async def import_customers_file(
    user: CurrentUser,
    session: DB,
    file: Annotated[UploadFile, File(description="CSV (UTF-8/GB18030/UTF-16) or .xlsx")],
    dry_run: Annotated[bool, Form()] = False,
) -> Any:
    """Columns 姓名, 电话 (required), 账户, 证件号码, 邮箱, 地址, 备注 (common aliases accepted)."""
    return await _import(session, user, "customers", file, dry_run)


@router.post("/import/calls", dependencies=[require(Permission.IMPORT_EXPORT)])
async def import_calls_file(
    user: CurrentUser,
    session: DB,
    file: Annotated[UploadFile, File(description="CSV (UTF-8/GB18030/UTF-16) or .xlsx")],
    dry_run: Annotated[bool, Form()] = False,
) -> Any:
    """One row per call: 呼叫方向, 振铃时间, 来电原因 (required), 工号, 客户编号/客户账户, times,
    小结 and 转写 (「客服: …」 lines or JSON) in a cell."""
    return await _import(session, user, "calls", file, dry_run)


def _download(data: bytes, stem: str, fmt: Format) -> Response:
    name = export_filename(stem, fmt)
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename=\"{stem}.{fmt}\"; filename*=UTF-8''{name}"},
    )


@router.get("/calls/export", dependencies=[require(Permission.IMPORT_EXPORT)])
def export_call_list(
    user: CurrentUser,
    session: DB,
    filters: Filters,
    format: Annotated[Format, Query()] = "csv",
) -> Response:
    """The call list with the filters of GET /api/calls, as CSV (UTF-8 with BOM) or .xlsx."""
    return _download(export_calls(session, user.id, filters, format), "calls", format)


@router.get("/customers/export", dependencies=[require(Permission.IMPORT_EXPORT)])
def export_customer_list(
    user: CurrentUser,
    session: DB,
    format: Annotated[Format, Query()] = "csv",
) -> Response:
    """Every customer with full details (audited), as CSV (UTF-8 with BOM) or .xlsx."""
    return _download(export_customers(session, user.id, format), "customers", format)
