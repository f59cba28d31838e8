"""``kefu serve`` as a program: SIGTERM stops it cleanly and promptly (exit status 0), also with a
request still under way and a kept-alive connection; ``--workers`` runs several processes on
PostgreSQL and is refused, with the reason, on SQLite.

The bounds are generous (the server's own limits are a few seconds): only a server that does not
stop reaches them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

KEFU = Path(sys.executable).parent / "kefu"
START_BOUND = 120.0  # seconds to migrate, seed and start (a busy CI machine)
STOP_BOUND = 20.0  # the server's own limits: 2 s for requests under way, 2 s each for background work


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(
    tmp_path: Path, *args: str, database_url: str | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "KEFU_DATA_DIR": str(tmp_path / "data"),
        "KEFU_SECRET_KEY": "serve-test",
        "KEFU_SHUTDOWN_TIMEOUT": "2",
    }
    env.pop("KEFU_DATABASE_URL", None)
    if database_url:
        env["KEFU_DATABASE_URL"] = database_url
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(KEFU), "serve", "--port", str(port), *args], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_BOUND
        while True:
            assert process.poll() is None, f"kefu serve exited:\n{log.read_text(errors='replace')}"
            assert time.monotonic() < deadline, f"kefu serve did not start:\n{log.read_text(errors='replace')}"
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def stop(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        status = process.wait(STOP_BOUND)
    except subprocess.TimeoutExpired:
        pytest.fail(f"kefu serve was still running {STOP_BOUND:g} s after SIGTERM")
    return status, time.monotonic() - began


def test_sigterm_stops_the_server_cleanly_with_a_request_under_way(tmp_path: Path) -> None:
    with serving(tmp_path) as (process, base):
        port = int(base.rsplit(":", 1)[1])
        idle = socket.create_connection(("127.0.0.1", port))  # a browser's kept-alive connection
        idle.sendall(b"GET /login HTTP/1.1\r\nHost: kefu\r\n\r\n")
        assert idle.recv(64).startswith(b"HTTP/1.1 200")
        stalled = socket.create_connection(("127.0.0.1", port))  # a request whose body never finishes
        stalled.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: kefu\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{\"agent_no\": "
        )
        time.sleep(0.5)  # let the server start on it
        status, took = stop(process)
        idle.close()
        stalled.close()
    assert status == 0, (tmp_path / "serve.log").read_text(errors="replace")
    assert took < STOP_BOUND, took


def test_sigterm_stops_an_idle_server_with_status_0(tmp_path: Path) -> None:
    with serving(tmp_path, "--no-demo") as (process, base):
        assert httpx.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"
        status, _ = stop(process)
    assert status == 0, (tmp_path / "serve.log").read_text(errors="replace")


def test_workers_are_refused_on_sqlite_with_the_reason(tmp_path: Path) -> None:
    env = {**os.environ, "KEFU_DATA_DIR": str(tmp_path / "data")}
    env.pop("KEFU_DATABASE_URL", None)
    done = subprocess.run([str(KEFU), "serve", "--workers", "2"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--workers 需要 PostgreSQL" in done.stderr and "同一时刻只允许一个进程写入" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # refused before anything was created


@pytest.mark.empty_database  # `kefu serve` creates the schema itself
def test_workers_on_postgresql_serve_and_stop_cleanly(database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("--workers needs PostgreSQL (on SQLite it is refused, see above)")
    with serving(tmp_path, "--workers", "2", database_url=database_url) as (process, base):
        with httpx.Client(base_url=base, timeout=10) as client:
            login = client.post("/api/auth/login", json={"agent_no": "10001", "password": "kefu2026"})
            assert login.status_code == 200, login.text
            client.headers["X-CSRF-Token"] = login.json()["csrf"]
            # Many requests over fresh connections: the two workers share the listening socket,
            # the session and the demo data (seeded once, before the workers started).
            for _ in range(10):
                with httpx.Client(base_url=base, timeout=10, cookies=client.cookies) as fresh:
                    assert fresh.get("/api/auth/me").status_code == 200
        workers = [pid for pid in _children(process.pid) if "spawn_main" in _cmdline(pid)]
        assert len(workers) == 2
        status, _ = stop(process)
    assert status == 0, (tmp_path / "serve.log").read_text(errors="replace")
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _cmdline(pid: int) -> str:
    """The command line of a process (``""`` once it is gone). Besides the workers, a parent that
    spawns processes has multiprocessing's resource tracker, which ends on its own just after it."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""
