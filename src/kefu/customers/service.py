"""Customers: lookup, identity verification, read-back and changes. Every lookup, check and
change is written to the audit log (SPEC §4, seed 004)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.core import audit
from kefu.core.bulk import insert_rows
from kefu.core.changes import apply_change, diff
from kefu.core.db import get_or_404
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.privacy import Level, Reader, counted_factors
from kefu.customers.models import Customer
from kefu.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate, Verification


# Changing these needs two verified factors; other fields one (seed 004: 处理敏感操作前必须严格
# 验证客户身份,包括姓名、证件号码末四位、绑定手机号等多重验证).
class VerificationFailed(Invalid):
    keep_changes = True


SENSITIVE_FIELDS = frozenset({"name", "phone", "id_number", "account_id"})
FIELD_LABELS = {
    "name": "姓名",
    "phone": "电话",
    "account_id": "账户",
    "id_number": "证件号码",
    "email": "邮箱",
    "address": "地址",
    "notes": "备注",
}


def present(customer: Customer, reader: Reader) -> CustomerOut:
    """The customer as ``reader`` may see them (kefu.core.privacy decides; unmasked reads are
    audited there)."""
    cid, level = customer.id, reader.level(customer.id)
    return CustomerOut(
        id=cid,
        version=customer.version,
        name=reader.name(cid, customer.name) or "",
        phone=reader.phone(cid, customer.phone) or "",
        account_id=reader.account(cid, customer.account_id),
        id_number=reader.id_number(cid, customer.id_number),
        email=reader.detail(cid, customer.email),
        address=reader.detail(cid, customer.address),
        notes=reader.detail(cid, customer.notes) if level >= Level.VERIFIED else None,
        verified_level=max(level, 0),
        masked=level < Level.VERIFIED,
    )


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = get_or_404(session, Customer, customer_id, "客户")
    return customer


def do_lookup(session: Session, actor_id: int, query: str, limit: int = 20) -> list[Customer]:
    """By phone (whole number or its last digits), account id, or name."""
    query = query.strip()
    if len(query) < 2:
        raise Invalid("请至少输入两个字符(电话、账户号或姓名)")
    conditions = [Customer.account_id == query, Customer.name.contains(query, autoescape=True)]
    digits = query.replace(" ", "").replace("-", "")
    if digits.isdigit():
        conditions.append(Customer.phone == digits if len(digits) >= 7 else Customer.phone.endswith(digits))
    found = list(session.scalars(select(Customer).where(or_(*conditions)).order_by(Customer.id).limit(limit)))
    audit.record(
        session,
        actor_id,
        audit.AuditAction.LOOKUP,
        audit.AuditEntity.CUSTOMER,
        None,
        detail=f"查询「{query}」,找到 {len(found)} 位",
    )
    return found


def do_create_customer(session: Session, actor_id: int, data: CustomerCreate) -> Customer:
    values = data.model_dump(exclude_none=True)
    if data.account_id and session.scalar(select(Customer).where(Customer.account_id == data.account_id)):
        raise Conflict(f"账户 {data.account_id} 已属于另一位客户")
    customer = Customer(**values)
    session.add(customer)
    try:
        session.flush()
    except IntegrityError:  # saved by someone else between our check and our write
        raise Conflict(f"账户 {data.account_id} 刚被另一位客户使用,请核对后重试") from None
    audit.record(session, actor_id, "create", "customer", customer.id, {k: [None, v] for k, v in values.items()})
    return customer


def do_import_customers(
    session: Session, actor_id: int | None, items: Sequence[CustomerCreate], source: str
) -> list[int]:
    """Save many customers at once (an import) with one audit entry; all or nothing — on any
    error nothing is written and the caller's transaction is to be rolled back. The importer
    checks rows first (and names them); here the account ids are checked again, as the database
    will: unique in the batch and not anyone's already. One INSERT for all rows
    (kefu.core.bulk: the database's write lock is held briefly); the new ids, in order."""
    accounts = [item.account_id for item in items if item.account_id]
    repeated = sorted(account for account, times in Counter(accounts).items() if times > 1)
    if repeated:
        raise Conflict(f"账户 {'、'.join(repeated)} 在导入数据中重复,没有导入任何数据")
    taken: list[str] = []
    for start in range(0, len(accounts), 500):
        part = accounts[start : start + 500]
        taken += session.scalars(select(Customer.account_id).where(Customer.account_id.in_(part)))
    if taken:
        raise Conflict(f"账户 {'、'.join(sorted(taken))} 已属于其他客户,没有导入任何数据")
    try:
        ids = insert_rows(session, Customer.__table__, [item.model_dump() for item in items])
    except IntegrityError:  # saved by someone else between our check and our write
        raise Conflict("导入时有客户资料被他人同时保存(账户重复),没有导入任何数据,请重新导入") from None
    audit.record(
        session,
        actor_id,
        "import",
        "customer",
        None,
        {"created": [None, len(ids)], "ids": [None, ids]},
        detail=f"导入客户 {source}:新增 {len(ids)} 条",
    )
    return ids


FACT_LABELS = {"phone_last4": "手机号后四位", "id_last4": "证件号后四位", "name": "姓名", "account_id": "账户号"}


def do_verify(session: Session, reader: Reader, customer_id: int, facts: Verification) -> list[str]:
    """The factors of this check that count: all stated facts must match (any wrong one fails
    the whole check: an empty list), and a fact the reader's screen already shows does not count
    (it could have been read out instead of asked)."""
    actor_id = reader.user.id
    customer = get_customer(session, customer_id)
    checks = {
        "phone_last4": lambda v: customer.phone.endswith(v),
        "id_last4": lambda v: bool(customer.id_number) and customer.id_number.upper().endswith(v.upper()),
        "name": lambda v: v == customer.name,
        "account_id": lambda v: v == customer.account_id,
    }
    given = {k: v for k, v in facts.model_dump().items() if v}
    if not given:
        raise Invalid("请至少提供一项验证信息(手机号后四位、证件号后四位、姓名或账户号)")
    results = {k: checks[k](v) for k, v in given.items()}
    counted = counted_factors(given, reader.level(customer_id)) if all(results.values()) else []
    outcome = "通过" if counted else "未通过" if not all(results.values()) else "不计(屏幕上已显示)"
    audit.record(
        session,
        actor_id,
        audit.AuditAction.VERIFY,
        audit.AuditEntity.CUSTOMER,
        customer.id,
        detail=f"{outcome}:" + "、".join(f"{FACT_LABELS[k]}{'相符' if ok else '不符'}" for k, ok in results.items()),
    )
    if not all(results.values()):
        raise VerificationFailed("身份验证未通过:所提供的信息与记录不符")
    if not counted:
        raise VerificationFailed(
            "所提供的信息已显示在屏幕上,不能作为身份验证依据,请询问客户其他信息(证件号后四位或账户号)"
        )
    return counted


def do_view_customer(session: Session, reader: Reader, customer_id: int, detail: str | None = None) -> Customer:
    """The customer, for a card or a history: every view is in the audit log (who looked whom up)."""
    customer = get_customer(session, customer_id)
    audit.record(
        session, reader.user.id, audit.AuditAction.VIEW, audit.AuditEntity.CUSTOMER, customer.id, detail=detail
    )
    return customer


def preview_update(session: Session, reader: Reader, customer_id: int, data: CustomerUpdate) -> dict[str, list[Any]]:
    """The read-back: what would change, old and new, for the agent to confirm with the caller.
    The old values are shown as the reader may see them (masked before the identity check); the
    new ones are what the agent typed."""
    customer = get_customer(session, customer_id)
    changes = diff(customer, data.model_dump(exclude_none=True, exclude={"version"}))
    shown = present(customer, reader).model_dump()
    return {field: [shown.get(field) if old is not None else None, new] for field, (old, new) in changes.items()}


def do_update_customer(session: Session, reader: Reader, customer_id: int, data: CustomerUpdate) -> Customer:
    """A change needs the caller's identity checked in this call (one factor, two for the
    sensitive fields) — whatever the reader may see: seeing is not the caller's consent."""
    actor_id = reader.user.id
    verified_level = reader.verified.get(customer_id, 0)
    customer = get_customer(session, customer_id)

    def verified_enough(changes: dict[str, list[Any]]) -> None:
        needed = 2 if SENSITIVE_FIELDS & changes.keys() else 1
        if verified_level < needed:
            fields = "、".join(FIELD_LABELS[f] for f in changes)
            raise Forbidden(f"修改{fields}需要先完成{'两项' if needed == 2 else '一项'}身份验证")

    apply_change(
        session,
        actor_id,
        customer,
        data.model_dump(exclude_none=True, exclude={"version"}),
        entity=audit.AuditEntity.CUSTOMER,
        what="客户资料",
        version=data.version,
        require_change=True,
        vet=verified_enough,
    )
    return customer
