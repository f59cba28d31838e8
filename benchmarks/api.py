"""API latency and throughput under load, on SQLite and PostgreSQL.

    python benchmarks/api.py [--rate 100] [--seconds 10] [--postgres URL]      one request type at a time
    python benchmarks/api.py --mixed [--rate 45] [--seconds 60]                 a busy morning's mix
    python benchmarks/api.py --soak [--rate 200] [--duration 600] [--workers 2] the mix, long, memory sampled
    python benchmarks/api.py --burst [--capacity N] [--workers 2]               5x capacity, then recovery

Starts ``kefu serve`` (a real uvicorn server, its own processes) on localhost with a fresh
database and the demo data, logs in, then sends requests at a fixed rate (open loop: a slow
answer does not slow the sender down, so queueing shows up in the latency; each latency is
measured from the moment the request was due, not from when it could be sent). Every request
has a timeout and every run stops by itself. Only localhost is ever a target. Always exits 0:
a benchmark reports, it does not fail (the soak and burst print whether the bar was met).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from lean_http import LeanClient

Request = tuple[str, str, dict | None]  # method, path, JSON body
Scenario = tuple[str, Callable[[int], Request]]

# The bar set by issue 8 for the soak (PostgreSQL, the workers chosen, this 2-core machine).
BAR_P99_MS = 100.0
BAR_RATE = 200.0
BAR_SECONDS = 600.0
# "Memory flat": the last tenth of the run's RSS samples at most this much above the second tenth
# (the first tenth is warm-up: caches, pools and the search index fill up).
FLAT_GROWTH = 0.10
FLAT_SLACK_MB = 16.0

USERS = ("10001", "10002", "20001")  # two agents and their team lead, demo password
DEMO_PASSWORD = "kefu2026"
BENCH_PASSWORD = "Bench-压测-口令-7Qz!"  # if the server makes demo accounts change theirs


# ---------------------------------------------------------------- the server


def machine_busy_seconds() -> float:
    """CPU time all processes of the machine have used (Linux /proc/stat): the rest of
    "whole machine" beside the server and the load generator is PostgreSQL and everyone else."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def empty_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class Server:
    """``kefu serve`` in its own process group on a free localhost port; its stderr goes to a file
    (a pipe nobody reads fills up and blocks the server)."""

    def __init__(self, database_url: str | None, folder: Path, workers: int) -> None:
        if database_url:
            empty_postgres(database_url)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = folder / "server.log"
        env = {**os.environ, "KEFU_DATA_DIR": str(folder / "data"), "KEFU_SECRET_KEY": "benchmark"}
        if database_url:
            env["KEFU_DATABASE_URL"] = database_url
        kefu = shutil.which("kefu") or str(Path(sys.executable).parent / "kefu")
        command = [kefu, "serve", "--port", str(self.port)] + (["--workers", str(workers)] if workers > 1 else [])
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.base}/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"kefu serve did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def pids(self) -> list[int]:
        """The server and every process under it (uvicorn's workers)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*/children"):
                with suppress(OSError):
                    todo.extend(int(child) for child in task.read_text().split())
        return found

    def rss_mb(self) -> float:
        """Resident memory of the server and its workers, MB (Linux /proc)."""
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its workers (Linux /proc)."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError):
                pass
        return total / os.sysconf("SC_CLK_TCK")

    def errors_logged(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines() if "Traceback" in line or " 500 " in line]

    def stop(self) -> float:
        """SIGTERM, then how many seconds the server took to exit (SIGKILL after 30 s)."""
        began = time.monotonic()
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return time.monotonic() - began


@contextmanager
def serving(database_url: str | None, workers: int) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="kefu-bench-") as folder:
        server = Server(database_url, Path(folder), workers)
        try:
            yield server
        finally:
            took = server.stop()
            if took > 10:
                print(f"  (the server took {took:.1f} s to stop after SIGTERM)")


# ---------------------------------------------------------------- clients and what they ask for


@dataclass
class User:
    client: LeanClient
    agent_no: str
    user_id: int = 0
    call_ids: list[int] = field(default_factory=list)


async def log_in(base: str, agent_no: str, connections: int) -> User:
    """Log in (httpx: a handful of requests), then hand the session to a lean client for the load."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        login = await client.post("/api/auth/login", json={"agent_no": agent_no, "password": DEMO_PASSWORD})
        login.raise_for_status()
        answer = login.json()
        client.headers["X-CSRF-Token"] = answer["csrf"]
        if answer.get("must_change_password"):
            changed = await client.post("/api/auth/password", json={"old": DEMO_PASSWORD, "new": BENCH_PASSWORD})
            changed.raise_for_status()
        calls = await client.get("/api/calls", params={"limit": 50})
        calls.raise_for_status()
        url = httpx.URL(base)
        lean = LeanClient(url.host, url.port or 80, connections, {"X-CSRF-Token": client.headers["X-CSRF-Token"]})
        lean.cookies = {cookie.name: cookie.value or "" for cookie in client.cookies.jar}
    return User(lean, agent_no, user_id=answer["user"]["id"], call_ids=[c["id"] for c in calls.json()])


LOOKUPS = ("13812345678", "5678", "A1003", "林芳", "13987654321", "A1001")
QUESTIONS = (
    "宽带资费",
    "怎么投诉",
    "工单怎么创建",
    "夜间服务时间",
    "退款多久到账",
    "發票怎麼開",
    "密码忘了",
    "跨区来电",
)
TRANSCRIPT = (
    "客服:您好,感谢致电智能科技客服中心,我是客服小李,工号10001,很高兴为您服务,请问有什么可以帮您?\n"
    "客户:我想问一下宽带的资费。\n"
    "客服:好的,标准版每月99元,含100M带宽,请问还有其他可以帮到您的吗?\n"
    "客户:没有了,谢谢。\n"
    "客服:感谢您的来电,祝您生活愉快,再见!"
)

# A busy Monday morning: (kind, share of the requests).
MIX = (
    ("customer lookup", 0.30),
    ("work-order list", 0.20),
    ("call page", 0.20),
    ("knowledge search", 0.20),
    ("create call", 0.10),
)


def mixed_request(kind: str, user: User, i: int) -> Request:
    if kind == "customer lookup":
        return "GET", f"/api/customers?q={LOOKUPS[i % len(LOOKUPS)]}", None
    if kind == "work-order list":
        return "GET", "/api/workorders?limit=50", None
    if kind == "call page":
        return "GET", f"/calls/{user.call_ids[i % len(user.call_ids)]}", None
    if kind == "knowledge search":
        return "GET", f"/api/knowledge/search?q={QUESTIONS[i % len(QUESTIONS)]}", None
    if kind == "create call":
        body = {
            "direction": "inbound",
            "reason": "consult.tariff",
            "ring_at": datetime.now(UTC).isoformat(),
            "caller_number": f"1390000{i % 10000:04d}",
            "summary": "咨询宽带资费,已解答",
            "transcript": TRANSCRIPT,
        }
        return "POST", "/api/calls", body
    raise ValueError(kind)


def mixed_picker(users: list[User], seed: int = 8) -> Callable[[int], tuple[str, User, Request]]:
    """Request ``i`` of the mix: a kind drawn by its share (seeded: every run the same), a user in turn."""
    chance = random.Random(seed)
    kinds, weights = zip(*MIX, strict=True)

    def pick(i: int) -> tuple[str, User, Request]:
        kind = chance.choices(kinds, weights)[0]
        user = users[i % len(users)]
        return kind, user, mixed_request(kind, user, i)

    return pick


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


# ---------------------------------------------------------------- fixed-rate load


@dataclass
class Outcome:
    kind: str
    status: str  # "200", "503", …, or "timeout" / "connection"
    ms: float  # from the moment the request was due
    at: float  # seconds since the start of the run, when it was due


@dataclass
class Run:
    outcomes: list[Outcome]
    seconds: float
    lag_ms: float  # the worst delay of the sender itself (a sender that cannot keep up shows here)
    rss: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    cpu: dict[str, float] = field(default_factory=dict)  # cores used on average: server, load generator

    def ok(self, kind: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if o.status.startswith(("2", "3")) and kind in (None, o.kind)]

    def errors(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes if not o.status.startswith(("2", "3")))


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def one_request(
    client: LeanClient, request: Request, due: float, kind: str, t0: float, timeout: float
) -> Outcome:
    method, path, body = request
    try:
        async with asyncio.timeout(timeout):
            status = str((await client.request(method, path, body)).status)
    except TimeoutError:
        status = "timeout"
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
        status = "connection"
    return Outcome(kind, status, (time.perf_counter() - due) * 1000, due - t0)


Picker = Callable[[int], tuple[str, User, Request]]


async def open_loop(
    pick: Picker,
    rate: float,
    seconds: float,
    timeout: float,
    server: Server | None = None,
    sample_every: float = 5.0,
) -> Run:
    """Request ``i`` is due at ``start + i / rate``, whatever happened to the earlier ones; the run
    ends when the last one has answered or timed out. With ``server``, its memory is sampled."""
    tasks: list[asyncio.Task[Outcome]] = []
    rss: list[tuple[float, float]] = []
    lag = 0.0
    t0 = time.perf_counter()
    cpu0 = (server.cpu_seconds() if server else 0.0, time.process_time(), machine_busy_seconds())

    async def sampler(watched: Server) -> None:
        while True:
            rss.append((time.perf_counter() - t0, watched.rss_mb()))
            await asyncio.sleep(sample_every)

    sampling = asyncio.create_task(sampler(server)) if server else None
    for i in range(int(rate * seconds)):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            lag = max(lag, -delay)
        kind, user, request = pick(i)
        tasks.append(asyncio.create_task(one_request(user.client, request, due, kind, t0, timeout)))
    outcomes = list(await asyncio.gather(*tasks))
    elapsed = time.perf_counter() - t0
    cpu = {"whole machine": (machine_busy_seconds() - cpu0[2]) / elapsed}
    cpu["load generator"] = (time.process_time() - cpu0[1]) / elapsed
    if server:
        cpu["server"] = (server.cpu_seconds() - cpu0[0]) / elapsed
    if sampling and server:
        sampling.cancel()
        rss.append((elapsed, server.rss_mb()))
    return Run(outcomes, elapsed, lag * 1000, rss, cpu)


async def closed_loop(pick: Picker, concurrency: int, seconds: float, timeout: float) -> Run:
    """``concurrency`` senders, each sending its next request when the last one answered: the
    most the server serves (its capacity), not what it serves at a given rate."""
    outcomes: list[Outcome] = []
    counter = itertools.count()
    t0 = time.perf_counter()
    end = t0 + seconds

    async def sender() -> None:
        while time.perf_counter() < end:
            kind, user, request = pick(next(counter))
            outcomes.append(await one_request(user.client, request, time.perf_counter(), kind, t0, timeout))

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return Run(outcomes, time.perf_counter() - t0, 0.0)


# ---------------------------------------------------------------- reports


def print_run(title: str, run: Run, kinds: list[str]) -> None:
    ok = run.ok()
    errors = run.errors()
    print(f"\n{title}")
    print(
        f"  {len(run.outcomes)} requests in {run.seconds:.1f} s: {len(ok) / run.seconds:.1f}/s answered without error"
    )
    if run.cpu:
        used = ", ".join(f"{name} {cores:.2f}" for name, cores in run.cpu.items())
        print(f"  CPU used, in cores of {os.cpu_count()}: {used}")
    if run.lag_ms > 50:
        print(f"  (the sender fell behind by up to {run.lag_ms:.0f} ms: the machine is busy)")
    listed = f" ({', '.join(f'{k}: {v}' for k, v in errors.most_common())})" if errors else ""
    print(f"  errors: {sum(errors.values())}{listed}")
    print(f"  {'':22}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for kind in [*kinds, None]:
        mine = [o for o in run.outcomes if kind in (None, o.kind)]
        good = [o.ms for o in mine if o.status.startswith(("2", "3"))]
        print(
            f"  {kind or 'all':22}{len(mine):>7}{percentile(good, 0.5):>9.1f}{percentile(good, 0.99):>9.1f}"
            f"{(max(good) if good else float('nan')):>9.1f}{len(mine) - len(good):>8}"
        )


def print_windows(run: Run, parts: int = 10) -> None:
    """The run in ``parts`` equal slices by when requests were due: does latency drift?"""
    width = run.seconds / parts
    slices: list[list[float]] = [[] for _ in range(parts)]
    for o in run.ok():
        slices[min(parts - 1, int(o.at // width))].append(o.ms)
    p99s = ", ".join(f"{percentile(part, 0.99):.0f}" for part in slices)
    print(f"  p99 ms in {parts} slices of {width:.0f} s: {p99s}")


def memory_verdict(rss: list[tuple[float, float]]) -> tuple[bool, str]:
    if len(rss) < 10:
        return True, "too few samples to judge"
    tenth = max(1, len(rss) // 10)
    early = statistics.mean(mb for _, mb in rss[tenth : 2 * tenth])
    late = statistics.mean(mb for _, mb in rss[-tenth:])
    flat = late <= early * (1 + FLAT_GROWTH) + FLAT_SLACK_MB
    return flat, f"{early:.0f} MB after warm-up → {late:.0f} MB at the end ({late - early:+.0f} MB)"


def print_rss(rss: list[tuple[float, float]]) -> None:
    if rss:
        step = max(1, len(rss) // 12)
        shown = rss[::step] + ([rss[-1]] if (len(rss) - 1) % step else [])
        print("  server RSS (s: MB): " + ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in shown))


# ---------------------------------------------------------------- modes


async def _users(base: str, connections: int) -> list[User]:
    return [await log_in(base, no, connections) for no in USERS]


async def _close(users: list[User]) -> None:
    for user in users:
        await user.client.aclose()


async def one_scenario(server: Server, make: Callable[[int], Request], args: argparse.Namespace) -> Run:
    user = await log_in(server.base, "20001", 64)
    try:
        await user.client.request("GET", "/api/customers?q=5678")  # warm-up
        return await open_loop(lambda i: ("", user, make(i)), args.rate, args.seconds, args.timeout)
    finally:
        await user.client.aclose()


def run_scenarios(args: argparse.Namespace, title: str) -> None:
    """One request type at a time, each on a fresh server (a backlog never spills into the next)."""
    print(f"\n{title} — offered {args.rate:.0f} requests/s, {args.seconds:.0f} s per scenario, a fresh server each")
    print(f"{'':32}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'errors':>8}")
    baseline = None
    for name, make in scenarios():
        with serving(args.url, args.workers) as server:
            run = asyncio.run(one_scenario(server, make, args))
        good = [o.ms for o in run.ok()]
        p50 = percentile(good, 0.5)
        baseline = baseline or p50
        extra = "" if name.startswith("baseline") else f"   ({p50 / baseline:.1f}× baseline p50)"
        errors = sum(run.errors().values())
        print(f"{name:32}{p50:>9.1f}{percentile(good, 0.99):>9.1f}{len(good) / run.seconds:>9.0f}{errors:>8}{extra}")


async def warm_up(users: list[User], timeout: float) -> None:
    """A few seconds of the mix, not counted: every worker builds its routes, caches and pool."""
    await open_loop(mixed_picker(users, seed=1), 40, 3, timeout)


async def run_mixed(server: Server, args: argparse.Namespace, rate: float, seconds: float, title: str) -> Run:
    users = await _users(server.base, args.connections)
    try:
        await warm_up(users, args.timeout)
        run = await open_loop(mixed_picker(users), rate, seconds, args.timeout, server, args.sample_every)
    finally:
        await _close(users)
    print_run(title, run, [kind for kind, _ in MIX])
    print_rss(run.rss)
    return run


async def soak(server: Server, args: argparse.Namespace, title: str) -> None:
    rate, seconds = args.rate or BAR_RATE, args.duration
    run = await run_mixed(server, args, rate, seconds, f"{title} — soak: the mix at {rate:.0f}/s for {seconds:.0f} s")
    errors = sum(run.errors().values())
    p99 = percentile([o.ms for o in run.ok()], 0.99)
    print_windows(run)
    flat, memory = memory_verdict(run.rss)
    logged = server.errors_logged()
    print(f"  memory: {memory}")
    print(f"  server log: {len(logged)} error lines" + (f" (first: {logged[0][:200]})" if logged else ""))
    met = errors == 0 and p99 < BAR_P99_MS and flat
    full = rate >= BAR_RATE and seconds >= BAR_SECONDS
    print(
        f"  bar ({BAR_RATE:.0f}/s for {BAR_SECONDS:.0f} s: 0 errors, p99 < {BAR_P99_MS:.0f} ms, memory flat): "
        f"errors {errors}, p99 {p99:.1f} ms, memory {'flat' if flat else 'GROWING'} → "
        + ("MET" if met and full else "met at this rate and duration (not the bar's)" if met else "NOT met")
    )


async def healthy(server: Server, user: User) -> bool:
    """A new connection gets the login page and a logged-in user their work orders, both within 2 s."""
    try:
        async with httpx.AsyncClient(base_url=server.base, timeout=2) as fresh:
            if (await fresh.get("/login")).status_code != 200:
                return False
        async with asyncio.timeout(2):
            answer = await user.client.request("GET", "/api/workorders?limit=5")
        return answer.status == 200
    except (httpx.HTTPError, OSError, TimeoutError, asyncio.IncompleteReadError):
        return False


async def burst(server: Server, args: argparse.Namespace, title: str) -> None:
    users = await _users(server.base, args.connections)
    try:
        await warm_up(users, args.timeout)
        pick = mixed_picker(users)
        capacity = args.capacity
        if not capacity:
            measured = await closed_loop(pick, args.concurrency, args.capacity_seconds, args.timeout)
            capacity = len(measured.ok()) / measured.seconds
            print(
                f"\n{title} — capacity (closed loop, {args.concurrency} senders, {args.capacity_seconds:.0f} s): "
                f"{capacity:.0f} requests/s, errors {dict(measured.errors()) or 0}"
            )
        rate = capacity * args.factor
        run = await open_loop(pick, rate, args.burst_seconds, args.timeout, server, 1.0)
        ended = time.perf_counter()
        print_run(
            f"{title} — burst: {args.factor:g}× capacity = {rate:.0f}/s for {args.burst_seconds:.0f} s",
            run,
            [kind for kind, _ in MIX],
        )
        refused = [o.ms for o in run.outcomes if o.status == "503"]
        if refused:
            print(f"  503 answers: p50 {percentile(refused, 0.5):.0f} ms, p99 {percentile(refused, 0.99):.0f} ms")
        print_rss(run.rss)
        recovered = None
        while time.perf_counter() - ended < 60:
            if await healthy(server, users[0]):
                recovered = time.perf_counter() - ended
                break
            await asyncio.sleep(0.1)
        if recovered is None:
            print("  NOT healthy 60 s after the burst")
            return
        print(f"  healthy again {recovered:.2f} s after the burst's last answer")
        after = await open_loop(pick, capacity * 0.5, 5, args.timeout)
        errors = after.errors()
        good = [o.ms for o in after.ok()]
        print(
            f"  then half capacity ({capacity * 0.5:.0f}/s) for 5 s: errors {sum(errors.values())}"
            f"{' ' + str(dict(errors)) if errors else ''}, p50 {percentile(good, 0.5):.1f} ms, "
            f"p99 {percentile(good, 0.99):.1f} ms"
        )
        broken = sum(v for k, v in run.errors().items() if k != "503")
        met = broken == 0 and not errors
        print(f"  bar (beyond capacity only 503, never a 500 or a hang; healthy after): {'MET' if met else 'NOT met'}")
    finally:
        await _close(users)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--mixed", action="store_true", help="the realistic mix at --rate (default 45) for --seconds")
    mode.add_argument("--soak", action="store_true", help=f"the mix at --rate (default {BAR_RATE:.0f}) for --duration")
    mode.add_argument("--burst", action="store_true", help="measure capacity, offer --factor times it, time recovery")
    parser.add_argument("--rate", type=float, default=None, help="requests per second offered (default 100)")
    parser.add_argument("--seconds", type=float, default=10, help="per scenario, or of --mixed (default 10)")
    parser.add_argument("--duration", type=float, default=BAR_SECONDS, help="of the soak, seconds (default 600)")
    parser.add_argument("--workers", type=int, default=1, help="kefu serve --workers (PostgreSQL only; default 1)")
    parser.add_argument("--timeout", type=float, default=10, help="per request, seconds (default 10)")
    parser.add_argument("--connections", type=int, default=500, help="client connections per user (default 500)")
    parser.add_argument("--sample-every", type=float, default=5, help="server RSS sampled every … s (default 5)")
    parser.add_argument("--capacity", type=float, default=None, help="burst: skip measuring, take this req/s")
    parser.add_argument("--capacity-seconds", type=float, default=10, help="burst: how long to measure (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="burst: senders measuring capacity (default 16)")
    parser.add_argument("--factor", type=float, default=5, help="burst: times capacity (default 5)")
    parser.add_argument("--burst-seconds", type=float, default=15, help="burst: how long (default 15)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KEFU_BENCH_POSTGRES_URL"),
        help="PostgreSQL database to measure on (emptied first); --mixed/--soak/--burst then run there only",
    )
    args = parser.parse_args()
    if args.postgres and make_url_host(args.postgres) not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must be a database on this machine (127.0.0.1 or localhost)")
    stamp = time.strftime("%Y-%m-%d %H:%M")
    print(f"kefu API benchmark — {stamp}, {os.cpu_count()} cores, server and load generator on one machine")
    long_run = args.soak or args.burst or args.mixed
    targets = [("SQLite", None)] if not args.postgres else [("PostgreSQL", args.postgres)]
    if args.postgres and not long_run:
        targets.insert(0, ("SQLite", None))
    asked = args.workers
    for label, url in targets:
        args.url = url
        args.workers = asked if url else 1
        title = f"{label}, {args.workers} worker{'s' if args.workers > 1 else ''}"
        if asked > 1 and not url:
            print(f"\n({label}: one process — kefu serve --workers needs PostgreSQL)")
        if not long_run:
            args.rate = args.rate or 100
            run_scenarios(args, title)
            continue
        with serving(url, args.workers) as server:
            if args.soak:
                asyncio.run(soak(server, args, title))
            elif args.burst:
                asyncio.run(burst(server, args, title))
            else:
                rate = args.rate or 45
                asyncio.run(run_mixed(server, args, rate, args.seconds, f"{title} — the mix at {rate:.0f}/s"))
    if not args.postgres:
        print("\n(PostgreSQL: pass --postgres postgresql+psycopg://user@127.0.0.1/db or set KEFU_BENCH_POSTGRES_URL)")
    return 0


def make_url_host(url: str) -> str | None:
    from sqlalchemy import make_url

    return make_url(url).host


if __name__ == "__main__":
    sys.exit(main())
