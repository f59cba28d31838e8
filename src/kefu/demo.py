"""Demo data for a first start of ``kefu serve``: one login per role, customers, and whatever
the other domains add. Only written into an empty database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.core.db import transaction, utcnow
from kefu.core.security import Role, hash_password
from kefu.customers import service as customers
from kefu.customers.schemas import CustomerCreate
from kefu.flows import demo_centre, intake
from kefu.knowledge.demo import seed_demo as seed_knowledge
from kefu.quality.sampling import ensure_default_plan
from kefu.training import service as training
from kefu.workorders import demo as workorders_demo

DEMO_PASSWORD = "kefu2026"
DEMO_USERS = [
    ("10001", "李晓", Role.AGENT, "一组"),
    ("10002", "王敏", Role.AGENT, "一组"),
    ("20001", "陈静", Role.TEAM_LEAD, "一组"),
    ("30001", "赵强", Role.QA, None),
    ("40001", "周婷", Role.TRAINER, None),
    ("50001", "刘洋", Role.SUPERVISOR, None),
    ("90001", "管理员", Role.ADMIN, None),
]
DEMO_CUSTOMERS = [
    CustomerCreate(
        name="张伟",
        phone="13812345678",
        account_id="A1001",
        id_number="110101199003074518",
        address="北京市海淀区科技路100号",
        notes="智能家居标准版用户",
    ),
    CustomerCreate(
        name="林芳",
        phone="13987654321",
        account_id="A1002",
        id_number="350102198805126627",
        address="福州市鼓楼区五四路8号",
    ),
    CustomerCreate(name="王磊", phone="15000001234", account_id="A1003", address="上海市浦东新区世纪大道1号"),
    CustomerCreate(name="陈晨", phone="010-62345678", account_id="A1004", notes="企业客户,多次来电咨询云存储"),
]


def is_empty(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is None


def seed_demo(
    factory: sessionmaker[Session], *, activity: bool = True, must_change_password: bool = True, centre: bool = False
) -> bool:
    """Fill an empty database; False when there was already data. ``activity=False`` gives only
    the logins and customers (tests that count what they create start from there); ``centre``
    adds six weeks of a 25-agent centre (kefu.flows.demo_centre) for the performance pages.

    Everyone knows the demo password, so each demo account must change it at its first login;
    ``must_change_password=False`` is for tests that log in as the demo users over and over."""
    with transaction(factory) as session:
        if not is_empty(session):
            return False
        hashed = hash_password(DEMO_PASSWORD)
        users = [
            accounts.do_create_user(
                session,
                None,
                agent_no=no,
                name=name,
                role=role,
                password=DEMO_PASSWORD,
                team=team,
                must_change_password=must_change_password,
                password_hash=hashed,
            )
            for no, name, role, team in DEMO_USERS
        ]
        people = [customers.do_create_customer(session, users[0].id, data) for data in DEMO_CUSTOMERS]
        if not activity:
            return True
        agents = [user for user in users if user.role is Role.AGENT]
        intake.seed_demo_calls(session, agents, people)  # recorded by the system
        workorders_demo.seed_demo(session, users, people)
        seed_knowledge(  # by the trainer; the agents' last visit falls before the two demo edits
            session,
            next(u.id for u in users if u.role == Role.TRAINER),
            readers=[u.id for u in agents],
        )
        ensure_default_plan(session)  # seed 004's weekly sample (also made at app startup)
        training.do_load_shipped_bank(session, next(u for u in users if u.role == Role.TRAINER))
        if centre:
            by_role = {user.role: user for user in users}
            demo_centre.seed_centre(
                session, by_role[Role.SUPERVISOR], by_role[Role.TEAM_LEAD], agents, (DEMO_PASSWORD, hashed), utcnow()
            )
    return True
