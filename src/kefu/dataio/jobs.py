"""Imports and exports as background jobs (kefu.jobs runs them, in a worker process).

An import keeps "nothing half-imported" and keeps the database's write lock short: the file is
read and every row checked (reads only), the calls are inspected (CPU only), and only then one
short write transaction stores the rows — together with the job's end, so that an import whose
job did not finish wrote nothing. A dry run stops after the checks.
"""

from __future__ import annotations

from typing import Any

from kefu.accounts.models import User
from kefu.calls.schemas import CallFilter
from kefu.core.audit import AuditAction, AuditEntity, record
from kefu.core.db import transaction, utcnow
from kefu.core.privacy import Reader
from kefu.core.spreadsheets import export_filename, export_rows
from kefu.dataio.calls import check_calls, export_calls, score_calls, write_calls
from kefu.dataio.customers import check_customers, export_customers, write_customers
from kefu.dataio.tables import MAX_ROWS, ImportRejected, counted
from kefu.jobs.models import JobKind
from kefu.jobs.runner import JobContext, JobFailed
from kefu.workorders.presenting import EXPORT_COLUMNS, export_row
from kefu.workorders.schemas import WorkOrderFilter
from kefu.workorders.service import find_orders


def run(context: JobContext) -> dict[str, Any]:
    """Do the job; its result (the job is completed by the caller unless it was already)."""
    if context.kind in (JobKind.IMPORT_CUSTOMERS, JobKind.IMPORT_CALLS):
        return _import(context)
    return _export(context)


def _import(context: JobContext) -> dict[str, Any]:
    params = context.params
    path = context.files.input(context.job_id)
    if not path.is_file():
        raise JobFailed(f"上传的文件已不存在(保留 {context.keep_hours} 小时),没有导入任何数据;请重新上传")
    data = path.read_bytes()
    filename = str(params.get("filename") or "上传文件")
    calls = context.kind == JobKind.IMPORT_CALLS
    context.progress("读取文件", 0, None, force=True)
    try:
        with context.sessions() as session:
            checked = (check_calls if calls else check_customers)(session, data, filename, progress=context.progress)
        if params.get("dry_run"):
            return checked.result(dry_run=True).as_json()
        cards = None
        if calls:
            with context.sessions() as session:
                cards = score_calls(session, checked, progress=context.progress)
        context.progress("写入数据库", 0, checked.rows, force=True)
        with transaction(context.sessions) as session:
            user = session.get(User, context.user_id)
            actor = user.id if user else None
            if cards is not None:
                result = write_calls(session, actor, checked, cards).as_json()
            else:
                result = write_customers(session, actor, checked).as_json()
            context.complete(session, result)
        return result
    except ImportRejected as rejected:
        raise JobFailed("没有导入任何数据:" + str(rejected), rejected.as_json(ImportRejected.KEPT)) from None


def _export(context: JobContext) -> dict[str, Any]:
    params = context.params
    fmt = params.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise JobFailed(f"不支持的导出格式“{fmt}”,可选:csv、xlsx")
    context.progress("读取数据", 0, None, force=True)
    with transaction(context.sessions) as session:
        user = session.get(User, context.user_id)
        if user is None:
            raise JobFailed("发起导出的用户已不存在")
        rows = 0

        def progress(phase: str, done: int, total: int | None) -> None:
            nonlocal rows
            rows = total or rows
            context.progress(phase, done, total)

        if context.kind == JobKind.EXPORT_CUSTOMERS:
            stem, data = "customers", export_customers(session, Reader(None, user), fmt, progress=progress)
        elif context.kind == JobKind.EXPORT_CALLS:
            filters = CallFilter.model_validate(params.get("filters") or {})
            stem, data = "calls", export_calls(session, Reader(None, user), filters, fmt, progress=progress)
        else:
            stem, data = "workorders", _workorders(session, user, fmt, params.get("filters") or {}, progress)
        name = export_filename(stem, fmt)
        context.files.write(context.files.output(context.job_id), data)
        result = {"rows": rows, "format": fmt, "message": f"已导出 {rows} 条,可以下载 {name}"}
        context.complete(session, result, file_name=name, file_size=len(data))
    return result


def _workorders(session: Any, user: User, fmt: str, filters: dict[str, Any], progress: Any) -> bytes:
    """The work-order list (filters of GET /api/workorders) as the work-order module presents it."""
    now = utcnow()
    found = find_orders(session, user, WorkOrderFilter.model_validate(filters), now, limit=MAX_ROWS)
    reader = Reader(None, user)  # one audit entry for the whole file, below
    rows = counted((export_row(order, reader, now) for order in found), len(found), progress)
    data = export_rows(EXPORT_COLUMNS, rows, fmt, sheet_title="工单")  # type: ignore[arg-type]
    record(
        session,
        user.id,
        AuditAction.EXPORT,
        AuditEntity.WORK_ORDER,
        None,
        detail=f"导出工单 {len(found)} 条({fmt})",
        changes={"filters": [None, filters]},
    )
    return data
