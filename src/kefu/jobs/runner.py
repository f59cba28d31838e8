"""The job runner: one per server process, started with the app (kefu.web.lifespan).

A thread of the web process claims queued jobs one at a time (several processes may share the
database: a claim is a conditional update, so each job runs once) and hands each to a **separate
worker process**. Reading a 50,000-row file, checking every row and inspecting thousands of
transcripts is pure Python work: in a thread of the web process it would hold the GIL for
seconds at a time and every web request would wait for it. In its own process it only shares
the CPUs. The worker process is started on the first job and left to exit after
``IDLE_SECONDS`` without work (``KEFU_JOB_WORKER=thread`` runs jobs in a thread instead, for
tests and debugging).

While a job runs, the runner thread writes its heartbeat every ``HEARTBEAT_SECONDS``. A running
job whose runner is gone — a process of this machine that no longer exists, an earlier life of
this very process, or no heartbeat for ``STALE_AFTER`` — is marked failed with a Chinese message
(at start and every ``RECOVER_SECONDS``); its import wrote nothing.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kefu.core.db import make_engine, session_factory, transaction
from kefu.core.errors import KefuError
from kefu.jobs import service
from kefu.jobs.files import KEEP_HOURS, JobFiles
from kefu.jobs.models import Job, JobKind

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=120)
RECOVER_SECONDS = 30.0
SWEEP_SECONDS = 600.0
IDLE_SECONDS = 1800.0
PROGRESS_SECONDS = 0.5  # at most this often a progress report is written


class JobFailed(Exception):
    """The job cannot be done: ``message`` for people, ``result`` (e.g. the bad rows) kept."""

    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


@dataclass
class JobContext:
    """What a job's code gets: the job, the database, its files, and progress reports."""

    job_id: int
    kind: JobKind
    params: dict[str, Any]
    user_id: int
    runner: str
    sessions: sessionmaker[Session]
    files: JobFiles
    keep_hours: int = KEEP_HOURS
    completed: bool = False
    _last: float = field(default=0.0, repr=False)
    _phase: str | None = field(default=None, repr=False)

    def progress(self, phase: str, done: int = 0, total: int | None = None, *, force: bool = False) -> None:
        """Written now and then (a new phase at once); raises ``service.JobLost`` when the job
        was taken from this runner, and stops a worker process whose server is gone."""
        now = time.monotonic()
        if not force and phase == self._phase and now - self._last < PROGRESS_SECONDS:
            return
        parent = multiprocessing.parent_process()
        if parent is not None and not parent.is_alive():
            raise service.JobLost(self.job_id)
        self._last, self._phase = now, phase
        with transaction(self.sessions) as session:
            service.report(session, self.job_id, self.runner, phase, done, total)

    def complete(self, session: Session, result: dict[str, Any], **file: Any) -> None:
        """End the job in the caller's transaction (an import: with its rows)."""
        service.complete(session, self.job_id, self.runner, result, **file)
        self.completed = True


Work = Callable[[JobContext], dict[str, Any]]
"""What a job does, by its kind (kefu.dataio.jobs.run: the imports and exports); given to the
runner by the server that starts it, so the jobs domain needs no import of the work itself."""


def run_job(sessions: sessionmaker[Session], files: JobFiles, job_id: int, runner: str, work: Work) -> None:
    """Do one claimed job and record how it ended. Never raises."""
    with sessions() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        context = JobContext(job_id, job.kind, dict(job.params or {}), job.created_by, runner, sessions, files)
    try:
        result = work(context)
        if not context.completed:
            with transaction(sessions) as session:
                service.complete(session, job_id, runner, result)
    except service.JobLost:
        log.info("job %s was taken from this runner; its work is dropped", job_id)
    except JobFailed as failure:
        _fail(sessions, job_id, runner, failure.message, failure.result)
    except KefuError as error:
        _fail(sessions, job_id, runner, _nothing_written(context, str(error)))
    except Exception as error:
        log.exception("job %s failed", job_id)
        message = f"任务出错({type(error).__name__}),请重试或联系管理员"
        _fail(sessions, job_id, runner, _nothing_written(context, message))
    finally:
        if context.kind.is_import and not context.params.get("dry_run"):
            files.input(job_id).unlink(missing_ok=True)  # imported or not: the upload is not needed again


def _nothing_written(context: JobContext, message: str) -> str:
    if not context.kind.is_import or "没有导入任何数据" in message:
        return message
    return f"没有导入任何数据:{message}"


def _fail(sessions: sessionmaker[Session], job_id: int, runner: str, message: str, result: Any = None) -> None:
    try:
        with transaction(sessions) as session:
            service.fail(session, job_id, message, result, runner=runner)
    except Exception:
        log.exception("job %s: its failure could not be recorded", job_id)


# ---------------------------------------------------------------------------- the worker process


@dataclass(frozen=True)
class Target:
    """What a worker process needs to open the database and the files on its own."""

    database_url: str
    data_dir: str
    rules: tuple[str, ...] = ()


_process_sessions: dict[Target, sessionmaker[Session]] = {}
WORKER_NICENESS = 10  # the web server's processes come first when the CPUs are busy


def _worker_started() -> None:
    """A worker process yields the CPUs to the web server, so that requests stay fast while a
    long import runs (2 cores: one job, one server). It leaves stopping to its server: a Ctrl+C
    or a SIGTERM sent to the whole process group ends the server, whose runner then ends the
    job as interrupted and kills this process (``JobRunner.stop``)."""
    with contextlib.suppress(AttributeError, OSError):  # not on this platform, or not allowed
        os.nice(WORKER_NICENESS)
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def execute(target: Target, work: Work, job_id: int, runner: str) -> None:
    """A worker process's entry point: ``run_job`` on its own engine (kept for its next jobs).
    ``work`` is a module-level function: it reaches the process by its name."""
    sessions = _process_sessions.get(target)
    if sessions is None:
        from kefu.core.clock import centre_tz
        from kefu.quality.rulebooks import RulebookSource

        rulebooks = RulebookSource(files=[Path(p) for p in target.rules], zone=centre_tz())
        sessions = session_factory(make_engine(target.database_url), rulebooks=rulebooks)
        _process_sessions[target] = sessions
    run_job(sessions, JobFiles(Path(target.data_dir)), job_id, runner, work)


# ---------------------------------------------------------------------------- the runner


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobRunner:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        files: JobFiles,
        target: Target | None,
        work: Work,
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        """``target`` None: jobs run in a thread of this process (tests, debugging)."""
        self.sessions = sessions
        self.files = files
        self.target = target
        self.work = work
        self.poll_seconds = poll_seconds
        self.host = socket.gethostname()[:60]
        self.name = f"{self.host}:{os.getpid()}:{secrets.token_hex(6)}"
        self.current: int | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._idle_since = time.monotonic()

    @classmethod
    def for_settings(cls, sessions: sessionmaker[Session], settings: Any, work: Work) -> JobRunner:
        """The runner of a server with ``settings`` (kefu.core.settings.Settings)."""
        data_dir = Path(settings.data_dir).resolve()
        target = None
        if settings.job_worker == "process":
            target = Target(settings.database, str(data_dir), tuple(str(Path(p).resolve()) for p in settings.rules))
        return cls(sessions, JobFiles(data_dir), target, work)

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="kefu-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """A job was queued: look now, not at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking jobs; a job under way is ended as interrupted (its import rolls back)."""
        self._stop.set()
        self._wake.set()
        current = self.current
        if current is not None:
            self._interrupt(current)
        self._shutdown_pool(kill=True)
        if self._thread is not None:
            self._thread.join(timeout)

    def _interrupt(self, job_id: int) -> None:
        try:
            with transaction(self.sessions) as session:
                job = session.get(Job, job_id)
                if job is not None:
                    service.fail(session, job_id, service.interrupted_message(job.kind), runner=self.name)
        except Exception:
            log.exception("job %s could not be marked interrupted", job_id)

    # ------------------------------------------------------------------ recovery

    def is_gone(self, runner: str | None, beat: datetime | None) -> bool:
        """Whether the runner named ``runner`` (host:pid:token) no longer runs its job."""
        if runner == self.name:
            return False
        if service.stale(beat, STALE_AFTER):
            return True
        host, _, rest = (runner or "").partition(":")
        pid, _, _ = rest.partition(":")
        if not pid.isdigit():
            return True
        if host != self.host:
            return False  # another machine's: its fresh heartbeat says it lives
        # This machine's: an earlier life of this very process (restarted), or a process gone.
        return int(pid) == os.getpid() or not _alive(int(pid))

    def recover(self) -> list[int]:
        try:
            with transaction(self.sessions) as session:
                failed = service.fail_interrupted(session, self.is_gone)
        except Exception:  # a database not migrated yet, or gone for a moment: next round
            log.exception("interrupted jobs could not be checked")
            return []
        if failed:
            log.warning("jobs %s were interrupted (restart or crash) and are marked failed", failed)
        return failed

    def sweep(self) -> None:
        try:
            with self.sessions() as session:
                keep = service.unfinished_ids(session)
            self.files.sweep(keep)
        except Exception:
            log.exception("old job files could not be swept")

    # ------------------------------------------------------------------ the loop

    def _loop(self) -> None:
        next_recover = time.monotonic() + RECOVER_SECONDS
        next_sweep = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_recover:
                self.recover()
                next_recover = now + RECOVER_SECONDS
            if now >= next_sweep:
                self.sweep()
                next_sweep = now + SWEEP_SECONDS
            try:
                with transaction(self.sessions) as session:
                    job = service.claim_next(session, self.name)
                    job_id = job.id if job is not None else None
            except Exception:
                log.exception("could not look for queued jobs")
                job_id = None
            if job_id is not None and not self._stop.is_set():
                self._run(job_id)
                continue
            if self._pool is not None and time.monotonic() - self._idle_since > IDLE_SECONDS:
                self._shutdown_pool()
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def run_pending(self) -> int:
        """Run every queued job here and now, one after the other (tests, scripts); how many."""
        count = 0
        while True:
            with transaction(self.sessions) as session:
                job = service.claim_next(session, self.name)
                job_id = job.id if job is not None else None
            if job_id is None:
                return count
            run_job(self.sessions, self.files, job_id, self.name, self.work)
            count += 1

    def _submit(self, job_id: int) -> Future[None]:
        if self.target is None:
            future: Future[None] = Future()

            def work() -> None:
                try:
                    run_job(self.sessions, self.files, job_id, self.name, self.work)
                finally:
                    future.set_result(None)

            threading.Thread(target=work, name=f"kefu-job-{job_id}", daemon=True).start()
            return future
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_started,
                max_tasks_per_child=20,
            )
        return self._pool.submit(execute, self.target, self.work, job_id, self.name)

    def _run(self, job_id: int) -> None:
        self.current = job_id
        try:
            future = self._submit(job_id)
            while not self._stop.is_set():
                try:
                    future.result(timeout=HEARTBEAT_SECONDS)
                    return
                except FutureTimeout:
                    self._beat(job_id)
        except BrokenProcessPool:
            if self._stop.is_set():
                return  # stopped by ``stop``, which ends the job as interrupted
            log.error("the job worker process died during job %s", job_id)
            self._pool = None
            message = "任务进程意外退出(可能是文件过大、内存不足),没有写入任何数据;请重试"
            _fail(self.sessions, job_id, self.name, message)
        except Exception:
            log.exception("job %s could not be run", job_id)
            _fail(self.sessions, job_id, self.name, "任务无法启动,没有写入任何数据;请重试或联系管理员")
        finally:
            self.current = None
            self._idle_since = time.monotonic()

    def _beat(self, job_id: int) -> None:
        try:
            with transaction(self.sessions) as session:
                service.report(session, job_id, self.name)
        except service.JobLost:
            pass  # failed meanwhile: the job's own next report or completion finds out
        except Exception:
            log.exception("job %s: heartbeat not written", job_id)

    def _shutdown_pool(self, *, kill: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:  # a job under way was ended as interrupted: its work is not wanted
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
