"""Customers: lookup, masking until verified, read-back, audited changes, optimistic locking."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from conftest import reader
from kefu.accounts import service as accounts
from kefu.core import audit
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.privacy import Reader
from kefu.core.security import Role
from kefu.customers import service as customers
from kefu.customers.schemas import CustomerCreate, CustomerUpdate, Verification

ZHANG = CustomerCreate(
    name="张伟",
    phone="13812345678",
    account_id="A1001",
    id_number="110101199003074518",
    address="北京市海淀区科技路100号",
)


def as_agent(session, agent_id: int, customer_id: int = 0, level: int = 0) -> Reader:  # type: ignore[no-untyped-def]
    """The agent reading with ``level`` identity factors checked for ``customer_id`` in this call."""
    return Reader(session, accounts.get_user(session, agent_id), {customer_id: level})


@pytest.fixture
def world(sessions):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        agent = accounts.do_create_user(
            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026"
        )
        customer = customers.do_create_customer(session, agent.id, ZHANG)
    return sessions, agent.id, customer.id


def test_lookup_by_phone_last_digits_account_and_name_is_audited(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, customer = world
    with transaction(sessions) as session:
        for query in ("13812345678", "5678", "A1001", "张伟", "138 1234 5678"):
            assert [c.id for c in customers.do_lookup(session, agent, query)] == [customer], query
        assert customers.do_lookup(session, agent, "13900000000") == []
        with pytest.raises(Invalid):
            customers.do_lookup(session, agent, "5")
    with sessions() as session:
        lookups = [e for e in audit.entries(session, entity="customer") if e.action == "lookup"]
    assert len(lookups) == 6 and all(e.actor_id == agent for e in lookups)
    assert "A1001" in " ".join(e.detail for e in lookups)


def test_details_stay_masked_until_the_identity_check(world) -> None:  # type: ignore[no-untyped-def]
    """The masked view shows no verification factor: no last digits, no account, no full name."""
    sessions, agent, customer_id = world
    with sessions() as session:
        customer = customers.get_customer(session, customer_id)
        masked = customers.present(customer, as_agent(session, agent, customer_id, 0))
        assert masked.masked and masked.phone == "138********" and masked.name == "张*"
        assert masked.id_number == "1" + "*" * 17 and masked.account_id == "A****" and "科技路" not in masked.address
        one = customers.present(customer, as_agent(session, agent, customer_id, 1))
        assert one.phone == "13812345678" and one.id_number == "1" + "*" * 17 and one.account_id == "A****"
        two = customers.present(customer, as_agent(session, agent, customer_id, 2))
        assert two.id_number == "110101199003074518" and two.account_id == "A1001"
        privileged = customers.present(customer, reader("supervisor", {customer_id: 0}, user_id=999))
        assert privileged.id_number == "110101199003074518" and not privileged.masked
        assert customers.present(customer, reader("trainer", {customer_id: 2}, user_id=998)).masked


def test_verification_counts_matching_facts_and_any_wrong_one_fails(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, customer = world
    with transaction(sessions) as session:
        masked = as_agent(session, agent, customer, 0)
        assert customers.do_verify(session, masked, customer, Verification(phone_last4="5678")) == ["phone_last4"]
        both = Verification(phone_last4="5678", id_last4="4518")
        assert customers.do_verify(session, masked, customer, both) == ["phone_last4", "id_last4"]
        with pytest.raises(customers.VerificationFailed, match="不符"):
            customers.do_verify(session, masked, customer, Verification(phone_last4="5678", id_last4="0000"))
        with pytest.raises(Invalid):
            customers.do_verify(session, masked, customer, Verification())
        # Once one factor is checked the screen shows the phone: reading it out does not count.
        verified = as_agent(session, agent, customer, 1)
        with pytest.raises(customers.VerificationFailed, match="已显示在屏幕上"):
            customers.do_verify(session, verified, customer, Verification(phone_last4="5678", name="张伟"))
        assert customers.do_verify(session, verified, customer, Verification(account_id="A1001")) == ["account_id"]
    with sessions() as session:
        details = [e.detail for e in audit.entries(session, entity="customer") if e.action == "verify"]
    assert details[2].startswith("未通过") and "证件号后四位不符" in details[2]
    assert "5678" not in " ".join(details)  # what the caller said is not written to the log


def test_read_back_then_update_with_audit_of_old_and_new(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, customer_id = world
    change = CustomerUpdate(version=1, address="上海市浦东新区世纪大道1号")
    with sessions() as session:
        assert customers.preview_update(session, as_agent(session, agent, customer_id, 1), customer_id, change) == {
            "address": ["北京市海淀区科技路100号", "上海市浦东新区世纪大道1号"]
        }
        # Before the identity check the read-back does not show what is stored.
        assert customers.preview_update(session, as_agent(session, agent, customer_id, 0), customer_id, change) == {
            "address": ["北京***", "上海市浦东新区世纪大道1号"]
        }
    with transaction(sessions) as session:
        updated = customers.do_update_customer(session, as_agent(session, agent, customer_id, 1), customer_id, change)
        assert updated.version == 2
    with sessions() as session:
        [entry] = [e for e in audit.entries(session, entity="customer", entity_id=customer_id) if e.action == "update"]
    assert entry.actor_id == agent and entry.changes == {
        "address": ["北京市海淀区科技路100号", "上海市浦东新区世纪大道1号"]
    }


def test_sensitive_changes_need_two_factors(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, customer_id = world
    with pytest.raises(Forbidden, match="两项"), transaction(sessions) as session:
        customers.do_update_customer(
            session,
            as_agent(session, agent, customer_id, 1),
            customer_id,
            CustomerUpdate(version=1, phone="13900001111"),
        )
    with pytest.raises(Forbidden, match="一项"), transaction(sessions) as session:
        customers.do_update_customer(
            session, as_agent(session, agent, customer_id, 0), customer_id, CustomerUpdate(version=1, notes="VIP")
        )
    with transaction(sessions) as session:
        customers.do_update_customer(
            session,
            as_agent(session, agent, customer_id, 2),
            customer_id,
            CustomerUpdate(version=1, phone="13900001111"),
        )
    with sessions() as session:
        assert customers.get_customer(session, customer_id).phone == "13900001111"


def test_a_stale_save_is_refused_and_loses_nothing(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, customer_id = world
    with transaction(sessions) as session:
        customers.do_update_customer(
            session, as_agent(session, agent, customer_id, 1), customer_id, CustomerUpdate(version=1, notes="第一位")
        )
    with pytest.raises(Conflict, match="已被他人修改"), transaction(sessions) as session:
        customers.do_update_customer(
            session, as_agent(session, agent, customer_id, 1), customer_id, CustomerUpdate(version=1, notes="第二位")
        )
    with sessions() as session:
        assert customers.get_customer(session, customer_id).notes == "第一位"


def test_two_saves_racing_on_the_same_version(world) -> None:  # type: ignore[no-untyped-def]
    """Both read version 1; the first commit wins, the second is refused, not merged."""
    sessions, agent, customer_id = world
    first, second = sessions(), sessions()
    with first.begin(), second.begin():
        customers.get_customer(first, customer_id)
        customers.get_customer(second, customer_id)
        customers.do_update_customer(
            first, as_agent(first, agent, customer_id, 1), customer_id, CustomerUpdate(version=1, notes="甲")
        )
        first.commit()
        with pytest.raises(Conflict):
            customers.do_update_customer(
                second, as_agent(second, agent, customer_id, 1), customer_id, CustomerUpdate(version=1, notes="乙")
            )
    with sessions() as session:
        assert customers.get_customer(session, customer_id).notes == "甲"


def test_bad_fields_say_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="电话号码格式不正确"):
        CustomerUpdate(version=1, phone="12345")
    with pytest.raises(ValidationError, match="18 位"):
        CustomerUpdate(version=1, id_number="1234")
    with pytest.raises(ValidationError, match="Extra inputs"):
        CustomerUpdate(version=1, vip=True)
