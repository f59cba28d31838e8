"""What a user may see of a customer: the one place that decides it, for every domain.

A customer's personal data leaves the domains through a ``Reader``: the user, the identity
checks they made during the current call, and their role. Levels:

- ``NONE``: the role may not see customers at all (a trainer reading scorecards): names,
  numbers and the numbers inside transcripts are masked.
- ``MASKED``: the default for front-line roles before the identity check. Nothing on the
  screen is a verification factor (no last digits of the phone or ID number, no account id,
  not the full name), so nobody can "verify" a caller by reading the screen.
- ``VERIFIED`` (one factor checked): name, phone, e-mail, address, notes; still not the ID
  number nor the account id (the factors that remain for a second check).
- ``FULL`` (two factors): everything, transcripts unredacted.
- ``PRIVILEGED``: roles with ``customer.unmask`` see everything without a check.

Every read above ``MASKED`` is written to the audit log (one entry per customer and request).
Masks keep the length of what they hide, so evidence offsets into a transcript stay valid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import IntEnum
from typing import Any, Protocol

from sqlalchemy.orm import Session

from kefu.core import audit
from kefu.core.security import Permission, Role, allowed
from kefu.core.turns import stored_turn


class Level(IntEnum):
    NONE = -1
    MASKED = 0
    VERIFIED = 1
    FULL = 2
    PRIVILEGED = 3


# The facts an identity check asks for (kefu.customers.schemas.Verification), and the level
# from which the screen shows each: a factor on the screen could be read out instead of asked.
FACTORS = ("phone_last4", "id_last4", "name", "account_id")
SHOWN_FROM = {"phone_last4": Level.VERIFIED, "name": Level.VERIFIED, "id_last4": Level.FULL, "account_id": Level.FULL}


def mask_phone(phone: str) -> str:
    """139********: the network prefix only, never the last digits (a verification factor)."""
    digits = len(phone)
    return phone[:3] + "*" * (digits - 3) if digits > 4 else "*" * digits


def mask_id_number(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1) if value else value


def mask_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1)


def mask_text(value: str) -> str:
    return value[:2] + "***" if len(value) > 2 else "***"


def mask_account(value: str) -> str:
    return value[:1] + "*" * (len(value) - 1) if value else value


_DIGIT = "0-9０-９零〇一二三四五六七八九幺两"
# A run of seven or more digits (spoken digits too: ASR writes 幺三八…): phone, ID, card and
# account numbers. Short numbers (amounts, dates, 工号 of five digits) stay readable.
_NUMBER = re.compile(rf"(?<![{_DIGIT}])[{_DIGIT}][{_DIGIT}\- ]{{5,}}[{_DIGIT}Xx](?![{_DIGIT}])")


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    keep = 3
    return run[:keep] + "".join("*" if ch not in "- " else ch for ch in run[keep:])


def redact(text: str) -> str:
    """Numbers in free text (transcripts, summaries, evidence) masked, same length."""
    return _NUMBER.sub(_mask_run, text) if text else text


class Person(Protocol):
    id: int
    role: Role


class Reader:
    """One user reading customer data during one request."""

    def __init__(self, session: Session | None, user: Person, verified: Mapping[int, int] | None = None) -> None:
        self.session = session
        self.user = user
        self.verified = dict(verified or {})
        self._entries: dict[int | None, audit.AuditEntry] = {}

    @property
    def privileged(self) -> bool:
        return allowed(self.user.role, Permission.CUSTOMER_UNMASK)

    def level(self, customer_id: int | None) -> Level:
        if self.privileged:
            return Level.PRIVILEGED
        if not allowed(self.user.role, Permission.CUSTOMER_VIEW):
            return Level.NONE
        if customer_id is None:
            return Level.MASKED
        return Level(min(self.verified.get(customer_id, 0), Level.FULL))

    def reveal(self, customer_id: int | None, what: str) -> None:
        """Audit that ``what`` of the customer was shown unmasked (once per customer and request)."""
        if self.session is None:
            return
        entry = self._entries.get(customer_id)
        if entry is None:
            self._entries[customer_id] = audit.record(
                self.session, self.user.id, "reveal", "customer", customer_id, detail=f"查看未脱敏信息:{what}"
            )
        elif what not in (entry.detail or ""):
            entry.detail = f"{entry.detail}、{what}"[:500]

    # ---------------------------------------------------------------- fields

    def _field(self, customer_id: int | None, value: str | None, needed: Level, mask: Any, what: str) -> str | None:
        if value is None or value == "":
            return value
        if self.level(customer_id) >= needed:
            self.reveal(customer_id, what)
            return value
        return str(mask(value))

    def name(self, customer_id: int | None, value: str | None) -> str | None:
        return self._field(customer_id, value, Level.VERIFIED, mask_name, "姓名")

    def phone(self, customer_id: int | None, value: str | None) -> str | None:
        return self._field(customer_id, value, Level.VERIFIED, mask_phone, "电话")

    def contact(self, customer_id: int | None, value: str | None) -> str | None:
        """A contact as typed (a number, or a name and a number): its numbers masked."""
        return self._field(customer_id, value, Level.VERIFIED, redact, "联系方式")

    def detail(self, customer_id: int | None, value: str | None) -> str | None:
        """E-mail, address and notes."""
        return self._field(customer_id, value, Level.VERIFIED, mask_text, "联系资料")

    def account(self, customer_id: int | None, value: str | None) -> str | None:
        return self._field(customer_id, value, Level.FULL, mask_account, "账户")

    def id_number(self, customer_id: int | None, value: str | None) -> str | None:
        return self._field(customer_id, value, Level.FULL, mask_id_number, "证件号码")

    def text(self, customer_id: int | None, value: str | None) -> str | None:
        """Free text about the customer (a summary, a turn, evidence): numbers masked below FULL."""
        if not value:
            return value
        masked = redact(value)
        if masked == value:
            return value
        return self._field(customer_id, value, Level.FULL, lambda _: masked, "通话内容中的号码")

    def turns(self, customer_id: int | None, turns: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        if turns is None:
            return None
        readable = map(stored_turn, turns)  # an odd stored value must not break the page (kefu.core.turns)
        return [{**turn, "text": self.text(customer_id, turn["text"])} for turn in readable]


def counted_factors(given: Mapping[str, object], shown: Level) -> list[str]:
    """The factors of an identity check that count: those the screen did not show already."""
    return [name for name, value in given.items() if value and name in SHOWN_FROM and shown < SHOWN_FROM[name]]


def roles_with_unmask() -> list[Role]:
    return [role for role in Role if allowed(role, Permission.CUSTOMER_UNMASK)]
