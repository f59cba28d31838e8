from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.db import Base, Timestamped, utcnow
from kefu.core.security import Role


class User(Timestamped, Base):
    """A person who logs in: agents with their 工号, and everyone else."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_no: Mapped[str] = mapped_column(String(32), unique=True)  # 工号
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda roles: [r.value for r in roles])
    )
    team: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An initial password someone else chose (an admin, the demo data): changed at the first login.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)


class UserSession(Base):
    """A login, kept on the server so that it can be ended (logout, password change, an admin).

    The browser holds a random token in its signed cookie; only the token's SHA-256 is stored,
    so a copy of the database does not let anyone ride a session."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))  # logout, password_change, admin, replaced, …
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    # The identity checks of the call under way: {customer id: [[factor, …], when]}. Kept here,
    # not in the cookie, so that 「结束通话」 cannot be undone by replaying an older cookie.
    verified: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class LoginThrottle(Base):
    """Failed logins counted per (工号 typed, address) and per address, shared by every server
    process. The key is a keyed hash: what was typed into the 工号 field is never stored."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
