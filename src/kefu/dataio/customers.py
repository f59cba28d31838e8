"""Customers from CSV / Excel, and back out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core import audit
from kefu.core.privacy import Reader
from kefu.core.spreadsheets import Format, export_rows
from kefu.customers import service as customers
from kefu.customers.models import Customer
from kefu.customers.schemas import CustomerCreate
from kefu.dataio.tables import (
    PROGRESS_EVERY,
    Checked,
    Column,
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    chunks,
    counted,
    read_table,
    row_errors,
    text_values,
)

CUSTOMER_COLUMNS: tuple[Column, ...] = (
    Column("id", "客户编号", ("customer_id", "编号"), export_only=True),
    Column("name", "姓名", ("客户姓名", "客户名称", "名称"), required=True),
    Column("phone", "电话", ("手机", "手机号", "手机号码", "电话号码", "联系电话", "mobile", "tel"), required=True),
    Column("account_id", "账户", ("账户号", "账号", "客户账户", "account", "账户id")),
    Column("id_number", "证件号码", ("证件号", "身份证号", "身份证号码", "id_no", "idnumber")),
    Column("email", "邮箱", ("电子邮箱", "邮件", "mail")),
    Column("address", "地址", ("联系地址", "住址", "通讯地址")),
    Column("notes", "备注", ("说明", "note", "remark", "remarks")),
)
_FIELDS = [c.field for c in CUSTOMER_COLUMNS if not c.export_only]


def _digits(phone: str) -> str:
    return phone.replace("-", "")


def check_customers(session: Session, data: bytes, filename: str, *, progress: Progress | None = None) -> Checked:
    """Every row checked (format, duplicates in the file, customers already in the database by
    account or phone) without writing anything; ``ImportRejected`` lists every problem as
    「第 N 行:字段:原因」."""
    table = read_table(data, filename, CUSTOMER_COLUMNS, progress=progress)
    label = lambda name: table.label(name, CUSTOMER_COLUMNS)  # noqa: E731
    errors: list[RowError] = []
    valid: list[tuple[int, CustomerCreate]] = []
    for done, row in enumerate(table.rows, start=1):
        values, problems = text_values(row, _FIELDS, label)
        try:
            item = CustomerCreate.model_validate(values)
        except ValidationError as err:
            problems += [e for e in row_errors(err, row.number, label) if e.field not in {p.field for p in problems}]
        errors += problems
        if not problems:
            valid.append((row.number, item))
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress("检查数据", done, len(table.rows))
    errors.extend(_duplicates(session, valid, label))
    if errors:
        raise ImportRejected(errors)
    return Checked("customer", table.source, len(table.rows), [item for _, item in valid], table.ignored_columns)


def write_customers(session: Session, actor_id: int | None, checked: Checked) -> ImportResult:
    """Save the checked rows in the caller's transaction (``customers.service.do_import_customers``)."""
    ids = customers.do_import_customers(session, actor_id, checked.items, checked.source)
    return checked.result(ids)


def import_customers(
    session: Session, actor_id: int | None, data: bytes, filename: str, *, dry_run: bool = False
) -> ImportResult:
    """Check every row, then (unless ``dry_run``) save them all in the caller's transaction with
    one audit entry; one bad row and nothing is written. A large file goes through a background
    job instead (kefu.dataio.jobs), which checks outside the write transaction."""
    checked = check_customers(session, data, filename)
    return checked.result(dry_run=True) if dry_run else write_customers(session, actor_id, checked)


def _duplicates(session: Session, valid: Sequence[tuple[int, CustomerCreate]], label: Any) -> list[RowError]:
    """Same account or same phone twice in the file, or already a customer's."""
    errors: list[RowError] = []
    accounts = sorted({item.account_id for _, item in valid if item.account_id})
    phones = sorted({_digits(item.phone) for _, item in valid})
    account_owner: dict[str, int] = {}
    phone_owner: dict[str, int] = {}
    for part in chunks(accounts):
        query = select(Customer.account_id, Customer.id).where(Customer.account_id.in_(part))
        account_owner.update({a: i for a, i in session.execute(query) if a})
    stripped = func.replace(Customer.phone, "-", "")
    for part in chunks(phones):
        for phone, customer_id in session.execute(select(stripped, Customer.id).where(stripped.in_(part))):
            phone_owner.setdefault(phone, customer_id)
    first_account: dict[str, int] = {}
    first_phone: dict[str, int] = {}
    for number, item in valid:
        if item.account_id:
            if item.account_id in account_owner:
                owner = account_owner[item.account_id]
                errors.append(RowError(number, label("account_id"), f"账户 {item.account_id} 已存在(客户编号 {owner})"))
            elif item.account_id in first_account:
                first = first_account[item.account_id]
                errors.append(RowError(number, label("account_id"), f"账户 {item.account_id} 与第 {first} 行重复"))
            else:
                first_account[item.account_id] = number
        phone = _digits(item.phone)
        if phone in phone_owner:
            errors.append(
                RowError(number, label("phone"), f"电话 {item.phone} 已属于客户(客户编号 {phone_owner[phone]})")
            )
        elif phone in first_phone:
            errors.append(RowError(number, label("phone"), f"电话 {item.phone} 与第 {first_phone[phone]} 行重复"))
        else:
            first_phone[phone] = number
    return errors


def export_customers(
    session: Session,
    reader: Reader,
    fmt: Format = "csv",
    customer_ids: Sequence[int] | None = None,
    *,
    progress: Progress | None = None,
) -> bytes:
    """All customers (or the given ones) as ``reader`` may see them (kefu.core.privacy: unmasked
    only for the roles allowed to see customers unmasked — an export verifies nobody). One audit
    entry says how many and whether unmasked; who may export is for the caller to check."""
    query = select(Customer).order_by(Customer.id)
    if customer_ids is not None:
        query = query.where(Customer.id.in_(list(customer_ids)))
    found = list(session.scalars(query))
    columns = [(c.field, c.label) for c in CUSTOMER_COLUMNS]
    shown = (customers.present(customer, reader).model_dump() for customer in found)
    rows = ({c.field: row[c.field] for c in CUSTOMER_COLUMNS} for row in shown)
    data = export_rows(columns, counted(rows, len(found), progress), fmt, sheet_title="客户")
    how = "未脱敏" if reader.privileged else "已脱敏"
    detail = f"导出客户 {len(found)} 条({fmt},{how})"
    audit.record(session, reader.user.id, "export", "customer", None, detail=detail)
    return data
