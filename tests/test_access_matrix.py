"""Object-level permissions: every API route that reads or changes one call or one work order,
for every role, on a record of the user's own, of the user's team and of another team.

The routes are taken from the application itself: a new route with ``{call_id}`` or
``{order_id}`` fails this test until it is given a body below (and so is checked here).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.calls.schemas import CallCreate
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.security import Role
from kefu.core.settings import Settings
from kefu.demo import DEMO_PASSWORD, seed_demo
from kefu.flows import intake
from kefu.web.app import create_app, routers
from kefu.workorders import service as workorders
from kefu.workorders.models import OrderType
from kefu.workorders.schemas import WorkOrderCreate

PASSWORD = "Tea-Pot-7391!"
RING = datetime(2026, 11, 23, 10, 0, tzinfo=centre_tz())
TRANSCRIPT = "客服: 您好,请问有什么可以帮您?\n客户: 我的宽带断了"

# Valid bodies, so that a refusal can only come from who the user is.
BODIES: dict[tuple[str, str], dict[str, object] | None] = {
    ("GET", "/api/calls/{call_id}"): None,
    ("PATCH", "/api/calls/{call_id}"): {"version": 1, "summary": "已核实"},
    ("GET", "/api/calls/{call_id}/workorder-draft"): None,
    ("GET", "/api/calls/{call_id}/inspection"): None,
    ("GET", "/api/workorders/{order_id}"): None,
    ("PATCH", "/api/workorders/{order_id}"): {"version": 1, "follow_up_plan": "明天回电"},
    ("POST", "/api/workorders/{order_id}/start"): {},
    ("POST", "/api/workorders/{order_id}/wait"): {"note": "等客户提供照片"},
    ("POST", "/api/workorders/{order_id}/resume"): {},
    ("POST", "/api/workorders/{order_id}/classify"): {"category": "网络质量"},
    ("POST", "/api/workorders/{order_id}/transfer"): {
        "to_department": "技术部",
        "notes": "客户宽带断网,重启无效,需技术部上门检修",
    },
    ("POST", "/api/workorders/{order_id}/assign"): {"assignee_id": 1},
    ("POST", "/api/workorders/{order_id}/resolve"): {"measures_taken": "已重启"},
    ("POST", "/api/workorders/{order_id}/callback"): {"satisfaction": 5},
    ("POST", "/api/workorders/{order_id}/reopen"): {"reason": "客户仍无法上网"},
    ("POST", "/api/workorders/{order_id}/close"): {},
    ("POST", "/api/workorders/{order_id}/notes"): {"note": "已联系客户"},
    # the pages: the same decisions (a form post is the follow-up note action)
    ("GET", "/calls/{call_id}"): None,
    ("GET", "/workorders/{order_id}"): None,
    ("POST", "/workorders/{order_id}/{action}"): {"note": "已联系客户"},
}

# Who may do what, written out independently of kefu.core.access: (role, kind, whose) → allowed.
# whose: "own" (the user's record, or for others a record of their team), "other" (another team).
PEOPLE = {
    "agent": "10001",  # 一组
    "colleague": "10002",  # 一组: the agent's record is a teammate's, not their own
    "lead": "20001",  # 一组
    "other_lead": "20002",  # 二组
    "qa": "30001",
    "trainer": "40001",
    "supervisor": "50001",
    "admin": "90001",
}
READ_CALL = {"agent": {"own"}, "colleague": set(), "lead": {"own"}, "other_lead": {"other"}}
WRITE_CALL = READ_CALL
READ_ORDER = {"trainer": set()}  # everyone else with customer access reads every order
WRITE_ORDER = {"agent": {"own"}, "colleague": set(), "lead": {"own"}, "other_lead": {"other"}, "qa": set()}
ASSIGN = {"lead": {"own"}, "other_lead": {"other"}, "supervisor": {"own", "other"}, "admin": {"own", "other"}}
EVERYTHING = {"own", "other"}


def allowed(who: str, method: str, path: str, whose: str) -> bool:
    if path.startswith(("/api/calls", "/calls")):
        table = READ_CALL if method == "GET" else WRITE_CALL
        if who == "trainer" or (who == "qa" and method != "GET"):
            return False  # no customer access / no call.edit at all
        return whose in table.get(who, EVERYTHING)
    if path.endswith("/assign"):
        return whose in ASSIGN.get(who, set())
    table = READ_ORDER if method == "GET" else WRITE_ORDER
    if who == "trainer":
        return False
    return whose in table.get(who, EVERYTHING)


@dataclass
class World:
    app: object
    calls: dict[str, int]  # whose → call id
    orders: dict[str, int]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'kefu.db'}", secret_key="test")
    app = create_app(settings)
    seed_demo(app.state.sessions, activity=False, must_change_password=False)
    with transaction(app.state.sessions) as session:
        users = {u.agent_no: u for u in session.scalars(select(User))}
        other = accounts.do_create_user(
            session, None, agent_no="10003", name="赵六", role=Role.AGENT, password=PASSWORD, team="二组"
        )
        accounts.do_create_user(
            session, None, agent_no="20002", name="孙组长", role=Role.TEAM_LEAD, password=PASSWORD, team="二组"
        )
        owners = {"own": users["10001"], "other": other}
        call_ids, order_ids = {}, {}
        for whose, agent in owners.items():
            call = intake.do_record_call(
                session,
                None,
                CallCreate(
                    direction="inbound",
                    agent_id=agent.id,
                    ring_at=RING,
                    answered_at=RING + timedelta(seconds=5),
                    ended_at=RING + timedelta(minutes=2),
                    reason="故障申告",
                    transcript=TRANSCRIPT,
                ),
            )
            order = workorders.do_create(
                session,
                agent.id,
                WorkOrderCreate(type=OrderType.CONSULTATION, title="资费咨询", description="询问套餐资费"),
            )
            call_ids[whose], order_ids[whose] = call.id, order.id
    yield World(app, call_ids, order_ids)
    app.state.engine.dispose()


def client_for(app: object, agent_no: str) -> TestClient:
    client = TestClient(app)  # type: ignore[arg-type]
    password = PASSWORD if agent_no in ("10003", "20002") else DEMO_PASSWORD
    answer = client.post("/api/auth/login", json={"agent_no": agent_no, "password": password})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf"]
    return client


def object_routes(app: object) -> list[tuple[str, str]]:
    found = []
    for route in (r for router in routers() for r in router.routes):
        if isinstance(route, APIRoute) and ("{call_id" in route.path or "{order_id" in route.path):
            found += [(method, route.path.replace(":int", "")) for method in route.methods]
    return sorted(found)


def test_every_object_route_has_a_body_here(world: World) -> None:
    assert len(object_routes(world.app)) >= len(BODIES)
    missing = [route for route in object_routes(world.app) if route not in BODIES]
    assert not missing, f"routes not covered by the access matrix: {missing}"


@pytest.mark.parametrize("who", list(PEOPLE))
def test_every_route_for_every_role_on_own_and_other_records(world: World, who: str) -> None:
    client = client_for(world.app, PEOPLE[who])
    wrong = []
    for method, path in object_routes(world.app):
        for whose in ("own", "other"):
            ids = {"call_id": world.calls[whose], "order_id": world.orders[whose], "action": "note"}
            url = path.format(**ids)
            body = BODIES[(method, path)]
            if body is None:
                answer = client.request(method, url)
            elif path.startswith("/api/"):
                answer = client.request(method, url, json=body)
            else:
                answer = client.request(method, url, data=body, follow_redirects=False)
            expected = allowed(who, method, path, whose)
            if (answer.status_code == 403) == expected or answer.status_code >= 500:
                wrong.append(f"{method} {path} on {whose}: {answer.status_code} {answer.text[:120]}")
    assert not wrong, f"{who}:\n" + "\n".join(wrong)


def test_lists_hold_only_what_the_user_may_read(world: World) -> None:
    agent = client_for(world.app, "10001")
    listed = {c["id"] for c in agent.get("/api/calls").json()}
    assert world.calls["own"] in listed and world.calls["other"] not in listed
    lead = client_for(world.app, "20002")
    listed = {c["id"] for c in lead.get("/api/calls").json()}
    assert listed == {world.calls["other"]}  # the other team's lead: that team's calls only


def test_nobody_records_or_moves_a_call_in_someone_elses_name(world: World) -> None:
    agent = client_for(world.app, "10001")
    colleague_id = next(u["id"] for u in [client_for(world.app, "10002").get("/api/auth/me").json()])
    body = {
        "direction": "inbound",
        "ring_at": "2026-11-23T11:00:00+08:00",
        "reason": "故障申告",
        "agent_id": colleague_id,
        "transcript": TRANSCRIPT,
    }
    refused = agent.post("/api/calls", json=body)
    assert refused.status_code == 403 and "自己的名义" in refused.json()["detail"]
    own = agent.get(f"/api/calls/{world.calls['own']}").json()
    moved = agent.patch(f"/api/calls/{world.calls['own']}", json={"version": own["version"], "agent_id": colleague_id})
    assert moved.status_code == 403
    lead = client_for(world.app, "20001")
    assert lead.post("/api/calls", json=body).status_code == 201  # a team lead records for the team
