"""Personal data stays behind the mask: every GET route of the API and the pages, for every role.

A customer's phone number, ID number and account id — the factors of the identity check — are
planted in a call (caller number, transcript, summary) and a work order. No route may show
them to anyone who has not verified the caller, except to the roles allowed to see customers
unmasked (kefu.core.privacy), and every such read must leave an audit entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from kefu.accounts.models import User
from kefu.calls import service as calls
from kefu.calls.schemas import CallCreate
from kefu.core.audit import AuditEntry
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.privacy import Reader, roles_with_unmask
from kefu.core.settings import Settings
from kefu.customers.models import Customer
from kefu.dataio import export_calls, export_customers
from kefu.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo
from kefu.flows import intake
from kefu.quality.models import Inspection
from kefu.web.app import create_app, routers
from kefu.workorders import service as workorders
from kefu.workorders.models import OrderType
from kefu.workorders.schemas import WorkOrderCreate

PHONE, ID_NUMBER, ACCOUNT = "13812345678", "110101199003074518", "A1001"  # 张伟 of the demo data
SECRETS = [
    re.compile(PHONE),
    re.compile(ID_NUMBER),
    re.compile(rf"(?<![\w]){ACCOUNT}(?![\w])"),
    re.compile(r"\*{3,}5678"),  # a masked phone that still shows its last four digits
    re.compile(r"\*{3,}4518"),  # the same for the ID number
]
RING = datetime(2026, 11, 23, 10, 0, tzinfo=centre_tz())
# The audit log is itself the record of who saw what; it is for the roles that may see all.
AUDIT_ROUTES = ("/audit", "/audit/export", "/api/audit")


@dataclass
class World:
    app: object
    ids: dict[str, int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("walk")
    settings = Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'kefu.db'}", secret_key="test")
    app = create_app(settings)
    seed_demo(app.state.sessions, must_change_password=False)
    with transaction(app.state.sessions) as session:
        zhang = session.scalar(select(Customer).where(Customer.phone == PHONE))
        assert zhang is not None
        agent_id = session.scalar(select(User.id).where(User.agent_no == "10001"))
        call = intake.do_record_call(
            session,
            None,
            CallCreate(
                direction="inbound",
                agent_id=agent_id,
                customer_id=zhang.id,
                caller_number=PHONE,
                ring_at=RING,
                answered_at=RING + timedelta(seconds=5),
                ended_at=RING + timedelta(minutes=3),
                reason="投诉",
                summary=f"客户 {PHONE} 投诉扣费,身份证 {ID_NUMBER}",
                transcript=f"客服: 您好,请问有什么可以帮您?\n客户: 我的手机号是{PHONE},身份证{ID_NUMBER},账户{ACCOUNT}",
            ),
        )
        order = workorders.do_create(
            session,
            agent_id,
            WorkOrderCreate(
                type=OrderType.CONSULTATION,
                title="资费咨询",
                description="询问套餐资费",
                customer_id=zhang.id,
                call_id=call.id,
            ),
        )
        session.flush()
        inspection = session.scalar(select(Inspection.id).where(Inspection.call_id == call.id))
        ids = {
            "call_id": call.id,
            "order_id": order.id,
            "customer_id": zhang.id,
            "inspection_id": inspection or 1,
        }
    yield World(app, ids)
    app.state.engine.dispose()


def get_routes(app: object) -> list[str]:
    paths = set()
    for route in (r for router in routers() for r in router.routes):
        if isinstance(route, APIRoute) and "GET" in route.methods:
            paths.add(route.path)
    return sorted(paths)


def fill(path: str, ids: dict[str, int]) -> str:
    def value(match: re.Match[str]) -> str:
        return str(ids.get(match.group(1), 1))

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, path)


def test_the_planted_data_is_there_unmasked_for_the_domain(world: World) -> None:
    with world.app.state.sessions() as session:  # type: ignore[attr-defined]
        call = calls.get_call(session, world.ids["call_id"])
        assert call.caller_number == PHONE and PHONE in call.transcript[1]["text"]
        assert workorders.get_order(session, world.ids["order_id"]).contact == PHONE  # taken from the call


@pytest.mark.parametrize("agent_no", [user[0] for user in DEMO_USERS])
def test_no_route_shows_a_verification_factor_unless_allowed_and_audited(world: World, agent_no: str) -> None:
    role = next(user[2] for user in DEMO_USERS if user[0] == agent_no)
    privileged = role in roles_with_unmask()
    client = TestClient(world.app)  # type: ignore[arg-type]
    answer = client.post("/api/auth/login", json={"agent_no": agent_no, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    leaks, unaudited, walked = [], [], 0
    for path in get_routes(world.app):
        if path in ("/logout", "/api/auth/logout"):
            continue
        with world.app.state.sessions() as session:  # type: ignore[attr-defined]
            before = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
        url = fill(path, world.ids)
        response = client.get(url, follow_redirects=False)
        assert response.status_code < 500, f"{url}: {response.status_code} {response.text[:200]}"
        walked += 1
        shown = [secret.pattern for secret in SECRETS if secret.search(response.text)]
        if not shown:
            continue
        if not privileged:
            leaks.append(f"{url}: {shown}")
        elif path not in AUDIT_ROUTES:
            with world.app.state.sessions() as session:  # type: ignore[attr-defined]
                reveals = session.scalars(
                    select(AuditEntry).where(AuditEntry.id > before, AuditEntry.action == "reveal")
                ).all()
            if not reveals:
                unaudited.append(f"{url}: {shown}")
    assert walked > 40
    assert not leaks, f"{agent_no} ({role.label}) sees:\n" + "\n".join(leaks)
    assert not unaudited, f"{agent_no} ({role.label}) saw without an audit entry:\n" + "\n".join(unaudited)


def test_verifying_the_caller_unmasks_and_is_audited(world: World) -> None:
    client = TestClient(world.app)
    client.headers["X-CSRF-Token"] = client.post(
        "/api/auth/login", json={"agent_no": "10001", "password": DEMO_PASSWORD}
    ).json()["csrf"]
    url = f"/api/calls/{world.ids['call_id']}"
    assert PHONE not in client.get(url).text
    customer = world.ids["customer_id"]
    assert client.post(f"/api/customers/{customer}/verify", json={"phone_last4": "5678"}).status_code == 200
    once = client.get(url).json()
    assert once["caller_number"] == PHONE and ID_NUMBER not in str(once["transcript"])  # ID needs two factors
    assert client.post(f"/api/customers/{customer}/verify", json={"id_last4": "4518"}).status_code == 200
    assert ID_NUMBER in str(client.get(url).json()["transcript"])
    with world.app.state.sessions() as session:  # type: ignore[attr-defined]
        reveals = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "reveal", AuditEntry.entity_id == str(customer))
        ).all()
    assert reveals and any("通话内容" in (e.detail or "") for e in reveals)


def test_the_read_back_shows_stored_values_only_after_the_check(world: World) -> None:
    client = TestClient(world.app)
    client.headers["X-CSRF-Token"] = client.post(
        "/api/auth/login", json={"agent_no": "10002", "password": DEMO_PASSWORD}
    ).json()["csrf"]
    customer = world.ids["customer_id"]
    version = client.get(f"/api/customers/{customer}").json()["version"]
    preview = client.post(f"/api/customers/{customer}/preview", json={"version": version, "phone": "13900001111"})
    assert preview.status_code == 200 and preview.json()["phone"] == ["138********", "13900001111"]


def test_ending_the_call_forgets_the_check_even_for_an_older_cookie(world: World) -> None:
    client = TestClient(world.app)
    client.headers["X-CSRF-Token"] = client.post(
        "/api/auth/login", json={"agent_no": "10002", "password": DEMO_PASSWORD}
    ).json()["csrf"]
    customer = f"/api/customers/{world.ids['customer_id']}"
    assert client.post(f"{customer}/verify", json={"phone_last4": "5678"}).status_code == 200
    assert client.get(customer).json()["phone"] == PHONE
    saved = dict(client.cookies)
    assert client.post("/api/session/forget-verifications").status_code == 200
    client.cookies.clear()
    client.cookies.update(saved)  # the cookie as it was while the caller was verified
    assert client.get(customer).json()["phone"] == "138********"


@pytest.mark.parametrize(("agent_no", "unmasked"), [("20001", False), ("50001", True)])
def test_exports_hold_personal_data_only_for_those_who_may_see_it(world: World, agent_no: str, unmasked: bool) -> None:
    """A team lead's export (no caller is verified in bulk) is masked; a supervisor's is whole,
    and its audit entry says so."""
    with transaction(world.app.state.sessions) as session:  # type: ignore[attr-defined]
        user = session.scalar(select(User).where(User.agent_no == agent_no))
        files = [
            export_customers(session, Reader(None, user), "csv"),
            export_calls(session, Reader(None, user), None, "csv"),
        ]
    text = "".join(data.decode("utf-8-sig") for data in files)
    assert any(secret.search(text) for secret in SECRETS[:3]) is unmasked
    with world.app.state.sessions() as session:  # type: ignore[attr-defined]
        details = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "export")).all()
    assert any(("未脱敏" if unmasked else "已脱敏") in (d or "") for d in details)
