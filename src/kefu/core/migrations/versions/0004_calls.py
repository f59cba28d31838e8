"""calls

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 01:21:17.788484
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column(
            "direction",
            sa.Enum("inbound", "outbound", name="calldirection", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "channel", sa.Enum("voice", "chat", name="callchannel", native_enum=False, length=16), nullable=False
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("caller_number", sa.String(length=32), nullable=True),
        sa.Column("ring_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "hangup_by", sa.Enum("agent", "customer", name="hangupby", native_enum=False, length=16), nullable=True
        ),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("transcript", sa.JSON(), nullable=True),
        sa.Column("night_service", sa.Boolean(), nullable=False),
        sa.Column("qa_score", sa.Integer(), nullable=True),
        sa.Column("qa_passed", sa.Boolean(), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_calls_agent_id_users")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_calls_customer_id_customers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("external_id", name=op.f("uq_calls_external_id")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_caller_number"), ["caller_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_direction"), ["direction"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_night_service"), ["night_service"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_reason"), ["reason"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_ring_at"), ["ring_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_ring_at"))
        batch_op.drop_index(batch_op.f("ix_calls_reason"))
        batch_op.drop_index(batch_op.f("ix_calls_night_service"))
        batch_op.drop_index(batch_op.f("ix_calls_direction"))
        batch_op.drop_index(batch_op.f("ix_calls_customer_id"))
        batch_op.drop_index(batch_op.f("ix_calls_caller_number"))
        batch_op.drop_index(batch_op.f("ix_calls_agent_id"))

    op.drop_table("calls")
