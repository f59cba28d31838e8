"""work orders and their timeline

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 01:24:39.674517
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column(
            "type",
            sa.Enum("consultation", "complaint", "fault", "suggestion", name="ordertype", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum("urgent", "high", "medium", "low", name="priority", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "in_progress",
                "waiting_customer",
                "resolved",
                "closed",
                name="status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("contact", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("handling_suggestion", sa.String(length=1000), nullable=True),
        sa.Column("measures_taken", sa.String(length=2000), nullable=True),
        sa.Column("promised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("follow_up_plan", sa.String(length=1000), nullable=True),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("complaint_category", sa.String(length=32), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("callback_comment", sa.String(length=500), nullable=True),
        sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], name=op.f("fk_work_orders_assignee_id_users")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_work_orders_customer_id_customers")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_work_orders_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_orders")),
        sa.UniqueConstraint("number", name=op.f("uq_work_orders_number")),
    )
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_orders_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_orders_type"), ["type"], unique=False)

    op.create_table(
        "work_order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "create",
                "update",
                "start",
                "wait",
                "resume",
                "classify",
                "resolve",
                "close",
                "reopen",
                "assign",
                "transfer",
                "note",
                "callback",
                "escalate",
                name="eventkind",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column(
            "from_status",
            sa.Enum(
                "new",
                "in_progress",
                "waiting_customer",
                "resolved",
                "closed",
                name="status",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "new",
                "in_progress",
                "waiting_customer",
                "resolved",
                "closed",
                name="status",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_work_order_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_orders.id"], name=op.f("fk_work_order_events_order_id_work_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_order_events")),
    )
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_order_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_order_events_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_events_order_id"))
        batch_op.drop_index(batch_op.f("ix_work_order_events_at"))

    op.drop_table("work_order_events")
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_orders_type"))
        batch_op.drop_index(batch_op.f("ix_work_orders_status"))
        batch_op.drop_index(batch_op.f("ix_work_orders_owner_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_customer_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_call_id"))
        batch_op.drop_index(batch_op.f("ix_work_orders_assignee_id"))

    op.drop_table("work_orders")
