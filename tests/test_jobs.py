"""Imports and exports as background jobs (kefu.jobs), on SQLite and PostgreSQL: the lifecycle with
progress a user can follow, nothing half-imported whatever happens to the job, a job seen and
downloaded only by its creator (and supervisors, admins), a job cut off by a restart marked
failed, the worker process, and the import page following a job in Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import func, select

from browser_helpers import login
from conftest import client_for, live_server
from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.core.audit import AuditEntry
from kefu.core.db import transaction, utcnow
from kefu.core.security import Role
from kefu.core.settings import Settings
from kefu.customers.models import Customer
from kefu.dataio import jobs as dataio_jobs
from kefu.demo import seed_demo
from kefu.jobs import service
from kefu.jobs.api import job_runner
from kefu.jobs.models import Job, JobKind, JobStatus
from kefu.jobs.runner import JobContext, JobRunner
from kefu.web.app import create_app

OTHER_LEAD_PASSWORD = "Zu-导入-检查-2026!"


def rows(count: int, start: int = 0) -> str:
    return "".join(f"客户{n},1990{n:07d},ACC{n:07d}\n" for n in range(start, start + count))


def customers_csv(count: int) -> bytes:
    return ("姓名,电话,账户\n" + rows(count)).encode()


def make_app(tmp_path: Path, database_url: str | None = None, worker: str = "thread") -> FastAPI:
    settings = Settings(data_dir=tmp_path, database_url=database_url, secret_key="jobs-test", job_worker=worker)
    app = create_app(settings)
    seed_demo(app.state.sessions, activity=False, must_change_password=False)
    with transaction(app.state.sessions) as session:  # a second team lead, a stranger to the first one's jobs
        accounts.do_create_user(
            session, None, agent_no="20002", name="林峰", role=Role.TEAM_LEAD, password=OTHER_LEAD_PASSWORD
        )
    return app


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    application = make_app(tmp_path, database_url)
    yield application
    application.state.engine.dispose()


def wait_for(client: TestClient, url: str, done: Callable[[dict[str, Any]], bool], seconds: float = 60) -> Any:
    """Poll the job until ``done`` says so (a generous limit: only a hang fails)."""
    deadline = time.monotonic() + seconds
    while True:
        job = client.get(url).json()
        if done(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def finished(job: dict[str, Any]) -> bool:
    return job["status"] in ("done", "failed")


def customers(app: FastAPI) -> int:
    with app.state.sessions() as session:
        return session.scalar(select(func.count(Customer.id))) or 0


class Gate:
    """Holds a job at its first report of a phase until the test has looked (thread worker)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, phase: str) -> None:
        self.phase = phase
        self.reached = threading.Event()
        self.opened = threading.Event()
        original = JobContext.progress

        def progress(context: Any, name: str, done: int = 0, total: int | None = None, **kw: Any) -> None:
            original(context, name, done, total, **kw)
            if name == self.phase and done and not self.reached.is_set():
                self.reached.set()
                assert self.opened.wait(30), "the test never opened the gate"

        monkeypatch.setattr(JobContext, "progress", progress)

    def open(self) -> None:
        self.opened.set()


# ---------------------------------------------------------------------------- lifecycle


def test_an_import_job_runs_in_the_background_with_progress(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = Gate(monkeypatch, "检查数据")
    with TestClient(app) as client:  # the lifespan starts the runner
        lead = client_for(app, "20001", client=client)
        before = customers(app)
        started = lead.post("/api/import/customers", files={"file": ("客户.csv", customers_csv(2500))})
        assert started.status_code == 202 and started.json()["status"] in ("queued", "running")
        assert started.json()["status_label"] in ("排队中", "进行中") and started.headers["location"] == "/api/jobs/1"
        assert gate.reached.wait(30)
        running = lead.get("/api/jobs/1").json()
        assert (running["status"], running["status_label"], running["phase"]) == ("running", "进行中", "检查数据")
        assert (running["done"], running["total"], running["percent"]) == (1000, 2500, 40)
        assert running["result"] is None and running["started_at"] and customers(app) == before
        gate.open()
        done = wait_for(lead, "/api/jobs/1", finished)
    assert (done["status"], done["status_label"], done["percent"], done["error"]) == ("done", "已完成", 100, None)
    assert done["result"]["created"] == 2500 and len(done["result"]["ids"]) == 2500
    assert done["result"]["message"] == "客户.csv:共 2500 行,已导入 2500 条"
    assert done["finished_at"] >= done["started_at"] and done["created_by"]["agent_no"] == "20001"
    assert customers(app) == before + 2500
    with app.state.sessions() as session:
        actions = [(e.action, e.entity) for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))][-2:]
    assert actions == [("create", "job"), ("import", "customer")]


def test_a_bad_row_fails_the_job_with_every_problem_and_writes_nothing(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    data = ("姓名,电话,账户\n" + rows(1500) + "无电话客户,,\n" + rows(10, 5000) + "王五,12345,\n").encode()
    before = customers(app)
    started = lead.post("/api/import/customers", files={"file": ("客户.csv", data)})
    job_runner(app).run_pending()
    job = lead.get(started.json()["status_url"]).json()
    assert job["status"] == "failed" and job["result"]["error_count"] == 2
    assert [e["message"] for e in job["result"]["errors"]] == [
        "第 1502 行:电话:必填,不能为空",
        "第 1513 行:电话:电话号码格式不正确(手机 11 位,或区号-座机号)",
    ]
    assert job["error"].startswith("没有导入任何数据:第 1502 行:电话:必填")
    assert customers(app) == before


def test_a_job_failing_in_its_write_leaves_nothing(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "complete", broken)  # after the rows, in their transaction
    lead = client_for(app, "20001")
    before = customers(app)
    started = lead.post("/api/import/customers", files={"file": ("客户.csv", customers_csv(20))})
    job_runner(app).run_pending()
    job = lead.get(started.json()["status_url"]).json()
    assert job["status"] == "failed" and job["error"] == "没有导入任何数据:任务出错(RuntimeError),请重试或联系管理员"
    assert customers(app) == before
    with app.state.sessions() as session:
        assert not session.scalar(select(func.count()).where(AuditEntry.action == "import"))


def test_a_dry_run_then_its_confirmation(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    before = customers(app)
    checked = lead.post(
        "/api/import/customers", files={"file": ("客户.csv", customers_csv(3))}, data={"dry_run": "true"}
    )
    job_runner(app).run_pending()
    dry = lead.get(checked.json()["status_url"]).json()
    assert dry["dry_run"] and dry["title"] == "导入客户(检查) 客户.csv" and dry["result"]["created"] == 0
    assert customers(app) == before
    other = client_for(app, "20002", OTHER_LEAD_PASSWORD)
    assert other.post(f"/api/jobs/{dry['id']}/confirm").status_code == 404  # not theirs to see, let alone confirm
    confirmed = lead.post(f"/api/jobs/{dry['id']}/confirm")
    assert confirmed.status_code == 202 and not confirmed.json()["dry_run"]
    job_runner(app).run_pending()
    done = lead.get(confirmed.json()["status_url"]).json()
    assert done["result"]["created"] == 3 and customers(app) == before + 3
    assert lead.post(f"/api/jobs/{done['id']}/confirm").status_code == 422  # an import, not a check


# ---------------------------------------------------------------------------- whose job


def test_only_the_creator_and_overseers_see_a_job_and_its_file(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    started = lead.post("/api/customers/export", params={"format": "csv"})
    job_runner(app).run_pending()
    job = lead.get(started.json()["status_url"]).json()
    assert job["status"] == "done" and job["download_url"] == f"/api/jobs/{job['id']}/file"
    file = lead.get(job["download_url"])
    content = file.content.decode("utf-8-sig")  # a team lead's export is masked (kefu.core.privacy)
    assert file.status_code == 200 and "张*" in content and "张伟" not in content

    for stranger in (client_for(app, "20002", OTHER_LEAD_PASSWORD), client_for(app, "10001")):
        for url in (f"/api/jobs/{job['id']}", job["download_url"]):
            answer = stranger.get(url)
            assert answer.status_code == 404 and answer.json()["detail"] == f"任务 {job['id']} 不存在"
        assert stranger.get("/api/jobs").json() == []
        assert stranger.get(f"/import?job={job['id']}").status_code in (403, 404)  # agents may not open the page
    supervisor = client_for(app, "50001")
    assert supervisor.get(job["download_url"]).status_code == 200
    with app.state.sessions() as session:
        downloads = session.scalars(select(AuditEntry).where(AuditEntry.action == "download")).all()
    assert [(d.entity, d.entity_id) for d in downloads] == [("job", str(job["id"]))] * 2
    assert [e["id"] for e in lead.get("/api/jobs").json()] == [job["id"]]


def test_an_expired_file_is_gone(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    started = lead.post("/api/calls/export", params={"format": "xlsx"})
    runner = job_runner(app)
    runner.run_pending()
    job = lead.get(started.json()["status_url"]).json()
    folder = runner.files.folder(job["id"])
    old = time.time() - 25 * 3600
    os.utime(folder, (old, old))
    runner.sweep()
    answer = lead.get(job["download_url"])
    assert answer.status_code == 410 and answer.json()["detail"] == "导出文件已过期(保留 24 小时),请重新导出"


# ---------------------------------------------------------------------------- restarts


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def running_job(app: FastAPI, runner: str, beat_ago: timedelta = timedelta(0)) -> int:
    with transaction(app.state.sessions) as session:
        lead = session.scalar(select(User.id).where(User.agent_no == "20001"))
        assert lead is not None
        job = Job(
            kind=JobKind.IMPORT_CUSTOMERS,
            status=JobStatus.RUNNING,
            params={"filename": "客户.csv", "dry_run": False},
            created_by=lead,
            runner=runner,
            started_at=utcnow() - beat_ago,
            heartbeat_at=utcnow() - beat_ago,
            phase="检查数据",
        )
        session.add(job)
        session.flush()
        return job.id


def status(app: FastAPI, job_id: int) -> tuple[JobStatus, str | None]:
    with app.state.sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job.status, job.error


def test_a_restart_marks_the_jobs_it_cut_off_as_failed(app: FastAPI) -> None:
    lead = client_for(app, "20001")  # a user for the jobs
    runner = job_runner(app)
    here = runner.host
    crashed = running_job(app, f"{here}:{dead_pid()}:a1b2")  # the server process of this machine is gone
    earlier_life = running_job(app, f"{here}:{os.getpid()}:0ld")  # this very process, before its restart
    elsewhere = running_job(app, "other-host:4242:c3d4")  # another machine, alive (fresh heartbeat)
    silent = running_job(app, "other-host:4343:e5f6", beat_ago=timedelta(minutes=10))  # another, silent
    with TestClient(app):  # start: the runner looks before taking any job
        pass
    message = "任务在执行中被中断(服务重启或进程退出),没有导入任何数据;请重新导入"
    for job_id in (crashed, earlier_life, silent):
        assert status(app, job_id) == (JobStatus.FAILED, message)
    assert status(app, elsewhere) == (JobStatus.RUNNING, None)
    assert lead.get(f"/api/jobs/{crashed}").json()["status_label"] == "失败"


def test_an_import_cut_off_before_its_end_writes_nothing(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process restarts while the job checks its rows: the new life marks the job failed,
    and what the old one still does comes to nothing (its rows and the job's end commit together)."""
    original = dataio_jobs.write_customers

    def restart_meanwhile(*args: Any, **kwargs: Any) -> Any:
        runner = job_runner(app)
        JobRunner(app.state.sessions, runner.files, None, runner.work).recover()  # the next life of this process
        return original(*args, **kwargs)

    monkeypatch.setattr(dataio_jobs, "write_customers", restart_meanwhile)
    lead = client_for(app, "20001")
    before = customers(app)
    started = lead.post("/api/import/customers", files={"file": ("客户.csv", customers_csv(50))})
    job_runner(app).run_pending()
    job = lead.get(started.json()["status_url"]).json()
    assert job["status"] == "failed" and job["error"].startswith("任务在执行中被中断")
    assert customers(app) == before


def test_stopping_the_server_ends_a_running_job_as_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(tmp_path)
    gate = Gate(monkeypatch, "检查数据")
    before = customers(app)
    with TestClient(app) as client:
        lead = client_for(app, "20001", client=client)
        lead.post("/api/import/customers", files={"file": ("客户.csv", customers_csv(1500))})
        assert gate.reached.wait(30)
    assert status(app, 1) == (JobStatus.FAILED, "任务在执行中被中断(服务重启或进程退出),没有导入任何数据;请重新导入")
    gate.open()  # the job goes on, and its next report finds the job is no longer its own
    time.sleep(0.5)
    assert customers(app) == before and status(app, 1)[0] == JobStatus.FAILED


# ---------------------------------------------------------------------------- the worker process


def test_jobs_run_in_a_worker_process(tmp_path: Path) -> None:
    app = make_app(tmp_path, worker="process")
    with TestClient(app) as client:
        lead = client_for(app, "20001", client=client)
        started = lead.post("/api/import/customers", files={"file": ("客户.csv", customers_csv(30))})
        job = wait_for(lead, started.json()["status_url"], finished, seconds=120)
        assert job["status"] == "done" and job["result"]["created"] == 30, job
        pool = job_runner(app)._pool
        assert pool is not None and all(p.pid != os.getpid() for p in pool._processes.values())  # type: ignore[attr-defined]
        exported = lead.post("/api/customers/export", params={"format": "xlsx"})
        job = wait_for(lead, exported.json()["status_url"], finished, seconds=120)
        assert job["status"] == "done" and lead.get(job["download_url"]).content[:2] == b"PK"
    assert job_runner(app)._pool is None  # stopped with the server


# ---------------------------------------------------------------------------- the import page


def test_the_page_starts_jobs_and_shows_their_outcome(app: FastAPI) -> None:
    lead = client_for(app, "20001")
    page = lead.get("/import")
    assert page.status_code == 200 and "尚未检查文件" in page.text
    csrf = lead.headers["X-CSRF-Token"]
    exported = lead.post("/export/calls?reason=complaint", data={"csrf": csrf, "format": "csv"}, follow_redirects=False)
    assert exported.status_code == 303 and exported.headers["location"].startswith("/import?job=")
    job_runner(app).run_pending()
    shown = lead.get(exported.headers["location"])
    assert "导出通话(csv)" in shown.text and "下载 calls-" in shown.text and "我最近的任务" in shown.text
    with app.state.sessions() as session:
        job = session.scalars(select(Job)).one()
        assert job.params["filters"] == {"reason": "complaint"}
    assert lead.get("/import?job=999").status_code == 404
    assert lead.get("/import?job=abc").status_code == 404


@pytest.fixture
def gated_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Gate]]:
    app = make_app(tmp_path)
    gate = Gate(monkeypatch, "检查数据")
    with live_server(app) as url:
        yield url, gate
    gate.open()


def test_the_import_page_follows_the_job_with_a_progress_bar(browser, gated_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, gate = gated_server
    file = tmp_path / "客户.csv"
    file.write_bytes(customers_csv(2500))
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", base_url=server)
    page = context.new_page()
    try:
        login(page, server, "20001")
        page.goto("/import")
        page.get_by_label("导入内容").select_option("customers")
        page.get_by_label("文件").set_input_files(str(file))
        page.get_by_role("button", name="检查文件").click()
        page.wait_for_url(re.compile(r"/import\?job=\d+$"))
        assert gate.reached.wait(30)
        state = page.locator("#job-state")
        expect(state).to_have_text("进行中:检查数据 1,000 / 2,500")
        expect(page.locator("#job-bar")).to_have_attribute("value", "40")
        gate.open()
        expect(page.locator("#result [role=status]")).to_have_text("客户.csv:共 2500 行,检查通过,可以导入")
        assert page.locator("#job-bar").count() == 0
        page.get_by_role("button", name="确认导入 2500 条客户").click()
        expect(page.locator("#result [role=status]")).to_have_text("客户.csv:共 2500 行,已导入 2500 条")
        rows = page.locator("#jobs tbody tr")
        expect(rows).to_have_count(2)
        assert "导入客户 客户.csv" in rows.nth(0).inner_text() and "已完成" in rows.nth(0).inner_text()
    finally:
        context.close()
