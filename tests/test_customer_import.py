"""customers.service.do_import_customers: the one place that writes imported customers — all or
nothing, one audit entry per import — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from kefu.accounts import service as accounts
from kefu.core import audit
from kefu.core.db import transaction
from kefu.core.errors import Conflict
from kefu.core.security import Role
from kefu.customers import service as customers
from kefu.customers.models import Customer
from kefu.customers.schemas import CustomerCreate


@pytest.fixture
def agent(sessions: sessionmaker[Session]) -> int:
    with transaction(sessions) as session:
        user = accounts.do_create_user(
            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026"
        )
        zhang = CustomerCreate(name="张伟", phone="13812345678", account_id="A1")
        customers.do_create_customer(session, user.id, zhang)
        return user.id


def counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """(customers, import audit entries)"""
    with sessions() as session:
        imports = [e for e in audit.entries(session, entity="customer") if e.action == "import"]
        return session.scalar(select(func.count()).select_from(Customer)) or 0, len(imports)


def test_an_import_saves_every_customer_with_one_audit_entry(sessions: sessionmaker[Session], agent: int) -> None:
    items = [
        CustomerCreate(name="李娜", phone="13900001111", account_id="A2", notes="VIP 客户"),
        CustomerCreate(name="王强", phone="010-62345678"),
    ]
    with transaction(sessions) as session:
        saved = customers.do_import_customers(session, agent, items, "客户.xlsx")
    with sessions() as session:
        [entry] = [e for e in audit.entries(session, entity="customer") if e.action == "import"]
        li, wang = (customers.get_customer(session, i) for i in saved)
    assert (li.name, li.notes, li.version) == ("李娜", "VIP 客户", 1) and (wang.name, wang.account_id) == ("王强", None)
    assert entry.actor_id == agent and entry.changes == {"created": [None, 2], "ids": [None, saved]}
    assert entry.detail == "导入客户 客户.xlsx:新增 2 条"
    assert counts(sessions) == (3, 1)


@pytest.mark.parametrize(
    ("accounts_in_file", "message"),
    [(["A2", "A2"], "账户 A2 在导入数据中重复"), (["A3", "A1"], "账户 A1 已属于其他客户")],
)
def test_a_clashing_account_imports_nothing(
    sessions: sessionmaker[Session], agent: int, accounts_in_file: list[str], message: str
) -> None:
    items = [
        CustomerCreate(name=f"客户{i}", phone=f"1390000{i:04d}", account_id=account)
        for i, account in enumerate(accounts_in_file)
    ]
    with pytest.raises(Conflict, match=message), transaction(sessions) as session:
        customers.do_import_customers(session, agent, items, "bad.csv")
    assert counts(sessions) == (1, 0)  # only 张伟, from before; no audit entry
