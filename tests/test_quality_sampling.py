"""Sampling plans draw, per agent and period, the calls that go to human review: by count or
percentage, through the plan's filters, spread evenly over the inspectors, once per period —
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from kefu.accounts import service as accounts
from kefu.calls.schemas import CallCreate
from kefu.core import audit
from kefu.core.clock import centre_tz, utc_as_stored
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Invalid
from kefu.core.security import Role
from kefu.flows import intake
from kefu.quality import sampling
from kefu.quality.models import Period, Review, SamplingPlan, SamplingRun

MONDAY = date(2026, 11, 23)  # the week sampled in these tests

GOOD = [
    {
        "speaker": "agent",
        "text": "上午好,感谢致电智能科技客服中心,客服{no}号为您服务,请问有什么可以帮您?",
        "start": 0,
        "end": 5,
    },
    {"speaker": "customer", "text": "我想问一下宽带资费。", "start": 5.5, "end": 8},
    {"speaker": "agent", "text": "好的,我来为您查询宽带资费。", "start": 8.5, "end": 11},
    {"speaker": "agent", "text": "请问还有其他可以帮到您的吗?", "start": 40, "end": 42},
    {"speaker": "customer", "text": "没有了,谢谢。", "start": 42.5, "end": 44},
    {"speaker": "agent", "text": "感谢您的来电,祝您生活愉快,再见!", "start": 44.5, "end": 47},
]
RUDE = [
    GOOD[0],
    {"speaker": "customer", "text": "我的宽带为什么又断了?", "start": 5.5, "end": 8},
    {"speaker": "agent", "text": "这个我不知道,你等一下。", "start": 8.5, "end": 11},
    *GOOD[3:],
]


def transcript(turns: list[dict[str, Any]], no: str) -> list[dict[str, Any]]:
    return [{**t, "text": str(t["text"]).replace("{no}", no)} for t in turns]


def make_call(
    session: Any,
    agent: Any,
    day: date,
    *,
    rude: bool = False,
    minute: int = 0,
    reason: str = "consult.tariff",
    talk: int = 46,
) -> int:
    ring = datetime(day.year, day.month, day.day, 10, minute, tzinfo=centre_tz())
    data = CallCreate.model_validate(
        {
            "direction": "inbound",
            "ring_at": ring,
            "answered_at": ring + timedelta(seconds=4),
            "ended_at": ring + timedelta(seconds=4 + talk),
            "hangup_by": "customer",
            "reason": reason,
            "agent_id": agent.id,
            "transcript": transcript(RUDE if rude else GOOD, agent.agent_no),
        }
    )
    return intake.do_record_call(session, agent.id, data).id


def make_people(sessions: Any) -> dict[str, Any]:
    """Two agents, three QA inspectors and a supervisor (detached, for their ids and names)."""
    with transaction(sessions) as session:

        def user(no: str, name: str, role: Role) -> Any:
            return accounts.do_create_user(session, None, agent_no=no, name=name, role=role, password="kefu2026")

        found = {
            "a": user("12345", "小李", Role.AGENT),
            "b": user("12346", "小王", Role.AGENT),
            "q1": user("30001", "赵强", Role.QA),
            "q2": user("30002", "钱敏", Role.QA),
            "q3": user("30003", "孙丽", Role.QA),
            "boss": user("50001", "刘洋", Role.SUPERVISOR),
        }
        session.expunge_all()
    return found


@pytest.fixture
def people(sessions) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return make_people(sessions)


def plan(session: Any, actor: int, **fields: Any) -> int:
    data = {"name": "测试方案", "period": "weekly", **fields}
    return sampling.do_save_plan(session, actor, data).id


def sampled(session: Any, run_id: int) -> list[Review]:
    return list(session.scalars(select(Review).where(Review.run_id == run_id).order_by(Review.call_id)))


def test_count_per_agent_takes_that_many_or_all_the_agent_has(sessions, people) -> None:  # type: ignore[no-untyped-def]
    a, b, q1 = people["a"], people["b"], people["q1"]
    with transaction(sessions) as session:
        a_calls = [make_call(session, a, MONDAY + timedelta(days=d % 5), minute=d) for d in range(6)]
        b_calls = [make_call(session, b, MONDAY, minute=d) for d in range(2)]
        make_call(session, a, MONDAY + timedelta(days=7))  # next week: not in the period
        make_call(session, a, MONDAY - timedelta(days=1))  # the Sunday before
        plan_id = plan(session, q1.id, per_agent_count=3)
        result = sampling.do_run_plan(session, q1.id, plan_id, MONDAY + timedelta(days=2), seed=7)
    with sessions() as session:
        reviews = sampled(session, result.run.id)
        per_agent = Counter(r.call.agent_id for r in reviews)
        assert per_agent == {a.id: 3, b.id: 2}
        assert {r.call_id for r in reviews} <= set(a_calls) | set(b_calls)
        run = session.get(SamplingRun, result.run.id)
        assert run is not None and run.calls == 5
        assert utc_as_stored(run.period_start).astimezone(centre_tz()).date() == MONDAY  # the week of the day given
        assert [e.action for e in audit.entries(session, entity="sampling_run")] == ["run"]


def test_percentage_rounds_up_and_takes_at_least_one(sessions, people) -> None:  # type: ignore[no-untyped-def]
    a, b, q1 = people["a"], people["b"], people["q1"]
    with transaction(sessions) as session:
        for d in range(6):
            make_call(session, a, MONDAY, minute=d)
        make_call(session, b, MONDAY)
        plan_id = plan(session, q1.id, per_agent_percent=30)
        result = sampling.do_run_plan(session, q1.id, plan_id, MONDAY, seed=1)
    with sessions() as session:
        per_agent = Counter(r.call.agent_id for r in sampled(session, result.run.id))
    assert per_agent == {a.id: 2, b.id: 1}  # 6 × 30% = 1.8 → 2; 1 × 30% → at least 1


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"score_max": 90}, {"rude", "long"}),  # machine scores: good 92, rude 90, complaint 92, long 89
        ({"score_min": 89.5, "score_max": 91}, {"rude"}),
        ({"rules": ["forbidden_phrase"]}, {"rude"}),
        ({"reasons": ["complaint"]}, {"complaint"}),
        ({"min_seconds": 120}, {"long"}),
        ({"max_seconds": 60, "score_min": 91}, {"good", "complaint"}),
    ],
)
def test_filters_pick_only_matching_calls(sessions, people, filters: dict[str, Any], expected: set[str]) -> None:  # type: ignore[no-untyped-def]
    a, q1 = people["a"], people["q1"]
    with transaction(sessions) as session:
        ids = {
            "good": make_call(session, a, MONDAY, minute=1),
            "rude": make_call(session, a, MONDAY, minute=2, rude=True),
            "complaint": make_call(session, a, MONDAY, minute=3, reason="complaint"),
            "long": make_call(session, a, MONDAY, minute=4, talk=300),
        }
        plan_id = plan(session, q1.id, per_agent_count=10, filters=filters)
        result = sampling.do_run_plan(session, q1.id, plan_id, MONDAY)
    with sessions() as session:
        names = {
            name for name, call_id in ids.items() if call_id in {r.call_id for r in sampled(session, result.run.id)}
        }
    assert names == expected


def test_tasks_are_spread_evenly_over_three_inspectors(sessions, people) -> None:  # type: ignore[no-untyped-def]
    a, b = people["a"], people["b"]
    inspectors = [people["q1"].id, people["q2"].id, people["q3"].id]
    with transaction(sessions) as session:
        for d in range(6):
            make_call(session, a, MONDAY, minute=d)
            make_call(session, b, MONDAY, minute=d)
        plan_id = plan(session, people["boss"].id, per_agent_count=5, inspector_ids=inspectors)
        result = sampling.do_run_plan(session, people["boss"].id, plan_id, MONDAY)
    with sessions() as session:
        loads = Counter(r.inspector_id for r in sampled(session, result.run.id))
    assert sum(loads.values()) == 10 and set(loads) == set(inspectors)
    assert max(loads.values()) - min(loads.values()) <= 1


def test_a_period_is_drawn_once_and_sampled_calls_are_not_drawn_again(sessions, people) -> None:  # type: ignore[no-untyped-def]
    a, q1 = people["a"], people["q1"]
    with transaction(sessions) as session:
        for d in range(4):
            make_call(session, a, MONDAY, minute=d)
        plan_id = plan(session, q1.id, per_agent_count=2)
        sampling.do_run_plan(session, q1.id, plan_id, MONDAY)
    with transaction(sessions) as session, pytest.raises(Conflict, match="同一周期不能重复抽取"):
        sampling.do_run_plan(session, q1.id, plan_id, MONDAY + timedelta(days=3))  # same week
    with transaction(sessions) as session:
        assert session.scalar(select(func.count()).select_from(Review)) == 2
        other = plan(session, q1.id, name="另一方案", per_agent_count=10)
        second = sampling.do_run_plan(session, q1.id, other, MONDAY)
    with sessions() as session:
        assert len(sampled(session, second.run.id)) == 2  # the two already under review are left out


def test_the_default_period_is_the_previous_complete_one(sessions, people) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 12, 2, 9, 0, tzinfo=centre_tz())  # a Wednesday
    week = sampling.period_window(Period.WEEKLY, now=now)
    assert week.start.astimezone(centre_tz()).date() == date(2026, 11, 23)
    assert week.end.astimezone(centre_tz()).date() == date(2026, 11, 30)
    month = sampling.period_window(Period.MONTHLY, now=now)
    assert month.start.astimezone(centre_tz()).date() == date(2026, 11, 1)
    day = sampling.period_window(Period.DAILY, now=now)
    assert day.start.astimezone(centre_tz()).date() == date(2026, 12, 1)
    a, q1 = people["a"], people["q1"]
    with transaction(sessions) as session:
        make_call(session, a, MONDAY)
        plan_id = plan(session, q1.id, per_agent_count=1)
        result = sampling.do_run_plan(session, q1.id, plan_id, now=now)
        assert result.run.calls == 1


def test_the_default_plan_is_created_once_and_never_clobbered(sessions, people) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        created = sampling.ensure_default_plan(session)
        assert created is not None and created.name == "每周抽检"
        assert created.period == Period.WEEKLY and created.per_agent_count == 5 and created.per_agent_percent is None
    with transaction(sessions) as session:
        assert sampling.ensure_default_plan(session) is None
        plan_row = sampling.list_plans(session)[0]
        sampling.do_save_plan(
            session,
            people["q1"].id,
            {"name": "每周抽检(加量)", "period": "weekly", "per_agent_percent": 10},
            plan_id=plan_row.id,
            version=plan_row.version,
        )
    with transaction(sessions) as session:
        assert sampling.ensure_default_plan(session) is None
        assert [(p.name, p.per_agent_percent) for p in sampling.list_plans(session)] == [("每周抽检(加量)", 10)]
        sampling.do_delete_plan(session, people["q1"].id, sampling.list_plans(session)[0].id)
    with transaction(sessions) as session:
        assert sampling.ensure_default_plan(session) is None  # deleted on purpose: stays deleted
        assert sampling.list_plans(session) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"per_agent_count": 3, "per_agent_percent": 10}, "二选一"),
        ({}, "二选一"),
        ({"per_agent_count": 0}, "每人条数"),
        ({"per_agent_percent": 120}, "每人比例"),
        ({"per_agent_percent": 0}, "每人比例"),
        ({"per_agent_count": 2, "filters": {"score_min": 90, "score_max": 60}}, "最低分不能高于最高分"),
        ({"per_agent_count": 2, "filters": {"rules": ["no_such_rule"]}}, "no_such_rule"),
        ({"per_agent_count": 2, "filters": {"reasons": ["nope"]}}, "来电原因"),
        ({"per_agent_count": 2, "period": "yearly"}, "周期"),
        ({"per_agent_count": 2, "name": "  "}, "方案名称"),
    ],
)
def test_bad_plans_are_refused_and_nothing_saved(sessions, people, fields: dict[str, Any], message: str) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session, pytest.raises(Invalid, match=message):
        sampling.do_save_plan(session, people["q1"].id, {"name": "坏方案", "period": "weekly", **fields})
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(SamplingPlan)) == 0


def test_an_agent_cannot_be_an_inspector_and_a_stale_edit_is_refused(sessions, people) -> None:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session, pytest.raises(Invalid, match="质检人员"):
        plan(session, people["q1"].id, per_agent_count=2, inspector_ids=[people["a"].id])
    with transaction(sessions) as session:
        plan_id = plan(session, people["q1"].id, per_agent_count=2)
    with transaction(sessions) as session:
        sampling.do_save_plan(
            session, people["q2"].id, {"name": "测试方案", "per_agent_count": 4}, plan_id=plan_id, version=1
        )
    with transaction(sessions) as session, pytest.raises(Conflict, match="已被他人修改"):
        sampling.do_save_plan(
            session, people["q1"].id, {"name": "测试方案", "per_agent_count": 9}, plan_id=plan_id, version=1
        )
    with sessions() as session:
        assert sampling.get_plan(session, plan_id).per_agent_count == 4
