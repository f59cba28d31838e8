"""Six weeks of a small centre for the demo (SPEC §7): three teams, 25 agents, tens of thousands
of offered calls — some abandoned in the queue, some repeats of an unresolved problem — with
post-call surveys, sales offers, business errors, attendance and a weekly QA sample, spread so
that the dashboards, grades, stars and alerts have something to say. One agent's figures drop
in the last week (the alerts' demo).

Everything comes from one seeded random generator and is written in a few bulk statements, so
``kefu serve`` still starts in seconds. QA scores are real: each agent's sampled calls carry one
of a few transcripts, each inspected once by the engine, its scorecard copied to the calls.
"""

from __future__ import annotations

import math
import random
import secrets
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from kefu.accounts import service as accounts
from kefu.accounts.models import User, UserSession
from kefu.calls.demo import DEMOS
from kefu.calls.schemas import CallCreate
from kefu.calls.service import do_import_call_rows
from kefu.core.clock import centre_tz, on_centre_clock, utc_for_storing
from kefu.core.security import Role
from kefu.performance import service as performance
from kefu.performance.schemas import CoachingIn
from kefu.quality.service import Scorecard, score_new_calls, store_scorecards
from kefu.workforce import service as workforce
from kefu.workforce.models import LeaveKind
from kefu.workforce.schemas import LeaveIn

SEED = 2026
DAYS = 42
TEAMS = ("一组", "二组", "三组")
LEADS = (("20002", "孙磊", "二组"), ("20003", "吴芳", "三组"))
CENTRE_ACCOUNTS = "话务员 10003–10025(一组、二组、三组)和班组长 20002(二组)、20003(三组)"
SURNAMES = "张王刘陈杨黄赵周吴徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = ("婷", "伟", "静", "磊", "娜", "强", "丽", "洋", "敏", "杰", "燕", "涛", "霞", "勇", "艳", "军", "倩", "鹏")
# Shifts of seed 004 / 002: 早班 08–16, 中班 12–20, 晚班 16–24.
SHIFTS = ((8, 16), (12, 20), (16, 24))
# Calls per half hour on a weekday, from 00:00; peaks mid-morning and mid-afternoon.
PROFILE = (
    1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2,
    14, 22, 30, 36, 38, 36, 32, 28, 22, 24, 30, 34, 35, 32, 28, 24,
    20, 18, 16, 14, 12, 10, 9, 8, 7, 6, 5, 4, 3, 2, 2, 1,
)  # fmt: skip
WEEKEND = 0.6
VOLUME = 1.4  # times PROFILE: about 35,000 offered calls in six weeks
REASONS = (
    ("consult.tariff", 18), ("consult.service", 14), ("consult.promotion", 8), ("query", 20), ("payment", 10),
    ("fault", 12), ("complaint", 5), ("suggestion", 2), ("other", 5), ("consult.outlet", 6),
)  # fmt: skip
SALE_REASONS = frozenset({"consult.tariff", "consult.service", "consult.promotion", "payment"})
PRODUCTS = (("云存储年包", 199.0), ("智能插座套装", 399.0), ("标准版升级", 999.0), ("高级版套装", 3999.0))
ERRORS = ("未核实身份即告知账户信息", "资费解释错误", "工单分类错误", "漏登记客户联系方式", "业务办理步骤说明有误")
SURVEY_SHARE = 0.3
QA_PER_WEEK = 20  # seed 004: weekly sampling
DROP_DAYS = 7


@dataclass(frozen=True)
class Profile:
    quality: float  # where the agent's QA scores sit, 0–100
    csat: float
    aht: float  # seconds
    conversion: float
    errors: float  # per answered call
    repeats: float  # share of answered calls the customer calls again about
    attendance: float
    drops: bool = False  # the last week goes badly (alerts)


@dataclass
class _Call:
    ring: datetime
    agent: User | None
    answered: datetime | None
    ended: datetime
    number: str
    reason: str
    hold: float | None = None
    wrap: float | None = None
    variant: int | None = None  # the QA sample's transcript
    extra: dict[str, object] = field(default_factory=dict)


def _profiles(rng: random.Random, agents: Sequence[User]) -> dict[int, Profile]:
    out = {}
    for index, agent in enumerate(agents):
        skill = rng.betavariate(5, 2)  # most agents good, a few weak
        out[agent.id] = Profile(
            quality=62 + 34 * skill,
            csat=0.70 + 0.25 * skill,
            aht=380 - 170 * rng.random() * (0.5 + skill / 2),
            conversion=0.04 + 0.2 * rng.random(),
            errors=0.002 + 0.02 * (1 - skill),
            repeats=0.08 + 0.2 * (1 - skill),
            attendance=0.93 + 0.07 * rng.random(),
            drops=index == 5,
        )
    return out


def _people(session: Session, agents: Sequence[User], password: tuple[str, str], rng: random.Random) -> list[User]:
    """The demo's two agents of 一组 plus 23 more, and a team lead for 二组 and 三组, asked to change
    the demo password as the first agents are."""
    people = list(agents)
    number = 10003
    for team_index, team in enumerate(TEAMS):
        size = (8, 9, 8)[team_index] - sum(1 for a in agents if a.team == team)
        for _ in range(size):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", *GIVEN))
            people.append(
                accounts.do_create_user(
                    session,
                    None,
                    agent_no=str(number),
                    name=name,
                    role=Role.AGENT,
                    password=password[0],
                    password_hash=password[1],
                    team=team,
                    must_change_password=agents[0].must_change_password,
                )
            )
            number += 1
    for no, name, team in LEADS:
        accounts.do_create_user(
            session, None, agent_no=no, name=name, role=Role.TEAM_LEAD, password=password[0], team=team,
            must_change_password=agents[0].must_change_password, password_hash=password[1],
        )  # fmt: skip
    return people


def _on_duty(agents: Sequence[User], day: date, hour: int, absent: set[tuple[int, date]]) -> list[User]:
    """Who works this hour: each agent on one shift a week, two days off a week. The shift rotates
    early → late → middle → early, so that no week ends on a 晚班 followed by an 早班."""
    week, weekday = day.isocalendar()[1], day.weekday()
    out = []
    for index, agent in enumerate(agents):
        if (weekday - index) % 7 in (5, 6) or (agent.id, day) in absent:
            continue
        start, end = SHIFTS[(index - week) % 3]
        if start <= hour < end or (hour < 8 and index % 9 == week % 9):  # one night agent
            out.append(agent)
    return out


def _generate(rng: random.Random, agents: Sequence[User], profiles: dict[int, Profile], now: datetime) -> list[_Call]:
    zone = centre_tz()
    today = on_centre_clock(now).date()
    first = today - timedelta(days=DAYS)
    absent = {
        (a.id, first + timedelta(days=d))
        for a in agents
        for d in range(DAYS + 1)
        if rng.random() > profiles[a.id].attendance
    }
    numbers = [f"1{rng.choice('3578')}{rng.randrange(10**9):09d}" for _ in range(12_000)]
    reasons, weights = zip(*REASONS, strict=True)
    calls: list[_Call] = []
    for d in range(DAYS + 1):
        day = first + timedelta(days=d)
        factor = WEEKEND if day.weekday() >= 5 else 1.0
        for slot, rate in enumerate(PROFILE):
            start = datetime.combine(day, time(slot // 2, 30 * (slot % 2)), zone)
            if start >= now:
                break
            expected = VOLUME * rate * factor * rng.uniform(0.85, 1.15)
            count = max(0, round(rng.gauss(expected, math.sqrt(expected)))) if expected else 0
            staff = _on_duty(agents, day, slot // 2, absent) or [rng.choice(agents)]
            load = count * 300 / (len(staff) * 1800)
            mean_wait = 5 + 120 * max(0.0, load - 0.75) ** 2
            for _ in range(count):
                ring = start + timedelta(seconds=rng.uniform(0, 1800))
                if ring >= now:
                    continue
                wait, patience = rng.expovariate(1 / mean_wait), rng.expovariate(1 / 150)
                number, reason = rng.choice(numbers), rng.choices(reasons, weights)[0]
                if wait > patience:
                    gave_up = ring + timedelta(seconds=patience)
                    if gave_up <= now:  # a caller still waiting now is no record yet
                        calls.append(_Call(ring, None, None, gave_up, number, reason))
                    continue
                agent = rng.choice(staff)
                answered = ring + timedelta(seconds=wait)
                talk = rng.lognormvariate(math.log(profiles[agent.id].aht * 0.8), 0.35)
                hold = rng.uniform(10, 80) if rng.random() < 0.2 else 0.0
                wrap = rng.uniform(10, 50)
                ended = answered + timedelta(seconds=talk)
                if ended <= now:  # a call still under way now is no record yet
                    calls.append(_Call(ring, agent, answered, ended, number, reason, hold, wrap))
    calls.sort(key=lambda c: c.ring)
    _plant_repeats(rng, calls, profiles)
    return calls


def _plant_repeats(rng: random.Random, calls: list[_Call], profiles: dict[int, Profile]) -> None:
    """A customer whose problem was not solved calls again about it within a few days."""
    rings = [c.ring for c in calls]
    for call in calls:
        if call.agent is None or rng.random() > profiles[call.agent.id].repeats:
            continue
        low = bisect_left(rings, call.ring + timedelta(days=1))
        high = bisect_right(rings, call.ring + timedelta(days=5))
        if low < high:
            later = calls[rng.randrange(low, high)]
            later.number, later.reason = call.number, call.reason


def _dropping(profile: Profile, call: _Call, now: datetime) -> bool:
    return profile.drops and call.ring >= now - timedelta(days=DROP_DAYS)


def _qa_sample(
    rng: random.Random, calls: list[_Call], scores: dict[int, list[float]], profiles: dict[int, Profile], now: datetime
) -> None:
    """Each agent's weekly sample (seed 004), each call given the transcript whose score suits
    the agent: the variants nearest the agent's level, the weak ones in a bad week."""
    by_week: dict[tuple[int, int], list[_Call]] = {}
    for call in calls:
        if call.agent is not None and call.answered is not None and call.ended < now:
            by_week.setdefault((call.agent.id, call.ring.isocalendar()[1]), []).append(call)
    for (agent_id, _), week_calls in by_week.items():
        profile = profiles[agent_id]
        variants = scores[agent_id]
        for call in rng.sample(week_calls, min(QA_PER_WEEK, len(week_calls))):
            target = profile.quality - (25 if _dropping(profile, call, now) else 0)
            weights = [math.exp(-((s - target) ** 2) / (2 * 6**2)) + 1e-6 for s in variants]
            call.variant = rng.choices(range(len(variants)), weights)[0]


Turns = list[dict[str, object]]


def _variants(session: Session, agents: Sequence[User]) -> tuple[dict[int, list[Turns]], dict[int, list[Scorecard]]]:
    """The inbound voice demo transcripts, scripted for each agent, inspected once each: by agent
    id, the transcripts and their scorecards in the same order."""
    demos = [d for d in DEMOS if d.direction == "inbound" and d.channel == "voice"]
    turns: dict[int, list[Turns]] = {}
    items = []
    for agent in agents:
        turns[agent.id] = [d.turns(agent) if callable(d.turns) else d.turns for d in demos]
        items += [
            CallCreate(direction="inbound", ring_at=datetime(2026, 1, 1, 10), answered_at=datetime(2026, 1, 1, 10),
                       agent_id=agent.id, reason=d.reason, transcript=t)
            for d, t in zip(demos, turns[agent.id], strict=True)
        ]  # fmt: skip
    cards = score_new_calls(session, items)
    assert all(card is not None for card in cards)  # every variant has a transcript
    per_agent = len(demos)
    by_agent = {a.id: cards[i * per_agent : (i + 1) * per_agent] for i, a in enumerate(agents)}
    return turns, by_agent  # type: ignore[return-value]


def seed_centre(
    session: Session, supervisor: User, lead: User, agents: Sequence[User], password: tuple[str, str], now: datetime
) -> None:
    """``password``: the demo password and its hash, for the new accounts."""
    rng = random.Random(SEED)
    agents = _people(session, agents, password, rng)
    profiles = _profiles(rng, agents)
    turns_of, cards = _variants(session, agents)
    now = utc_for_storing(now)
    calls = _generate(rng, agents, profiles, now)
    scores = {a: [c.final_score or 0.0 for c in cs] for a, cs in cards.items()}
    _qa_sample(rng, calls, scores, profiles, now)
    items, copies = [], []
    for call in calls:
        card = cards[call.agent.id][call.variant] if call.agent and call.variant is not None else None
        items.append(
            CallCreate(
                direction="inbound",
                agent_id=call.agent.id if call.agent else None,
                caller_number=call.number,
                ring_at=call.ring,
                answered_at=call.answered,
                ended_at=call.ended,
                hangup_by="customer",
                hold_seconds=call.hold,
                wrap_seconds=call.wrap,
                reason=call.reason if call.answered else None,
                transcript=turns_of[call.agent.id][call.variant] if card is not None and call.agent else None,
            )
        )
        copies.append(card)
    ids = do_import_call_rows(session, None, items, "演示数据(六周话单)", copies, now)
    store_scorecards(session, [(i, it.agent_id) for i, it in zip(ids, items, strict=True)], copies, now)
    performance.do_insert_checked_records(session, None, _records(rng, calls, ids, profiles, lead, now), "演示数据")
    _workflow(session, supervisor, lead, agents, now)
    _rosters(session, supervisor, agents, calls, now)


def _rosters(session: Session, supervisor: User, agents: Sequence[User], calls: list[_Call], now: datetime) -> None:
    """Last week and this week as they were worked (the pattern of ``_on_duty``), published a week
    ahead, with the agents' logins on the days they took calls (a few minutes late or early now
    and then, for the adherence page); next week drafted by the solver from the forecast; and a
    leave request waiting."""
    this_week = workforce.week_of(on_centre_clock(now).date())
    codes = ("early", "middle", "late")  # SHIFTS above, as the roster names them
    worked = {(c.agent.id, on_centre_clock(c.ring).date()) for c in calls if c.agent is not None}
    rng = random.Random(SEED + 1)
    for week_start in (this_week - timedelta(days=7), this_week):
        week = week_start.isocalendar()[1]
        plan = {
            agent.id: [None if (d - index) % 7 in (5, 6) else codes[(index - week) % 3] for d in range(7)]
            for index, agent in enumerate(agents)
        }
        published = datetime.combine(week_start - timedelta(days=8), time(17), centre_tz())
        workforce.do_import_roster(session, supervisor, week_start, plan, published)
        for agent_id, days in plan.items():
            for d, code in enumerate(days):
                day = week_start + timedelta(days=d)
                if code is None or (agent_id, day) not in worked:
                    continue
                start = datetime.combine(day, time(SHIFTS[codes.index(code)][0]), centre_tz())
                began = start + timedelta(minutes=rng.choice((-10, -5, -3, 0, 2, 25)))
                ended = start + timedelta(hours=8, minutes=rng.choice((-40, -5, 0, 3, 10)))
                if ended > now:
                    continue
                session.add(
                    UserSession(token_hash=secrets.token_hex(32), user_id=agent_id, created_at=began,
                                last_seen_at=ended, ended_at=ended, end_reason="logout", address="演示")
                )  # fmt: skip
    workforce.do_draft_roster(session, supervisor, this_week + timedelta(days=7))
    first = this_week + timedelta(days=16)
    leave = LeaveIn(first_day=first, last_day=first + timedelta(days=1), kind=LeaveKind.ANNUAL, reason="回老家办事")
    workforce.do_request_leave(session, agents[2], leave)


def _records(
    rng: random.Random, calls: list[_Call], ids: list[int], profiles: dict[int, Profile], lead: User, now: datetime
) -> performance.RecordRows:
    rows = performance.RecordRows([], [], [], [])
    worked: set[tuple[int, date]] = set()
    for call, call_id in zip(calls, ids, strict=True):
        if call.agent is None or call.answered is None:
            continue
        profile = profiles[call.agent.id]
        worked.add((call.agent.id, on_centre_clock(call.ring).date()))
        if rng.random() < SURVEY_SHARE:
            csat = profile.csat - (0.3 if _dropping(profile, call, now) else 0)
            answer = rng.choice(("5", "满意", "4")) if rng.random() < csat else rng.choice(("一般", "不满意", "3", "2"))
            rows.surveys.append({"call_id": call_id, "answer": answer, "satisfied": answer in ("5", "4", "满意"),
                                 "answered_at": call.ended, "recorded_by": None})  # fmt: skip
        if call.reason in SALE_REASONS and rng.random() < 0.25:
            product, price = rng.choice(PRODUCTS)
            converted = rng.random() < profile.conversion
            amount = price if converted else 0.0
            rows.sales.append({"call_id": call_id, "product": product, "converted": converted,
                               "amount": amount, "recorded_by": None, "created_at": call.ended})  # fmt: skip
        if rng.random() < profile.errors:
            note = rng.choice(ERRORS)
            rows.errors.append({"agent_id": call.agent.id, "call_id": call_id, "occurred_at": call.ended,
                                "note": note, "recorded_by": lead.id, "created_at": call.ended})  # fmt: skip
    for agent_id, day in sorted(worked):
        late = rng.uniform(5, 40) if rng.random() < 0.08 else 0.0
        rows.attendance.append({"agent_id": agent_id, "day": day, "scheduled_minutes": 480.0,
                                "present_minutes": 480.0 - late, "recorded_by": None})  # fmt: skip
    return rows


def _workflow(session: Session, supervisor: User, lead: User, agents: Sequence[User], now: datetime) -> None:
    """The latest month that may be published, commented by 一组's lead and published by the
    supervisor; a coaching plan for an agent flagged by its results."""
    last_month = performance.latest_publishable(on_centre_clock(now).date())
    team = [a for a in agents if a.team == lead.team]
    for agent, text in zip(
        team[:3],
        ("服务态度好,业务熟练,可作为新人带教。", "语速偏快,需注意确认客户需求。", "进步明显,继续保持。"),
        strict=False,
    ):
        performance.do_comment(session, lead, last_month, agent.id, text)
    performance.do_publish_month(session, supervisor, last_month)
    view = performance.month_view(session, supervisor, last_month)
    flagged = next((r for r in view.rows if r.coaching), None) or min(view.rows, key=lambda r: r.total or 100)
    performance.do_create_coaching(
        session,
        supervisor,
        CoachingIn(
            agent_id=flagged.agent_id or 0,
            month=last_month,
            reason=flagged.coaching or f"{last_month} 总分 {flagged.total:g},全中心最低",
            goals="质检平均分提升到 85 分以上;满意度不低于 85%。",
            actions="每周与班组长复盘 3 通录音;参加话务技巧专项培训;一周跟听优秀坐席 2 小时。",
            review_on=on_centre_clock(now).date() + timedelta(days=21),
        ),
    )
