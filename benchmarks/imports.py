"""Large imports, and what they do to everybody else's requests.

    python benchmarks/imports.py [--customers 50000] [--calls 5000] [--postgres URL] [--job-worker thread]
    python benchmarks/imports.py --limits      # hostile spreadsheets only (zip bomb, a million rows)

Starts ``kefu serve`` (a real server, its own process) on a fresh database with the demo data,
logs in as the team lead, and:

1. measures the idle latency of an unrelated request, ``GET /api/customers?q=…`` (a customer
   lookup as an agent does it all day), sent one after another for a few seconds;
2. imports ``--customers`` generated customers (a CSV file: realistic names, mobile numbers,
   accounts, ID numbers, addresses) while the same lookup keeps running, and times the import
   from the upload to the job's end (or to the answer, for a server that imports in the request);
3. the same with ``--calls`` calls whose transcripts are built from real agent replies
   (``../shared/data/jddc_agent_replies.txt`` through ``calls.py``, about 40 turns each; generated
   lines without it). Every call is inspected by the platform on import.

Printed: the import's time, the lookup's p50/p95/max during the import, and their ratio to the
idle p50 measured in the same run. ``--job-worker thread`` runs the jobs in a thread of the
server instead of its worker process, to see what the GIL does to the lookups. ``--limits``
times the refusal of hostile spreadsheets (no server). Always exits 0: a benchmark reports, it
does not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
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
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))  # calls.py beside this file

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉"
CITIES = [
    ("北京市", "海淀区"), ("上海市", "浦东新区"), ("广州市", "天河区"), ("深圳市", "南山区"), ("杭州市", "西湖区")
]  # fmt: skip
ROADS = ["科技路", "中山路", "人民路", "建设路", "解放路", "和平路", "长江路"]
REASONS = ["咨询-资费", "咨询-业务办理", "投诉", "故障申告", "建议", "查询"]
LOOKUPS = ["13812345678", "5678", "A1001", "张伟"]
DEMO_PASSWORD = "kefu2026"
BENCH_PASSWORD = "Bench-导入-口令-5Kx!"  # if the server makes demo accounts change theirs


def start_server(database_url: str | None, folder: Path, job_worker: str = "process") -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "KEFU_DATA_DIR": str(folder), "KEFU_SECRET_KEY": "benchmark", "KEFU_JOB_WORKER": job_worker}
    if database_url:
        env["KEFU_DATABASE_URL"] = database_url
    kefu = shutil.which("kefu") or str(Path(sys.executable).parent / "kefu")
    process = subprocess.Popen(
        [kefu, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{base}/login", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("kefu serve did not start")


def customers_csv(count: int, seed: int = 8) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["姓名", "电话", "账户", "证件号码", "邮箱", "地址", "备注"])
    for n in range(count):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        birth = datetime(1960, 1, 1) + timedelta(days=rng.randint(0, 16000))
        id_number = f"{rng.randint(110000, 659000)}{birth:%Y%m%d}{rng.randint(100, 999)}{rng.choice('0123456789X')}"
        city, district = rng.choice(CITIES)
        street = f"{rng.choice(ROADS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(101, 2999)}"
        address = city + district + street
        email = f"user{n}@example.com" if rng.random() < 0.3 else ""
        notes = rng.choice(["", "", "", "VIP 客户", "老客户", "白天联系"])
        writer.writerow([name, f"199{n:08d}", f"BM{n:08d}", id_number, email, address, notes])
    return out.getvalue().encode("utf-8-sig")


def _stamp(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:04.1f}"


def calls_csv(count: int, customers: int) -> bytes:
    """Realistic calls from ``calls.py`` (real agent replies) as the import's CSV: one row per
    call, the transcript as 「[mm:ss.s-mm:ss.s] 客服: …」 lines in one cell."""
    from calls import JDDC, build_calls
    from kefu.rulebook.loader import load_rulebook

    replies = None if JDDC.is_file() else ["您好,请问有什么可以帮您?", "好的,我这边帮您查询一下。"] * 10
    transcripts = build_calls(load_rulebook(), count, replies=replies)
    rng = random.Random(9)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["通话编号", "呼叫方向", "工号", "客户账户", "来电号码", "振铃时间", "接听时间", "结束时间",
                     "挂机方", "来电原因", "小结", "转写"])  # fmt: skip
    for n, call in enumerate(transcripts):
        ring = call.ring_at or datetime(2026, 11, 20, 9, 0)
        answered = call.answered_at or ring + timedelta(seconds=5)
        end = answered + timedelta(seconds=max(t.end or 0 for t in call.turns) + 2)
        lines = [
            f"[{_stamp(t.start)}-{_stamp(t.end)}] {'客服' if t.speaker == 'agent' else '客户'}: {t.text}"
            for t in call.turns
        ]
        account = f"BM{rng.randrange(customers):08d}" if customers and rng.random() < 0.7 else ""
        writer.writerow(
            [
                f"BENCH-{n:06d}",
                "呼入",
                rng.choice(["10001", "10002"]),
                account,
                f"199{rng.randrange(10**8):08d}",
                ring.strftime("%Y-%m-%d %H:%M:%S"),
                answered.strftime("%Y-%m-%d %H:%M:%S"),
                end.strftime("%Y-%m-%d %H:%M:%S"),
                "客户" if call.hangup_by == "customer" else "客服",
                rng.choice(REASONS),
                "客户咨询订单与售后问题,已解答",
                "\n".join(lines),
            ]
        )
    return out.getvalue().encode("utf-8-sig")


VERBOSE = False


async def lookups(client: httpx.AsyncClient, stop: asyncio.Event, pause: float = 0.05) -> list[float]:
    """The unrelated request, one at a time (a person waits for each answer), in ms."""
    latencies: list[float] = []
    i = 0
    while not stop.is_set():
        began = time.perf_counter()
        answer = await client.get("/api/customers", params={"q": LOOKUPS[i % len(LOOKUPS)]})
        latencies.append((time.perf_counter() - began) * 1000)
        if VERBOSE:
            print(f"  {time.strftime('%H:%M:%S')} lookup {latencies[-1]:.1f} ms")
        if answer.status_code != 200:
            print(f"  lookup answered {answer.status_code}: {answer.text[:120]}")
        i += 1
        await asyncio.sleep(pause)
    return latencies


async def run_import(client: httpx.AsyncClient, kind: str, name: str, data: bytes) -> tuple[float, str]:
    """Upload, then (a job server) poll the job to its end. Seconds from upload to the end."""
    began = time.perf_counter()
    answer = await client.post(f"/api/import/{kind}", files={"file": (name, data)}, timeout=600)
    if answer.status_code == 202:
        status_url = answer.json()["status_url"]
        while True:
            await asyncio.sleep(0.2)
            job = (await client.get(status_url)).json()
            if VERBOSE:
                print(f"  {time.strftime('%H:%M:%S')} job {job['status']} {job['phase']} {job['done']}/{job['total']}")
            if job["status"] in ("done", "failed"):
                outcome = job["result"].get("message") if job["status"] == "done" else job["error"]
                return time.perf_counter() - began, str(outcome)[:120]
    return time.perf_counter() - began, f"HTTP {answer.status_code}: {answer.text[:120]}"


def summary(latencies: list[float]) -> tuple[float, float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)], ordered[-1]


async def log_in(client: httpx.AsyncClient, agent_no: str) -> None:
    """A demo login; a server that makes demo accounts change their password first gets one."""
    login = await client.post("/api/auth/login", json={"agent_no": agent_no, "password": DEMO_PASSWORD})
    login.raise_for_status()
    client.headers["X-CSRF-Token"] = login.json()["csrf"]
    if login.json().get("must_change_password"):
        changed = await client.post("/api/auth/password", json={"old": DEMO_PASSWORD, "new": BENCH_PASSWORD})
        changed.raise_for_status()


async def measure(base: str, customers: int, calls: int, idle_seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await log_in(client, "20001")  # the team lead imports
        async with httpx.AsyncClient(base_url=base, timeout=120) as other:  # an agent looks customers up
            await log_in(other, "10001")
            stop = asyncio.Event()
            probe = asyncio.create_task(lookups(other, stop))
            await asyncio.sleep(idle_seconds)
            stop.set()
            idle = summary(await probe)
            print(f"idle lookup: p50 {idle[0]:.1f} ms, p95 {idle[1]:.1f} ms, max {idle[2]:.1f} ms")
            files = []
            if customers:
                files.append(("customers", f"{customers} customers", "客户.csv", customers_csv(customers)))
            if calls:
                files.append(("calls", f"{calls} calls", "通话.csv", calls_csv(calls, customers)))
            header = f"{'seconds':>9}{'lookup p50':>12}{'p95':>10}{'max':>11}{'p50/idle':>10}{'max/idle':>10}"
            print(f"\n{'import':18}{header}")
            for kind, label, name, data in files:
                stop = asyncio.Event()
                probe = asyncio.create_task(lookups(other, stop))
                seconds, outcome = await run_import(client, kind, name, data)
                stop.set()
                measured = await probe
                during = summary(measured)
                print(
                    f"{label:18}{seconds:>9.1f}{during[0]:>10.1f}ms{during[1]:>8.1f}ms{during[2]:>9.1f}ms"
                    f"{during[0] / idle[0]:>9.1f}×{during[2] / idle[0]:>9.1f}×  ({len(measured)} lookups)"
                )
                print(f"{'':18}({len(data) / 1e6:.1f} MB; {outcome})")


# ---------------------------------------------------------------------------- hostile spreadsheets

SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>'
)


def _workbook_parts() -> dict[str, bytes]:
    """A minimal real workbook (openpyxl's), whose first sheet the caller replaces."""
    from openpyxl import Workbook

    buffer = io.BytesIO()
    Workbook().save(buffer)
    archive = zipfile.ZipFile(buffer)
    return {name: archive.read(name) for name in archive.namelist()}


def hostile_xlsx(path: Path, rows: int, *, dimension: bool, filler: int = 0) -> None:
    """``rows`` rows of three cells (or, with ``filler``, one row followed by ``filler`` bytes
    of the same cell over and over: a zip bomb), streamed into the zip in pieces."""
    parts = _workbook_parts()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            ref = f'<dimension ref="A1:C{rows + 1}"/>' if dimension else ""
            sheet.write(SHEET_HEAD.format(dimension=ref).encode())
            sheet.write('<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
                        '<c r="B1" t="inlineStr"><is><t>电话</t></is></c></row>'.encode())  # fmt: skip
            chunk: list[str] = []
            for n in range(2, rows + 2):
                chunk.append(
                    f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>客户{n}</t></is></c>'
                    f'<c r="B{n}" t="inlineStr"><is><t>199{n:08d}</t></is></c></row>'
                )
                if len(chunk) == 10_000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write("".join(chunk).encode())
            cell = b'<c r="C2" t="inlineStr"><is><t>0</t></is></c>'
            block = cell * (1024 * 1024 // len(cell))
            for _ in range(filler // len(block)):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")


REFUSE = """
import resource, sys, time
from pathlib import Path
from kefu.dataio.customers import CUSTOMER_COLUMNS
from kefu.dataio.tables import ImportRejected, read_table
data = Path(sys.argv[1]).read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
try:
    read_table(data, "客户.xlsx", CUSTOMER_COLUMNS)
    outcome = "read"
except ImportRejected as error:
    outcome = str(error)
seconds = time.perf_counter() - began
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(f"{seconds:.3f}\t{grown:.0f}\t{outcome}")
"""


def measure_limits() -> None:
    """Hostile spreadsheets through the import's reader, each in a fresh process: the time to the
    refusal, and how far the process's peak memory grew over the file itself. The issue's figures
    before: 20.7 s and 2.27 GB for the bomb, 80 s for the million rows."""
    cases = [
        ("zip bomb: 1 GB of XML", dict(rows=1, dimension=True, filler=1024**3)),
        ("1,000,000 rows, declared", dict(rows=1_000_000, dimension=True)),
        ("1,000,000 rows, no dimension", dict(rows=1_000_000, dimension=False)),
    ]
    print(f"\n{'hostile .xlsx':32}{'file':>9}{'refused in':>12}{'memory +':>10}  message")
    with tempfile.TemporaryDirectory() as folder:
        for label, options in cases:
            path = Path(folder) / "hostile.xlsx"
            hostile_xlsx(path, **options)  # type: ignore[arg-type]
            answer = subprocess.run(
                [sys.executable, "-c", REFUSE, str(path)], capture_output=True, text=True, check=False
            )
            if answer.returncode != 0:
                print(f"{label:32} failed: {answer.stderr[-300:]}")
                continue
            seconds, memory, message = answer.stdout.strip().split("\t", 2)
            size = path.stat().st_size / 1e6
            print(f"{label:32}{size:>7.1f}MB{float(seconds):>11.3f}s{memory:>7} MB  {message[:70]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50_000, help="customers to import (default 50,000)")
    parser.add_argument("--calls", type=int, default=5_000, help="calls to import (default 5,000)")
    parser.add_argument("--idle-seconds", type=float, default=3, help="idle baseline duration (default 3)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("KEFU_BENCH_POSTGRES_URL"),
        help="measure on this PostgreSQL database (it is emptied first) instead of SQLite",
    )
    parser.add_argument("--verbose", action="store_true", help="print every lookup and the job's phases")
    parser.add_argument(
        "--job-worker",
        choices=("process", "thread"),
        default="process",
        help="where the server runs jobs (KEFU_JOB_WORKER; default process, as kefu serve)",
    )
    parser.add_argument(
        "--limits", action="store_true", help="only the hostile spreadsheets (zip bomb, a million rows), no server"
    )
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    if args.limits:
        measure_limits()
        return 0
    label = "PostgreSQL" if args.postgres else "SQLite"
    print(
        f"kefu import benchmark — {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {label}, "
        f"jobs in a {args.job_worker}"
    )
    if args.postgres:
        from sqlalchemy import create_engine, text

        engine = create_engine(args.postgres)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    with tempfile.TemporaryDirectory() as folder:
        process, base = start_server(args.postgres, Path(folder), args.job_worker)
        try:
            asyncio.run(measure(base, args.customers, args.calls, args.idle_seconds))
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
