"""Background jobs: long imports and exports run outside the web workers (kefu.jobs.runner), and
their record — status, progress, result, the file to download — stays in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.core.choices import ChoiceSet, enum_column
from kefu.core.db import Base, utcnow


class JobStatus(ChoiceSet, title="任务状态"):
    QUEUED = "queued", "排队中", "secondary"
    RUNNING = "running", "进行中", "primary"
    DONE = "done", "已完成", "success"
    FAILED = "failed", "失败", "danger"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED)


class JobKind(ChoiceSet, title="任务类型"):
    IMPORT_CUSTOMERS = "import_customers", "导入客户"
    IMPORT_CALLS = "import_calls", "导入通话"
    EXPORT_CUSTOMERS = "export_customers", "导出客户"
    EXPORT_CALLS = "export_calls", "导出通话"
    EXPORT_WORKORDERS = "export_workorders", "导出工单"

    @property
    def is_import(self) -> bool:
        return self.value.startswith("import_")


class Job(Base):
    """One import or export. The uploaded file and the exported file live in the data folder
    (kefu.jobs.files), named by the job's id; the row says what became of them."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind, 32))
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus, 32), default=JobStatus.QUEUED, index=True)
    # What to do: {"filename", "dry_run"} for an import, {"format", "filters"} for an export.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # An import confirmed after its dry run: the checked job whose file it imports.
    checked_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The process running it ("host:pid:token") and when it last said it was alive: a job whose
    # runner is gone (a restart, a crash) is marked failed (kefu.jobs.service.fail_interrupted).
    runner: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None]
    phase: Mapped[str | None] = mapped_column(String(64))  # 读取文件, 检查数据, 质检, 写入数据库, 生成文件
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(2000))
    file_name: Mapped[str | None] = mapped_column(String(255))  # an export's download name
    file_size: Mapped[int | None]

    creator: Mapped[User] = relationship(lazy="joined")

    @property
    def percent(self) -> int | None:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total:
            return None
        return min(99, int(self.done * 100 / self.total))
