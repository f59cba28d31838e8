"""API latency and throughput under load, on SQLite and PostgreSQL.

    python benchmarks/api.py [--rate 100] [--seconds 10] [--postgres URL]

Starts ``kefu serve`` (a real uvicorn server, its own process) on localhost with a fresh
database and the demo data, logs in, then sends requests at a fixed rate (open loop: a slow
answer does not slow the sender down, so queueing shows up in the latency) for each scenario,
and prints p50/p99 latency, achieved requests per second and errors. The same run also
measures ``GET /api/auth/me`` — the cheapest authenticated request — as the baseline: the
difference is what the database work costs. Always exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

Scenario = tuple[str, Callable[[int], tuple[str, str, dict | None]]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(database_url: str | None, folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "KEFU_DATA_DIR": str(folder), "KEFU_SECRET_KEY": "benchmark"}
    if database_url:
        env["KEFU_DATABASE_URL"] = database_url
    kefu = shutil.which("kefu") or str(Path(sys.executable).parent / "kefu")
    process = subprocess.Popen(
        [kefu, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"kefu serve did not start: {process.stderr.read().decode() if process.stderr else ''}")


def scenarios() -> list[Scenario]:
    phones = itertools.count(13600000000)
    return [
        ("baseline: GET /api/auth/me", lambda i: ("GET", "/api/auth/me", None)),
        (
            "customer lookup",
            lambda i: ("GET", f"/api/customers?q={['13812345678', '5678', 'A1003', '林芳'][i % 4]}", None),
        ),
        ("customer create", lambda i: ("POST", "/api/customers", {"name": f"压测客户{i}", "phone": str(next(phones))})),
        (
            "work-order create",
            lambda i: (
                "POST",
                "/api/workorders",
                {"type": "咨询类", "priority": "中", "title": f"压测咨询{i}", "description": "客户咨询宽带资费,已解答"},
            ),
        ),
        ("work-order list", lambda i: ("GET", "/api/workorders?limit=50", None)),
    ]


async def run_at_rate(client: httpx.AsyncClient, scenario: Scenario, rate: float, seconds: float) -> dict[str, float]:
    _, make = scenario
    latencies: list[float] = []
    errors = 0

    async def one(i: int) -> None:
        nonlocal errors
        method, path, body = make(i)
        began = time.perf_counter()
        try:
            answer = await client.request(method, path, json=body)
            if answer.status_code >= 400:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        latencies.append((time.perf_counter() - began) * 1000)

    tasks = []
    started = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "rps": len(latencies) / elapsed,
        "errors": errors,
        "n": len(latencies),
    }


async def measure(base: str, rate: float, seconds: float) -> list[tuple[str, dict[str, float]]]:
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        login = await client.post("/api/auth/login", json={"agent_no": "20001", "password": "kefu2026"})
        login.raise_for_status()
        client.headers["X-CSRF-Token"] = login.json()["csrf"]
        await client.get("/api/customers?q=5678")  # warm-up
        return [(scenario[0], await run_at_rate(client, scenario, rate, seconds)) for scenario in scenarios()]


def report(label: str, results: list[tuple[str, dict[str, float]]], rate: float) -> None:
    print(f"\n{label} — offered {rate:.0f} requests/s")
    print(f"{'':32}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}")
    baseline = results[0][1]["p50"]
    for name, r in results:
        extra = "" if name.startswith("baseline") else f"   ({r['p50'] / baseline:.1f}× baseline p50)"
        print(f"{name:32}{r['p50']:>9.1f}{r['p99']:>9.1f}{r['rps']:>9.0f}{r['errors']:>8.0f}{extra}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="requests per second offered (default 100)")
    parser.add_argument("--seconds", type=float, default=10, help="per scenario (default 10)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KEFU_BENCH_POSTGRES_URL"),
        help="also measure on this PostgreSQL database (it is emptied first)",
    )
    args = parser.parse_args()
    print(f"kefu API benchmark — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, server and load on one machine")
    targets = [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    for label, url in targets:
        if url:
            from sqlalchemy import create_engine, text

            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        with tempfile.TemporaryDirectory() as folder:
            process, base = start_server(url, Path(folder))
            try:
                report(label, asyncio.run(measure(base, args.rate, args.seconds)), args.rate)
            finally:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
    if not args.postgres:
        print("\n(PostgreSQL: pass --postgres postgresql+psycopg://user:pass@host/db or set KEFU_BENCH_POSTGRES_URL)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
