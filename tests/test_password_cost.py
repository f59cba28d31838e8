"""The argon2 cost of password hashes is a setting (KEFU_PASSWORD_HASH_*; the tests run at the
lowest, see conftest): production keeps argon2's defaults, and changing the cost locks no one out —
a hash made at another cost still logs in and is made again at today's cost."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from pydantic import ValidationError
from sqlalchemy import select

from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.core.db import transaction
from kefu.core.security import Role, needs_rehash
from kefu.core.settings import Settings

SETTINGS = Settings(secret_key="test-secret")


def parameters(password_hash: str) -> str:
    """The ``m=…,t=…,p=…`` part of an argon2 hash: the cost it was made with."""
    return password_hash.split("$")[3]


def test_production_keeps_argon2s_own_cost() -> None:
    fields, default = Settings.model_fields, PasswordHasher()
    assert fields["password_hash_time_cost"].default == default.time_cost == 3
    assert fields["password_hash_memory_kib"].default == default.memory_cost == 65536
    assert fields["password_hash_parallelism"].default == default.parallelism == 4


def test_memory_below_argon2s_floor_is_refused_with_a_reason() -> None:
    with pytest.raises(ValidationError, match="KEFU_PASSWORD_HASH_MEMORY_KIB 至少是"):
        Settings(password_hash_memory_kib=16, password_hash_parallelism=4)


def test_a_hash_made_at_another_cost_logs_in_and_is_made_again_at_todays(sessions) -> None:  # type: ignore[no-untyped-def]
    costly = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=2).hash("kefu2026")
    with transaction(sessions) as session:
        user = accounts.do_create_user(
            session, None, agent_no="12345", name="小李", role=Role.AGENT, password="first-pass1"
        )
        user.password_hash = costly  # as left by a server with another setting
    assert needs_rehash(costly)

    with transaction(sessions) as session:
        assert accounts.do_login(session, "12345", "wrong-pass1", SETTINGS).user is None
    with transaction(sessions) as session:
        assert session.scalar(select(User.password_hash)) == costly  # a failed login changes nothing
        assert accounts.do_login(session, "12345", "kefu2026", SETTINGS).user is not None
    with transaction(sessions) as session:
        again = session.scalar(select(User.password_hash))
    assert again != costly and parameters(again) != parameters(costly) and not needs_rehash(again)
    with transaction(sessions) as session:
        assert accounts.do_login(session, "12345", "kefu2026", SETTINGS).user is not None
