"""A job as the API answers it (and the import page's progress bar reads it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from kefu.core.fields import CentreTime
from kefu.jobs.models import Job, JobKind, JobStatus
from kefu.jobs.service import describe


class JobUser(BaseModel):
    id: int
    agent_no: str
    name: str


class JobOut(BaseModel):
    id: int
    kind: JobKind
    kind_label: str = Field(description="导入客户, 导入通话, 导出客户, 导出通话, 导出工单")
    title: str = Field(description="what the job does, e.g. 导入客户(检查) 客户.csv")
    dry_run: bool = Field(description="an import's check only: nothing is written (confirm with POST …/confirm)")
    status: JobStatus
    status_label: str = Field(description="排队中, 进行中, 已完成, 失败")
    phase: str | None = Field(description="what a running job does now: 读取文件, 检查数据, 质检, 写入数据库, 生成文件")
    done: int
    total: int | None
    percent: int | None = Field(description="0–100; None while the total is not known yet")
    result: dict[str, Any] | None = Field(
        description="done: an import's {entity, source, rows, created, ids, ignored_columns, dry_run, message}, "
        "an export's {rows, format, message}; failed import: {detail, errors: [{row, field, reason, message}], "
        "error_count}"
    )
    error: str | None = Field(description="why it failed, for people")
    file_name: str | None
    file_size: int | None
    download_url: str | None = Field(description="a finished export's file")
    status_url: str
    created_by: JobUser
    created_at: CentreTime
    started_at: CentreTime | None
    finished_at: CentreTime | None


def present(job: Job) -> JobOut:
    creator = job.creator
    finished_export = not job.kind.is_import and job.status == JobStatus.DONE and job.file_name
    return JobOut(
        id=job.id,
        kind=job.kind,
        kind_label=job.kind.label,
        title=describe(job),
        dry_run=bool(job.kind.is_import and (job.params or {}).get("dry_run")),
        status=job.status,
        status_label=job.status.label,
        phase=job.phase,
        done=job.done,
        total=job.total,
        percent=job.percent,
        result=job.result,
        error=job.error,
        file_name=job.file_name,
        file_size=job.file_size,
        download_url=f"/api/jobs/{job.id}/file" if finished_export else None,
        status_url=f"/api/jobs/{job.id}",
        created_by=JobUser(id=creator.id, agent_no=creator.agent_no, name=creator.name),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
