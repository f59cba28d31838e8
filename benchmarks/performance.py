"""The monthly evaluation of a large centre, on SQLite or PostgreSQL, against reading its rows.

    python benchmarks/performance.py [--agents 500] [--calls 100000] [--rounds 3] [--postgres URL] [--rebuild]
                                     [--profile]

The bar (issue 10): the monthly evaluation of 500 agents × 100,000 calls in under 2 s on one core,
on SQLite and on PostgreSQL.

The database (built once per database and size, reused while it carries the same marker): 500
agents in 20 teams on three day shifts and a night roster, five days a week; ``--calls`` inbound
calls in October 2026 on the centre's clock with the day's peaks (fewer at weekends), about 8 %
abandoned in the queue (no agent), the rest answered with ring, talk, hold and after-call work;
customers are caller numbers drawn from a pool with repeats, and 12 % of answered calls are
followed within five days by the same customer about the same reason (first-contact resolution
has work to do); the calls of the 7 days after the month (FCR looks at them); a current, done QA
inspection with a final score for 20 % of answered calls, a survey on 30 %, a sale offered on
10 %, 300 business errors, and attendance for every agent's working day. One seeded generator,
written with ``insert_rows`` in chunks of 5,000 in one transaction that also writes the marker (a
supervisor whose 工号 names the size), so a half-built database is never reused. SQLite: a file
under the system's temporary folder (``kefu-benchmarks/``); PostgreSQL: ``--postgres``, a
database on this machine, emptied and rebuilt when its marker differs.

Measured in the same run, a fresh session each time, after one warm-up, ``--rounds`` interleaved
rounds, the collector set as the server sets it (``gc.freeze()``, threshold 20,000), nothing of
one workload kept in memory during the next:

- **baseline**: ``load_records`` of the month for every agent, the arguments ``month_view`` uses
  — the plain column selects and the record objects, no KPI work;
- **month_view**: ``kefu.performance.service.month_view(session, supervisor, "2026-10")`` end to
  end, what the month page and ``GET /api/performance/months/{month}`` do (the previous month
  included, for the coaching flags; it is empty here but for its later calls);
- **evaluate_month**: ``kefu.performance.summary.evaluate_month(records)`` alone, on the month's
  records loaded before each timing: the pure computation.

Reported: best and median seconds (wall clock) and the process's CPU time, the ratios to the
baseline, and whether month_view is under the 2 s bar. ``--profile`` adds the top functions of one
month_view (cProfile). Always exits 0: a benchmark reports, it does not fail.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import math
import os
import platform
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, func, make_url, select, text
from sqlalchemy.orm import Session, sessionmaker

from kefu.accounts.models import User
from kefu.calls.models import CallRecord, is_night_service
from kefu.calls.reasons import UNANSWERED
from kefu.core.bulk import insert_rows
from kefu.core.clock import centre_tz
from kefu.core.db import make_engine, migrate, session_factory, transaction
from kefu.core.security import Role
from kefu.performance import models as m
from kefu.performance.queries import load_records
from kefu.performance.records import Records
from kefu.performance.service import Period, month_view, visible_agents
from kefu.performance.summary import Settings, evaluate_month
from kefu.quality.models import Inspection, InspectionStatus
from kefu.rulebook.vocabulary import Channel, Direction, HangupBy

GENERATOR = "1"  # bump when the generated data changes: every cached database is rebuilt
SEED = 20261130
MONTH = "2026-10"
BAR_SECONDS = 2.0
CHUNK = 5_000
TEAMS = 20
ABANDON_SHARE = 0.08
REPEAT_SHARE = 0.12
QA_SHARE, SURVEY_SHARE, SALE_SHARE = 0.2, 0.3, 0.1
BUSINESS_ERRORS = 300
SHIFTS = ((8, 16), (12, 20), (16, 24))
NIGHT_SHIFT = (0, 8)
# Calls per half hour on a weekday, from 00:00 (the demo centre's day): mid-morning and mid-afternoon peaks.
PROFILE = (
    1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2,
    14, 22, 30, 36, 38, 36, 32, 28, 22, 24, 30, 34, 35, 32, 28, 24,
    20, 18, 16, 14, 12, 10, 9, 8, 7, 6, 5, 4, 3, 2, 2, 1,
)  # fmt: skip
WEEKEND = 0.6
REASONS = (
    ("consult.tariff", 18), ("consult.service", 14), ("consult.promotion", 8), ("query", 20), ("payment", 10),
    ("fault", 12), ("complaint", 5), ("suggestion", 2), ("other", 5), ("consult.outlet", 6),
)  # fmt: skip
PRODUCTS = (("云存储年包", 199.0), ("智能插座套装", 399.0), ("标准版升级", 999.0), ("高级版套装", 3999.0))
ERRORS = ("未核实身份即告知账户信息", "资费解释错误", "工单分类错误", "漏登记客户联系方式", "业务办理步骤说明有误")
SURNAMES = "张王刘陈杨黄赵周吴徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = ("婷", "伟", "静", "磊", "娜", "强", "丽", "洋", "敏", "杰", "燕", "涛", "霞", "勇", "艳", "军", "倩", "鹏")


# ---------------------------------------------------------------- the generated centre


@dataclass(frozen=True)
class Agent:
    index: int
    agent_no: str
    team: str
    shift: tuple[int, int]
    days_off: frozenset[int]  # weekdays
    aht: float  # seconds of talk, on average
    quality: float
    csat: float
    conversion: float


@dataclass
class Call:
    ring: datetime
    agent: Agent | None
    answered: datetime | None
    ended: datetime
    number: str
    reason: str
    hold: float = 0.0
    wrap: float | None = None
    in_month: bool = True


@dataclass
class Centre:
    agents: list[Agent]
    calls: list[Call] = field(default_factory=list)


def make_agents(rng: random.Random, count: int) -> list[Agent]:
    agents = []
    for i in range(count):
        night = i % 25 == 0  # one in 25 takes the night: about 20 of 500
        agents.append(
            Agent(
                index=i,
                agent_no=f"3{i + 1:04d}",
                team=f"{i * TEAMS // count + 1}组",
                shift=NIGHT_SHIFT if night else SHIFTS[i % 3],
                days_off=frozenset({i % 7, (i + 1) % 7}),
                aht=rng.uniform(200, 360),
                quality=rng.uniform(70, 95),
                csat=rng.uniform(0.7, 0.95),
                conversion=rng.uniform(0.1, 0.4),
            )
        )
    return agents


def works(agent: Agent, day: date) -> bool:
    return day.weekday() not in agent.days_off


def on_duty(agents: Sequence[Agent], days: Sequence[date]) -> dict[tuple[date, int], list[Agent]]:
    return {
        (day, hour): [a for a in agents if works(a, day) and a.shift[0] <= hour < a.shift[1]]
        for day in days
        for hour in range(24)
    }


def ring_times(rng: random.Random, days: Sequence[date], count: int) -> list[datetime]:
    """``count`` ring times over ``days`` on the centre's clock, spread as the day's profile says."""
    zone = centre_tz()
    slots = [(day, slot) for day in days for slot in range(len(PROFILE))]
    weights = [PROFILE[slot] * (WEEKEND if day.weekday() >= 5 else 1.0) for day, slot in slots]
    rings = []
    for day, slot in rng.choices(slots, weights, k=count):
        start = datetime.combine(day, clock_time(slot // 2, 30 * (slot % 2)), zone)
        rings.append(start + timedelta(seconds=rng.uniform(0, 1800)))
    return sorted(rings)


def one_call(rng: random.Random, ring: datetime, staff: list[Agent], number: str, reason: str) -> Call:
    if rng.random() < ABANDON_SHARE:
        patience = rng.expovariate(1 / 60)
        return Call(ring, None, None, ring + timedelta(seconds=patience), number, UNANSWERED)
    agent = rng.choice(staff)
    answered = ring + timedelta(seconds=rng.expovariate(1 / 12))
    talk = rng.lognormvariate(math.log(agent.aht * 0.8), 0.35)
    hold = rng.uniform(10, 80) if rng.random() < 0.2 else 0.0
    return Call(ring, agent, answered, answered + timedelta(seconds=talk), number, reason, hold, rng.uniform(10, 50))


def make_calls(rng: random.Random, centre: Centre, month: Period, calls: int, after_days: int) -> None:
    days = [month.first + timedelta(days=d) for d in range((month.last - month.first).days + 1)]
    after = [month.last + timedelta(days=d + 1) for d in range(after_days)]
    duty = on_duty(centre.agents, days + after)
    numbers = [f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" for _ in range(calls * 45 // 100)]
    reasons, weights = zip(*REASONS, strict=True)
    later = round(calls * after_days / len(days))
    for rings, in_month in ((ring_times(rng, days, calls), True), (ring_times(rng, after, later), False)):
        for ring in rings:
            staff = duty[(ring.date(), ring.hour)] or centre.agents
            number = numbers[int(len(numbers) * rng.random() ** 1.5)]  # some customers call often
            call = one_call(rng, ring, staff, number, rng.choices(reasons, weights)[0])
            call.in_month = in_month
            centre.calls.append(call)
    plant_repeats(rng, centre.calls)


def plant_repeats(rng: random.Random, calls: list[Call]) -> None:
    """A customer whose problem was not solved calls again about it within five days."""
    rings = [c.ring for c in calls]
    for call in calls:
        if call.answered is None or rng.random() >= REPEAT_SHARE:
            continue
        low = bisect_left(rings, call.ring + timedelta(hours=2))
        high = bisect_right(rings, call.ring + timedelta(days=5))
        if low < high:
            again = calls[rng.randrange(low, high)]
            again.number = call.number
            if again.answered is not None:
                again.reason = call.reason


# ---------------------------------------------------------------- rows


def user_rows(agents: Sequence[Agent], rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "agent_no": a.agent_no,
            "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
            "role": Role.AGENT,
            "team": a.team,
            "password_hash": "!",  # no password: nobody logs in as a benchmark agent
            "must_change_password": False,
            "active": True,
        }
        for a in agents
    ]


def call_rows(calls: Sequence[Call], ids: dict[int, int], scores: dict[int, float]) -> list[dict[str, Any]]:
    return [
        {
            "direction": Direction.INBOUND,
            "channel": Channel.VOICE,
            "customer_id": None,
            "agent_id": ids[c.agent.index] if c.agent else None,
            "caller_number": c.number,
            "ring_at": c.ring,
            "answered_at": c.answered,
            "ended_at": c.ended,
            "hold_seconds": c.hold if c.answered else None,
            "wrap_seconds": c.wrap,
            "hangup_by": HangupBy.CUSTOMER,
            "reason": c.reason,
            "night_service": is_night_service(c.ring),
            "qa_score": scores.get(n),
            "qa_passed": scores[n] >= 80 if n in scores else None,
            "inspected_at": c.ended + timedelta(days=1) if n in scores else None,
        }
        for n, c in enumerate(calls)
    ]


def qa_scores(rng: random.Random, calls: Sequence[Call]) -> dict[int, float]:
    """Final QA scores of a sample of the month's answered calls, by position in ``calls``."""
    return {
        n: round(min(100.0, max(0.0, rng.gauss(c.agent.quality, 8))), 1)
        for n, c in enumerate(calls)
        if c.in_month and c.agent is not None and rng.random() < QA_SHARE
    }


def inspection_rows(
    calls: Sequence[Call], call_ids: list[int], agent_ids: dict[int, int], scores: dict[int, float]
) -> list[dict[str, Any]]:
    return [
        {
            "call_id": call_ids[n],
            "rulebook_id": None,
            "rulebook_label": "benchmark",
            "current": True,
            "status": InspectionStatus.DONE,
            "inspected_at": calls[n].ended + timedelta(days=1),
            "agent_id": agent_ids[calls[n].agent.index],  # type: ignore[union-attr]
            "machine_score": score,
            "passed": score >= 80,
            "fatal": False,
            "pass_line": 80.0,
            "final_score": score,
        }
        for n, score in scores.items()
    ]


@dataclass
class Beside:
    """The records beside the calls."""

    surveys: list[dict[str, Any]] = field(default_factory=list)
    sales: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    attendance: list[dict[str, Any]] = field(default_factory=list)


def survey_row(rng: random.Random, call: Call, call_id: int) -> dict[str, Any]:
    good = rng.random() < call.agent.csat  # type: ignore[union-attr]
    answer = rng.choice(("5", "满意", "4")) if good else rng.choice(("一般", "不满意", "3", "2"))
    return {
        "call_id": call_id,
        "answer": answer,
        "satisfied": good,
        "answered_at": call.ended + timedelta(minutes=2),
        "recorded_by": None,
    }


def sale_row(rng: random.Random, call: Call, call_id: int) -> dict[str, Any]:
    product, price = rng.choice(PRODUCTS)
    converted = rng.random() < call.agent.conversion  # type: ignore[union-attr]
    return {
        "call_id": call_id,
        "product": product,
        "converted": converted,
        "amount": price if converted else 0.0,
        "recorded_by": None,
        "created_at": call.ended,
    }


def beside_rows(
    rng: random.Random, centre: Centre, call_ids: list[int], agent_ids: dict[int, int], month: Period, recorder: int
) -> Beside:
    rows = Beside()
    answered = [(c, call_ids[n]) for n, c in enumerate(centre.calls) if c.in_month and c.agent is not None]
    for call, call_id in answered:
        if rng.random() < SURVEY_SHARE:
            rows.surveys.append(survey_row(rng, call, call_id))
        if rng.random() < SALE_SHARE:
            rows.sales.append(sale_row(rng, call, call_id))
    for call, call_id in rng.sample(answered, min(BUSINESS_ERRORS, len(answered))):
        rows.errors.append(
            {
                "agent_id": agent_ids[call.agent.index],  # type: ignore[union-attr]
                "call_id": call_id,
                "occurred_at": call.ended,
                "note": rng.choice(ERRORS),
                "recorded_by": recorder,
                "created_at": call.ended,
            }
        )
    day = month.first
    while day <= month.last:
        for agent in centre.agents:
            if works(agent, day):
                late = rng.uniform(5, 40) if rng.random() < 0.08 else 0.0
                rows.attendance.append(
                    {"agent_id": agent_ids[agent.index], "day": day, "scheduled_minutes": 480.0,
                     "present_minutes": 480.0 - late, "recorded_by": None}
                )  # fmt: skip
        day += timedelta(days=1)
    return rows


def in_chunks(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for first in range(0, len(rows), CHUNK):
        ids += insert_rows(session, table, rows[first : first + CHUNK])
    return ids


# ---------------------------------------------------------------- the database


def marker(agents: int, calls: int) -> str:
    return f"bench-v{GENERATOR}-{agents}x{calls}"


def cached(factory: sessionmaker[Session], name: str) -> int | None:
    """The marker supervisor's id when the database was built with this size, else None."""
    with factory() as session:
        return session.scalar(select(User.id).where(User.agent_no == name, User.role == Role.SUPERVISOR))


def empty_postgres(url: str) -> None:
    """An empty database at ``url``: created on its server when missing, emptied otherwise."""
    server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = make_url(url).database
    with server.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def empty_sqlite(url: str) -> None:
    path = Path(make_url(url).database or "")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def build(factory: sessionmaker[Session], agents: int, calls: int) -> int:
    """Fill an empty database; the supervisor's id (the reader, and the marker)."""
    rng = random.Random(SEED)
    month = Period.month(MONTH)
    centre = Centre(make_agents(rng, agents))
    make_calls(rng, centre, month, calls, Settings().fcr_days)
    with transaction(factory) as session:
        supervisor = insert_rows(
            session,
            User.__table__,  # type: ignore[arg-type]
            [{"agent_no": marker(agents, calls), "name": "基准主管", "role": Role.SUPERVISOR, "team": None,
              "password_hash": "!", "must_change_password": False, "active": True}],
        )[0]  # fmt: skip
        ids = dict(enumerate(insert_rows(session, User.__table__, user_rows(centre.agents, rng))))  # type: ignore[arg-type]
        scores = qa_scores(rng, centre.calls)
        call_ids = in_chunks(session, CallRecord.__table__, call_rows(centre.calls, ids, scores))  # type: ignore[arg-type]
        in_chunks(session, Inspection.__table__, inspection_rows(centre.calls, call_ids, ids, scores))  # type: ignore[arg-type]
        rows = beside_rows(rng, centre, call_ids, ids, month, supervisor)
        beside = ((m.Survey, rows.surveys), (m.Sale, rows.sales), (m.BusinessError, rows.errors))
        for model, values in (*beside, (m.Attendance, rows.attendance)):
            in_chunks(session, model.__table__, values)  # type: ignore[arg-type]
    return supervisor


def analyze(engine: Engine) -> None:
    """What autovacuum does after a bulk load on PostgreSQL. Nothing on SQLite: kefu never runs
    ``ANALYZE`` there, so its planner has no statistics in the field either."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def open_database(url: str, agents: int, calls: int, rebuild: bool) -> tuple[Engine, sessionmaker[Session], int, float]:
    """The engine, sessions, the supervisor's id and the seconds spent building (0: reused)."""
    name = marker(agents, calls)
    engine = make_engine(url)
    factory = session_factory(engine)
    if not rebuild:
        try:
            migrate(url)  # a database built before a new migration gets it (a no-op at head)
            found = cached(factory, name)
        except Exception:  # anything unreadable is rebuilt
            found = None
        if found is not None:
            return engine, factory, found, 0.0
    engine.dispose()
    (empty_postgres if url.startswith("postgresql") else empty_sqlite)(url)
    started = time.perf_counter()
    migrate(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    supervisor = build(factory, agents, calls)
    analyze(engine)
    return engine, factory, supervisor, time.perf_counter() - started


def database_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    month = Period.month(MONTH)
    tables = {
        "agents": select(func.count()).select_from(User).where(User.role == Role.AGENT),
        "calls in the month": select(func.count())
        .select_from(CallRecord)
        .where(CallRecord.ring_at >= month.start, CallRecord.ring_at < month.end),
        "calls after it": select(func.count()).select_from(CallRecord).where(CallRecord.ring_at >= month.end),
        "QA inspections": select(func.count()).select_from(Inspection),
        "surveys": select(func.count()).select_from(m.Survey),
        "sales": select(func.count()).select_from(m.Sale),
        "business errors": select(func.count()).select_from(m.BusinessError),
        "attendance days": select(func.count()).select_from(m.Attendance),
    }
    with factory() as session:
        return {name: session.scalar(query) or 0 for name, query in tables.items()}


# ---------------------------------------------------------------- timing


@dataclass
class Timing:
    name: str
    run: Callable[[Any], object]  # given what ``setup`` made, outside the timing
    setup: Callable[[], Any] = lambda: None
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def once(self, keep: bool) -> None:
        given = self.setup()
        gc.collect()  # the previous run's garbage is not this one's cost
        wall, cpu = time.perf_counter(), time.process_time()
        self.run(given)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        del given  # nothing of one workload stays in memory during the next (it slows them by ~10 %)
        if keep:
            self.wall.append(wall)
            self.cpu.append(cpu)

    def best(self) -> float:
        return min(self.wall)

    def median(self) -> float:
        return statistics.median(self.wall)


def server_like_collector() -> None:
    """The collector as ``kefu serve`` sets it after its start (kefu.web.lifespan)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def machine_busy_seconds() -> float:
    """CPU time every process of the machine has used (Linux /proc/stat); 0 elsewhere."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def workloads(factory: sessionmaker[Session], supervisor_id: int) -> list[Timing]:
    month = Period.month(MONTH)
    settings = Settings()
    with factory() as session:
        reader = session.get(User, supervisor_id)
        assert reader is not None
        agent_ids = list(visible_agents(session, reader))

    def baseline(_: None = None) -> Records:
        with factory() as session:
            return load_records(
                session, month.start, month.end, agent_ids=agent_ids, fcr_days=settings.fcr_days,
                first_day=month.first, last_day=month.last,
            )  # fmt: skip

    def page(_: None = None) -> object:
        with factory() as session:
            user = session.get(User, supervisor_id)
            assert user is not None
            return month_view(session, user, MONTH)

    return [
        Timing("baseline: load_records of the month", baseline),
        Timing("month_view, end to end", page),
        Timing("evaluate_month alone (loaded records)", evaluate_month, setup=baseline),
    ]


def profile(run: Callable[[], object], top: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        lines = out.getvalue().splitlines()
        start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
        print(f"\nmonth_view under cProfile, top {top} by {order}:")
        print("\n".join(lines[start:]).rstrip())


# ---------------------------------------------------------------- the report


def revision() -> str:
    """The commit measured (``+edits`` when the working tree differs from it)."""
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty=+edits"],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return found.stdout.strip() or "unknown"


def describe_records(records: Records) -> str:
    answered = sum(1 for c in records.calls if c.answered)
    return (
        f"{len(records.calls):,} calls of the agents ({answered:,} answered), {len(records.later):,} calls searched for"
        f" repeats, {len(records.qa):,} QA scores, {len(records.surveys):,} surveys, {len(records.sales):,} sales,"
        f" {len(records.errors):,} errors, {len(records.attendance):,} attendance days"
    )


def print_report(timings: list[Timing], cores: tuple[float, float], size: str) -> None:
    """``cores``: how busy the whole machine and this process were during the timings; ``size``:
    what the bar is about when this run is not its size."""
    baseline, page, pure = timings
    print(f"{'':<42} {'best s':>8} {'median s':>9} {'CPU s (best)':>13} {'× baseline (best/median)':>26}")
    for t in timings:
        ratio = f"{t.best() / baseline.best():.2f} / {t.median() / baseline.median():.2f}"
        print(f"{t.name:<42} {t.best():>8.3f} {t.median():>9.3f} {min(t.cpu):>13.3f} {ratio:>26}")
    print(
        f"\nduring the timings: the whole machine {cores[0]:.2f} of {os.cpu_count()} cores busy on average,"
        f" this process {cores[1]:.2f} (the rest: the database server and everything else)"
    )
    verdict = "PASS" if page.best() < BAR_SECONDS else "FAIL"
    print(
        f"bar: month_view under {BAR_SECONDS:g} s — **{verdict}** (best {page.best():.3f} s,"
        f" median {page.median():.3f} s; {'under' if page.median() < BAR_SECONDS else 'over'} it at the median){size}"
    )
    print(
        f"month_view = {page.best() / baseline.best():.2f}× reading the rows;"
        f" the pure computation = {pure.best() / baseline.best():.2f}×"
    )


def default_url(agents: int, calls: int) -> str:
    folder = Path(tempfile.gettempdir()) / "kefu-benchmarks"
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder}/performance-{agents}x{calls}.db"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--calls", type=int, default=100_000, help="inbound calls in the month")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds after one warm-up")
    parser.add_argument("--postgres", help="a PostgreSQL database on this machine (emptied if not built for this size)")
    parser.add_argument("--rebuild", action="store_true", help="build the database again even if it is there")
    parser.add_argument("--profile", action="store_true", help="plus the top functions of one month_view (cProfile)")
    args = parser.parse_args(argv)
    if args.postgres and make_url(args.postgres).host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--postgres must be a database on this machine (127.0.0.1 or localhost)")
    if args.agents < TEAMS or args.calls < 1 or args.rounds < 1:
        parser.error(f"--agents at least {TEAMS}, --calls and --rounds at least 1")

    url = args.postgres or default_url(args.agents, args.calls)
    engine, factory, supervisor, built = open_database(url, args.agents, args.calls, args.rebuild)
    counts = database_counts(factory)
    timings = workloads(factory, supervisor)
    records = timings[0].run(None)
    loaded, evaluated = describe_records(records), len(evaluate_month(records))
    del records
    server_like_collector()
    busy, own, started = machine_busy_seconds(), time.process_time(), time.perf_counter()
    for round_ in range(args.rounds + 1):
        for timing in timings:
            timing.once(keep=round_ > 0)
    seconds = time.perf_counter() - started
    cores = ((machine_busy_seconds() - busy) / seconds, (time.process_time() - own) / seconds)

    database = f"PostgreSQL ({make_url(url).render_as_string()})" if args.postgres else f"SQLite ({url[10:]})"
    print(f"kefu monthly evaluation benchmark · commit {revision()} · Python {platform.python_version()}")
    print(f"database: {database}; {'built in ' + format(built, '.1f') + ' s' if built else 'reused (built before)'}")
    print("  " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
    print(f"month {MONTH}, read by a supervisor (every agent): {loaded}")
    print(f"{evaluated} agents evaluated; 1 warm-up + {args.rounds} timed rounds, interleaved\n")
    size = "" if (args.agents, args.calls) == (500, 100_000) else " — the bar is for 500 agents × 100,000 calls"
    print_report(timings, cores, size)
    if args.profile:
        profile(lambda: timings[1].run(None))
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
