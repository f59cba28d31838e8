"""background jobs (imports and exports)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KINDS = ("import_customers", "import_calls", "export_customers", "export_calls", "export_workorders")
STATUSES = ("queued", "running", "done", "failed")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum(*KINDS, name="jobkind", native_enum=False, length=32), nullable=False),
        sa.Column("status", sa.Enum(*STATUSES, name="jobstatus", native_enum=False, length=32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("checked_job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("runner", sa.String(length=128), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phase", sa.String(length=64), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_jobs_created_by_users")),
        sa.ForeignKeyConstraint(["checked_job_id"], ["jobs.id"], name=op.f("fk_jobs_checked_job_id_jobs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.create_index(batch.f("ix_jobs_status"), ["status"], unique=False)
        batch.create_index(batch.f("ix_jobs_created_by"), ["created_by"], unique=False)
        batch.create_index(batch.f("ix_jobs_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("jobs")
