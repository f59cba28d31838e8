"""Failed-login counters in the database, so every server process sees the same counts.

Two counters per failed attempt: one for (the 工号 typed, the address it came from) and a looser
one for the address alone. A 工号 is refused only from the address that failed too often, so a
stranger guessing from elsewhere cannot lock its owner out; the per-address counter stops one
address from trying many 工号. Counters are keyed by an HMAC of what was typed: the database
never holds what someone typed into the 工号 field (often a password in the wrong box).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kefu.accounts.models import LoginThrottle

_table = LoginThrottle.__table__


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pair_key(secret: str, agent_no: str, address: str) -> str:
    return _key(secret, f"pair\0{agent_no}\0{address}")


def address_key(secret: str, address: str) -> str:
    return _key(secret, f"address\0{address}")


def _key(secret: str, text: str) -> str:
    return hmac.new(f"kefu-login-throttle\0{secret}".encode(), text.encode(), hashlib.sha256).hexdigest()


def blocked(session: Session, limits: dict[str, int], window: timedelta, now: datetime) -> timedelta | None:
    """How long the longest refusal among ``limits`` (key → failures allowed) still lasts:
    a key that reached its limit is refused until ``window`` after its last counted failure."""
    rows = session.execute(
        select(LoginThrottle.key, LoginThrottle.failures, LoginThrottle.last_failed_at).where(
            LoginThrottle.key.in_(list(limits))
        )
    ).all()
    left = [
        _aware(last) + window - now
        for key, failures, last in rows
        if failures >= limits[key] and _aware(last) + window > now
    ]
    return max(left) if left else None


def count_failure(session: Session, key: str, window: timedelta, now: datetime) -> int:
    """One more failure for ``key`` (a count whose last failure is older than ``window`` starts
    again at 1); the new count. One atomic statement: concurrent failures all count."""
    values = {"key": key, "failures": 1, "last_failed_at": now}
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_table).values(values)
    statement = insert.on_conflict_do_update(
        index_elements=[_table.c.key],
        set_={
            "failures": case((_table.c.last_failed_at < now - window, 1), else_=_table.c.failures + 1),
            "last_failed_at": now,
        },
    ).returning(_table.c.failures)
    return int(session.execute(statement).scalar_one())


def forget(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key).execution_options(synchronize_session=False))


def forget_stale(session: Session, window: timedelta, now: datetime) -> None:
    """Counters whose last failure is older than ``window`` mean nothing any more."""
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.last_failed_at < now - window)
        .execution_options(synchronize_session=False)
    )
