"""server-side sessions, login throttle, must-change flag; audit entries masked

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("verified", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_sessions_last_seen_at"), ["last_seen_at"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_throttle_last_failed_at"), ["last_failed_at"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_column("failed_logins")  # the per-account lock-out is gone: login_throttle
        batch_op.drop_column("locked_until")
    _clean_audit_log()


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_column("must_change_password")
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_failed_at"))
    op.drop_table("login_throttle")
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_last_seen_at"))
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")


# What the audit log kept before kefu.core.audit masked on the way in: full ID numbers in
# customer diffs, and whatever was typed into the 工号 field of a failed login (often a password).
# The rules are copied here, not imported, so this migration means the same thing forever.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{15}(?:\d{2}[\dXx])?(?![0-9A-Za-z])")
_SECRET_FIELDS = ("password", "password_hash", "secret", "secret_key", "token", "csrf")


def _mask(value: Any) -> Any:
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str) and value:
        return value[:1] + "*" * (len(value) - 1)
    return value


def _hide(value: Any) -> Any:
    return [None if v is None else "[已隐去]" for v in value] if isinstance(value, list) else "[已隐去]"


def _clean_changes(changes: Any) -> Any:
    if not isinstance(changes, dict):
        return changes
    return {
        field: _hide(v) if field in _SECRET_FIELDS else _mask(v) if field == "id_number" else v
        for field, v in changes.items()
    }


def _clean_detail(detail: str | None) -> str | None:
    return _ID_NUMBER.sub(lambda m: m[0][:1] + "*" * (len(m[0]) - 1), detail) if detail else detail


def _clean_audit_log() -> None:
    log = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("actor_id", sa.Integer()),
        sa.column("action", sa.String()),
        sa.column("entity_id", sa.String()),
        sa.column("changes", sa.JSON()),
        sa.column("detail", sa.String()),
    )
    bind = op.get_bind()
    bind.execute(  # an unknown 工号's failed login stored what was typed as the entity id
        log.update()
        .where(log.c.action == "login_failed", log.c.actor_id.is_(None))
        .values(entity_id=None, detail="unknown 工号")
    )
    rows = bind.execute(
        sa.select(log.c.id, log.c.changes, log.c.detail).where(
            sa.or_(log.c.changes.is_not(None), log.c.detail.is_not(None))
        )
    ).all()
    for row_id, changes, detail in rows:
        cleaned, new_detail = _clean_changes(changes), _clean_detail(detail)
        if cleaned != changes or new_detail != detail:
            bind.execute(log.update().where(log.c.id == row_id).values(changes=cleaned, detail=new_detail))
