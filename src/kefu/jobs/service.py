"""Jobs: who may see one (``may_see``: its creator, supervisors and admins — the API and pages ask
here), starting and confirming them (``do_*``, audited), and the runner's bookkeeping (claiming,
progress, the end), which is not a person's action and so not audited.

A job moves queued → running → done | failed. A running job belongs to one runner (a process,
``Job.runner``); the runner's completion and every progress report only count while the job is
still its own, so a job already marked failed (its runner was taken for gone) never turns into
done, and an import whose job was failed rolls its rows back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.db import utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid, KefuError, NotFound
from kefu.core.security import Permission, Role, allowed
from kefu.jobs.files import KEEP_HOURS, JobFiles
from kefu.jobs.models import Job, JobKind, JobStatus

ENTITY = audit.AuditEntity.JOB
# Who sees every job (to help a colleague, to follow up an export of personal data).
OVERSEERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
INTERRUPTED = "任务在执行中被中断(服务重启或进程退出)"


class Gone(KefuError):
    """The job's file was there once and has been deleted (after ``KEEP_HOURS``)."""

    status = 410


class JobLost(Exception):
    """The job is no longer this runner's (marked failed meanwhile): stop, write nothing."""


def confirmed_by(session: Session, checked_job_id: int) -> int | None:
    """The import job started from a checked (dry-run) job, if it was confirmed."""
    return session.scalar(select(Job.id).where(Job.checked_job_id == checked_job_id))


def may_see(user: User, job: Job) -> bool:
    """A job's status, result and file are its creator's; supervisors and admins see all."""
    return job.created_by == user.id or user.role in OVERSEERS


def get_job(session: Session, user: User, job_id: int) -> Job:
    """The job if ``user`` may see it; otherwise the same 404 as for a job that does not exist
    (a number someone else's job has tells nothing)."""
    job = session.get(Job, job_id)
    if job is None or not may_see(user, job):
        raise NotFound(f"任务 {job_id} 不存在")
    return job


def list_jobs(session: Session, user: User, *, limit: int = 20) -> list[Job]:
    """The user's own jobs, newest first."""
    query = select(Job).where(Job.created_by == user.id).order_by(Job.id.desc()).limit(limit)
    return list(session.scalars(query))


def _may_run(user: User) -> None:
    if not allowed(user.role, Permission.IMPORT_EXPORT):
        raise Forbidden(f"{user.role.label}无权导入或导出数据")


def do_start(
    session: Session,
    user: User,
    kind: JobKind,
    params: dict[str, Any],
    files: JobFiles,
    upload: bytes | None = None,
) -> Job:
    """Queue a job (an import with its uploaded file); a runner picks it up."""
    _may_run(user)
    if kind.is_import and upload is None:
        raise Invalid("导入任务需要上传文件")
    job = Job(kind=kind, status=JobStatus.QUEUED, params=params, created_by=user.id)
    session.add(job)
    session.flush()
    if upload is not None:
        files.write(files.input(job.id), upload)
    audit.record(session, user.id, "create", ENTITY, job.id, detail=f"开始任务:{describe(job)}")
    return job


def do_confirm(session: Session, user: User, job_id: int, files: JobFiles) -> Job:
    """Import, for real, the file a dry run checked: a new job on the same upload (its rows are
    checked again, the database may have changed meanwhile). Only the one who checked it."""
    checked = get_job(session, user, job_id)
    if checked.created_by != user.id:
        raise Forbidden("只能确认自己检查过的文件")
    if not checked.kind.is_import or not checked.params.get("dry_run"):
        raise Invalid(f"任务 {job_id} 不是导入前的检查,无需确认")
    if checked.status != JobStatus.DONE:
        raise Conflict(f"任务 {job_id} {checked.status.label},只有检查通过的文件才能确认导入")
    already = session.scalar(select(Job.id).where(Job.checked_job_id == checked.id))
    if already is not None:
        raise Conflict(f"这个文件已确认导入(任务 {already}),请勿重复导入")
    _may_run(user)
    job = Job(
        kind=checked.kind,
        status=JobStatus.QUEUED,
        params={**checked.params, "dry_run": False},
        created_by=user.id,
        checked_job_id=checked.id,
    )
    session.add(job)
    session.flush()
    if not files.share_input(checked.id, job.id):
        raise Conflict(f"待导入的文件已失效(检查后保留 {KEEP_HOURS} 小时),请重新选择文件检查")
    audit.record(session, user.id, "create", ENTITY, job.id, detail=f"确认导入(检查任务 {checked.id}):{describe(job)}")
    return job


def do_download(session: Session, user: User, job_id: int, files: JobFiles) -> tuple[Path, str]:
    """The exported file of a finished export job, and its download name; audited (it holds
    personal data)."""
    job = get_job(session, user, job_id)
    if job.kind.is_import:
        raise Invalid(f"任务 {job_id} 是导入任务,没有可下载的文件")
    if job.status != JobStatus.DONE or not job.file_name:
        raise Conflict(f"任务 {job_id} {job.status.label},文件还不能下载")
    path = files.output(job.id)
    if not path.is_file():
        raise Gone(f"导出文件已过期(保留 {KEEP_HOURS} 小时),请重新导出")
    audit.record(session, user.id, "download", ENTITY, job.id, detail=f"下载导出文件 {job.file_name}")
    return path, job.file_name


def describe(job: Job) -> str:
    params = job.params or {}
    if job.kind.is_import:
        check = "(检查)" if params.get("dry_run") else ""
        return f"{job.kind.label}{check} {params.get('filename', '')}".strip()
    return f"{job.kind.label}({params.get('format', 'csv')})"


# ---------------------------------------------------------------------------- the runner's side


def claim_next(session: Session, runner: str, now: datetime | None = None) -> Job | None:
    """The oldest queued job, now running for ``runner``; None when none is waiting. Several
    processes may ask at once: the conditional update lets exactly one of them have it."""
    now = now or utcnow()
    for _ in range(5):
        job_id = session.scalar(select(Job.id).where(Job.status == JobStatus.QUEUED).order_by(Job.id).limit(1))
        if job_id is None:
            return None
        taken = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.RUNNING, runner=runner, started_at=now, heartbeat_at=now, phase="准备")
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            return session.get(Job, job_id)
    return None


def _owned(job_id: int, runner: str) -> Any:
    return (Job.id == job_id, Job.status == JobStatus.RUNNING, Job.runner == runner)


def report(
    session: Session, job_id: int, runner: str, phase: str | None = None, done: int | None = None, total: Any = ...
) -> None:
    """Progress (and that the runner lives: the heartbeat alone when nothing else is given;
    ``total`` is left as it was unless given, None meaning not known yet). ``JobLost`` when the
    job is no longer the runner's."""
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if phase is not None:
        values["phase"] = phase[:64]
    if done is not None:
        values["done"] = done
    if total is not ...:
        values["total"] = total
    changed = session.execute(update(Job).where(*_owned(job_id, runner)).values(**values))
    if not changed.rowcount:  # type: ignore[attr-defined]
        raise JobLost(job_id)


def complete(
    session: Session,
    job_id: int,
    runner: str,
    result: dict[str, Any],
    *,
    file_name: str | None = None,
    file_size: int | None = None,
) -> None:
    """Done, in the caller's transaction: an import passes its write transaction, so the rows
    and the job's end are committed together. ``JobLost`` (roll back!) if the job is not the
    runner's any more."""
    changed = session.execute(
        update(Job)
        .where(*_owned(job_id, runner))
        .values(
            status=JobStatus.DONE,
            finished_at=utcnow(),
            phase=None,
            result=result,
            error=None,
            file_name=file_name,
            file_size=file_size,
        )
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        raise JobLost(job_id)


def fail(
    session: Session, job_id: int, error: str, result: dict[str, Any] | None = None, runner: str | None = None
) -> bool:
    """Failed with ``error`` (Chinese, for the user); with ``runner``, only if still its own."""
    conditions = _owned(job_id, runner) if runner else (Job.id == job_id, Job.status != JobStatus.DONE)
    changed = session.execute(
        update(Job)
        .where(*conditions)
        .values(status=JobStatus.FAILED, finished_at=utcnow(), phase=None, error=error[:2000], result=result)
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def interrupted_message(kind: JobKind) -> str:
    if kind.is_import:
        return f"{INTERRUPTED},没有导入任何数据;请重新导入"
    return f"{INTERRUPTED};请重新导出"


def fail_interrupted(session: Session, is_gone: Callable[[str | None, datetime | None], bool]) -> list[int]:
    """Mark failed every running job whose runner ``is_gone`` (judged from its name and its last
    heartbeat); their imports wrote nothing (the rows and the job's end commit together)."""
    running = session.execute(
        select(Job.id, Job.kind, Job.runner, Job.heartbeat_at).where(Job.status == JobStatus.RUNNING)
    ).all()
    failed = []
    for job_id, kind, runner, beat in running:
        if not is_gone(runner, beat):
            continue
        changed = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.runner == runner)
            .values(status=JobStatus.FAILED, finished_at=utcnow(), phase=None, error=interrupted_message(kind))
        )
        if changed.rowcount:  # type: ignore[attr-defined]
            failed.append(job_id)
    return failed


def unfinished_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Job.id).where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))))


def stale(beat: datetime | None, after: timedelta, now: datetime | None = None) -> bool:
    if beat is None:
        return True
    if beat.tzinfo is None:  # SQLite hands back the UTC value without its zone
        beat = beat.replace(tzinfo=(now or utcnow()).tzinfo)
    return (now or utcnow()) - beat > after
