"""The demo data does not depend on the time of day it is written: seeded just after midnight,
early in the morning or just before midnight on the centre's clock, "today's" calls are today's
(and over), and the work orders tell the same story — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kefu.accounts.models import User
from kefu.calls import demo as calls_demo
from kefu.calls import service as calls
from kefu.calls.schemas import CallFilter
from kefu.core.clock import centre_tz, utc_as_stored
from kefu.core.security import Role
from kefu.customers.models import Customer
from kefu.demo import seed_demo
from kefu.workorders import demo as workorders_demo
from kefu.workorders import sla

TODAYS = sum(isinstance(demo.at, timedelta) for demo in calls_demo.DEMOS)


def moments() -> list[datetime]:
    """00:05, 07:00 and 23:59 on a Monday on the centre's clock (the first within three hours of
    midnight, where "3 hours ago" was yesterday), and the first minute of a day."""
    day = datetime(2026, 11, 23, tzinfo=centre_tz())
    return [day.replace(hour=0, minute=5), day.replace(hour=7), day.replace(hour=23, minute=59), day.replace(second=40)]


@pytest.fixture
def people(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    seed_demo(sessions, activity=False, must_change_password=False)  # the logins and customers
    return sessions


def test_todays_demo_calls_are_today_whatever_the_time(people: sessionmaker[Session]) -> None:
    assert TODAYS >= 3
    for now in moments():
        with people() as session:
            agents = list(session.scalars(select(User).where(User.role == Role.AGENT).order_by(User.id)))
            made = calls_demo.seed_demo(session, agents, list(session.scalars(select(Customer))), now=now)
            start, end = calls.day_range(now)
            today = [c for c in made if start <= utc_as_stored(c.ring_at) < end]
            assert len(today) == TODAYS, now
            assert all(c.ring_at <= now for c in made), now  # nothing in the future…
            if now - start >= timedelta(minutes=5):  # …nor still going on, once the day has room for them
                assert all(c.ended_at is not None and c.ended_at <= now for c in made), now
            # what the workbench and 我今天的通话 count: the agents' calls of the centre's day
            shown = sum(calls.agent_today(session, agent.id, now=now).calls for agent in agents)
            listed = calls.list_calls(session, CallFilter(start=start, end=end), limit=100)
            assert shown == len(listed) == TODAYS, now
            session.rollback()


def test_the_demo_work_orders_tell_the_same_story_at_any_time(people: sessionmaker[Session]) -> None:
    stories = []
    for now in moments()[:3]:
        with people() as session:
            users = list(session.scalars(select(User).order_by(User.id)))
            orders = workorders_demo.seed_demo(session, users, list(session.scalars(select(Customer))), now=now)
            assert all(utc_as_stored(order.created_at) <= now for order in orders), now
            stories.append({o.title: (o.status, bool(sla.overdue(o, now)), o.escalated) for o in orders})
            session.rollback()
    assert stories[0] == stories[1] == stories[2]
    story = stories[0]
    assert story["客服热线长时间无人接听"][1:] == (False, False)  # just received
    assert story["智能摄像头全部离线"][1:] == (True, True)  # nobody took it: missed and escalated
    assert story["门锁指纹识别失灵"][1] is True  # the promised time passed
