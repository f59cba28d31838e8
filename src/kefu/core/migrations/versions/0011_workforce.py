"""workforce: rosters, assignments, revisions, leave and swap requests, notices

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workforce_leave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "annual", "personal", "sick", "compensatory", "other", name="leavekind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_partner",
                "pending",
                "approved",
                "refused",
                "cancelled",
                name="requeststatus",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_workforce_leave_agent_id_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_workforce_leave_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_leave")),
    )
    with op.batch_alter_table("workforce_leave", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workforce_leave_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workforce_leave_first_day"), ["first_day"], unique=False)

    op.create_table(
        "workforce_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_workforce_notices_agent_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_notices")),
    )
    with op.batch_alter_table("workforce_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workforce_notices_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workforce_notices_at"), ["at"], unique=False)

    op.create_table(
        "workforce_rosters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column(
            "status", sa.Enum("draft", "published", name="rosterstatus", native_enum=False, length=16), nullable=False
        ),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("requirement", sa.JSON(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("late_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_workforce_rosters_created_by_users")),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"], name=op.f("fk_workforce_rosters_published_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_rosters")),
        sa.UniqueConstraint("week_start", name=op.f("uq_workforce_rosters_week_start")),
    )
    op.create_table(
        "workforce_swaps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("requester_shift", sa.String(length=16), nullable=True),
        sa.Column("partner_shift", sa.String(length=16), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "awaiting_partner",
                "pending",
                "approved",
                "refused",
                "cancelled",
                name="requeststatus",
                native_enum=False,
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_workforce_swaps_decided_by_users")),
        sa.ForeignKeyConstraint(["partner_id"], ["users.id"], name=op.f("fk_workforce_swaps_partner_id_users")),
        sa.ForeignKeyConstraint(["requester_id"], ["users.id"], name=op.f("fk_workforce_swaps_requester_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_swaps")),
    )
    with op.batch_alter_table("workforce_swaps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workforce_swaps_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_workforce_swaps_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workforce_swaps_requester_id"), ["requester_id"], unique=False)

    op.create_table(
        "workforce_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("shift", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_workforce_assignments_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["workforce_rosters.id"],
            name=op.f("fk_workforce_assignments_roster_id_workforce_rosters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_assignments")),
        sa.UniqueConstraint("roster_id", "agent_id", "day", name=op.f("uq_workforce_assignments_roster_id")),
    )
    with op.batch_alter_table("workforce_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workforce_assignments_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_workforce_assignments_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_workforce_assignments_roster_id"), ["roster_id"], unique=False)

    op.create_table(
        "workforce_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("roster_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["by"], ["users.id"], name=op.f("fk_workforce_revisions_by_users")),
        sa.ForeignKeyConstraint(
            ["roster_id"],
            ["workforce_rosters.id"],
            name=op.f("fk_workforce_revisions_roster_id_workforce_rosters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workforce_revisions")),
        sa.UniqueConstraint("roster_id", "revision", name=op.f("uq_workforce_revisions_roster_id")),
    )
    with op.batch_alter_table("workforce_revisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workforce_revisions_roster_id"), ["roster_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("workforce_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workforce_revisions_roster_id"))

    op.drop_table("workforce_revisions")
    with op.batch_alter_table("workforce_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workforce_assignments_roster_id"))
        batch_op.drop_index(batch_op.f("ix_workforce_assignments_day"))
        batch_op.drop_index(batch_op.f("ix_workforce_assignments_agent_id"))

    op.drop_table("workforce_assignments")
    with op.batch_alter_table("workforce_swaps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workforce_swaps_requester_id"))
        batch_op.drop_index(batch_op.f("ix_workforce_swaps_partner_id"))
        batch_op.drop_index(batch_op.f("ix_workforce_swaps_day"))

    op.drop_table("workforce_swaps")
    op.drop_table("workforce_rosters")
    with op.batch_alter_table("workforce_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workforce_notices_at"))
        batch_op.drop_index(batch_op.f("ix_workforce_notices_agent_id"))

    op.drop_table("workforce_notices")
    with op.batch_alter_table("workforce_leave", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workforce_leave_first_day"))
        batch_op.drop_index(batch_op.f("ix_workforce_leave_agent_id"))

    op.drop_table("workforce_leave")
