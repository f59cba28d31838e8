"""performance: surveys, sales, business errors, attendance, published monthly evaluations,
coaching plans; hold and after-call work on calls

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "performance_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scheduled_minutes", sa.Double(), nullable=False),
        sa.Column("present_minutes", sa.Double(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_performance_attendance_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_performance_attendance_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_attendance")),
        sa.UniqueConstraint("agent_id", "day", name=op.f("uq_performance_attendance_agent_id")),
    )
    with op.batch_alter_table("performance_attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_attendance_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_performance_attendance_day"), ["day"], unique=False)

    op.create_table(
        "performance_coaching",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column(
            "status", sa.Enum("open", "closed", name="coachingstatus", native_enum=False, length=16), nullable=False
        ),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_performance_coaching_agent_id_users")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_performance_coaching_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_coaching")),
    )
    with op.batch_alter_table("performance_coaching", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_coaching_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "performance_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_performance_comments_agent_id_users")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_performance_comments_author_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_comments")),
        sa.UniqueConstraint("month", "agent_id", name=op.f("uq_performance_comments_month")),
    )
    with op.batch_alter_table("performance_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_comments_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "performance_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"], name=op.f("fk_performance_months_published_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_months")),
        sa.UniqueConstraint("month", "revision", name=op.f("uq_performance_months_month")),
    )
    with op.batch_alter_table("performance_months", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_months_month"), ["month"], unique=False)

    op.create_table(
        "performance_errors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_performance_errors_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_performance_errors_call_id_calls"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_performance_errors_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_errors")),
    )
    with op.batch_alter_table("performance_errors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_errors_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_performance_errors_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "performance_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("agent_no", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("total", sa.Double(), nullable=True),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("inspections", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_performance_evaluations_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["month_id"],
            ["performance_months.id"],
            name=op.f("fk_performance_evaluations_month_id_performance_months"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_evaluations")),
        sa.UniqueConstraint("month_id", "agent_id", name=op.f("uq_performance_evaluations_month_id")),
    )
    with op.batch_alter_table("performance_evaluations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_evaluations_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_performance_evaluations_month_id"), ["month_id"], unique=False)

    op.create_table(
        "performance_sales",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("converted", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_performance_sales_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_performance_sales_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_sales")),
    )
    with op.batch_alter_table("performance_sales", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_sales_call_id"), ["call_id"], unique=False)

    op.create_table(
        "performance_surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=16), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_performance_surveys_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_performance_surveys_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_surveys")),
        sa.UniqueConstraint("call_id", name=op.f("uq_performance_surveys_call_id")),
    )
    with op.batch_alter_table("performance_surveys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_surveys_answered_at"), ["answered_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_performance_surveys_satisfied"), ["satisfied"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_seconds", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("wrap_seconds", sa.Double(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_column("wrap_seconds")
        batch_op.drop_column("hold_seconds")
    for table in (
        "performance_surveys",
        "performance_sales",
        "performance_evaluations",
        "performance_errors",
        "performance_months",
        "performance_comments",
        "performance_coaching",
        "performance_attendance",
    ):
        op.drop_table(table)
