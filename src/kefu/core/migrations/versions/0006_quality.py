"""quality inspection in the platform: rulebook versions, inspections, findings, sampling, reviews, appeals, calibration

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 03:17:55.667613
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:  # scores have a decimal: 84.8
        batch_op.alter_column("qa_score", existing_type=sa.Integer(), type_=sa.Float(), existing_nullable=True)
    op.create_table(
        "quality_calibrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=False),
        sa.Column("inspector_ids", sa.JSON(), nullable=False),
        sa.Column("call_ids", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_quality_calibrations_created_by_users")),
        sa.ForeignKeyConstraint(
            ["reference_id"], ["users.id"], name=op.f("fk_quality_calibrations_reference_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_calibrations")),
    )
    op.create_table(
        "quality_rulebooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("draft", "published", "retired", name="rulebookstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("overlay", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_quality_rulebooks_created_by_users")),
        sa.ForeignKeyConstraint(["published_by"], ["users.id"], name=op.f("fk_quality_rulebooks_published_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_rulebooks")),
        sa.UniqueConstraint("number", name=op.f("uq_quality_rulebooks_number")),
    )
    with op.batch_alter_table("quality_rulebooks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_rulebooks_status"), ["status"], unique=False)

    op.create_table(
        "quality_sampling_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "period", sa.Enum("daily", "weekly", "monthly", name="period", native_enum=False, length=16), nullable=False
        ),
        sa.Column("per_agent_count", sa.Integer(), nullable=True),
        sa.Column("per_agent_percent", sa.Double(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("inspector_ids", sa.JSON(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_quality_sampling_plans_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_sampling_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_quality_sampling_plans_name")),
    )
    op.create_table(
        "quality_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("rulebook_id", sa.Integer(), nullable=True),
        sa.Column("rulebook_label", sa.String(length=64), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column(
            "status", sa.Enum("done", "failed", name="inspectionstatus", native_enum=False, length=16), nullable=False
        ),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("inspected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("machine_score", sa.Double(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("fatal", sa.Boolean(), nullable=False),
        sa.Column("pass_line", sa.Double(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("not_applicable", sa.JSON(), nullable=True),
        sa.Column("final_score", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_quality_inspections_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_quality_inspections_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["rulebook_id"], ["quality_rulebooks.id"], name=op.f("fk_quality_inspections_rulebook_id_quality_rulebooks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_inspections")),
    )
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_inspections_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_current"), ["current"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_inspected_at"), ["inspected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_rulebook_id"), ["rulebook_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_inspections_status"), ["status"], unique=False)

    op.create_table(
        "quality_sampling_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_quality_sampling_runs_created_by_users")),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["quality_sampling_plans.id"],
            name=op.f("fk_quality_sampling_runs_plan_id_quality_sampling_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_sampling_runs")),
        sa.UniqueConstraint("plan_id", "period_start", name=op.f("uq_quality_sampling_runs_plan_id")),
    )
    with op.batch_alter_table("quality_sampling_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_sampling_runs_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "quality_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("calibration_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.Enum("open", "done", name="reviewstatus", native_enum=False, length=16), nullable=False),
        sa.Column("manual_score", sa.Double(), nullable=True),
        sa.Column("category_scores", sa.JSON(), nullable=True),
        sa.Column("verdicts", sa.JSON(), nullable=True),
        sa.Column("verdict_notes", sa.JSON(), nullable=True),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calibration_id"],
            ["quality_calibrations.id"],
            name=op.f("fk_quality_reviews_calibration_id_quality_calibrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_quality_reviews_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["quality_inspections.id"],
            name=op.f("fk_quality_reviews_inspection_id_quality_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["inspector_id"], ["users.id"], name=op.f("fk_quality_reviews_inspector_id_users")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["quality_sampling_runs.id"],
            name=op.f("fk_quality_reviews_run_id_quality_sampling_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_reviews")),
    )
    with op.batch_alter_table("quality_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_reviews_calibration_id"), ["calibration_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_reviews_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_reviews_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_reviews_inspector_id"), ["inspector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_reviews_run_id"), ["run_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_reviews_status"), ["status"], unique=False)

    op.create_table(
        "quality_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("rule_name", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("deduction", sa.Double(), nullable=False),
        sa.Column("fatal", sa.Boolean(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("standard", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("turn", sa.Integer(), nullable=True),
        sa.Column("speaker", sa.String(length=16), nullable=True),
        sa.Column("start", sa.Double(), nullable=True),
        sa.Column("end", sa.Double(), nullable=True),
        sa.Column("evidence", sa.String(length=500), nullable=True),
        sa.Column("evidence_span", sa.JSON(), nullable=True),
        sa.Column("suggestion", sa.String(length=500), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column(
            "review",
            sa.Enum("pending", "confirmed", "overturned", name="findingreview", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["quality_inspections.id"],
            name=op.f("fk_quality_findings_inspection_id_quality_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["quality_reviews.id"],
            name=op.f("fk_quality_findings_review_id_quality_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["reviewed_by"], ["users.id"], name=op.f("fk_quality_findings_reviewed_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_findings")),
    )
    with op.batch_alter_table("quality_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_findings_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_findings_review_id"), ["review_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_findings_rule"), ["rule"], unique=False)

    op.create_table(
        "quality_appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "lead_reviewed", "upheld", "rejected", name="appealstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("lead_opinion", sa.String(length=1000), nullable=True),
        sa.Column("lead_supports", sa.Boolean(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_quality_appeals_agent_id_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_quality_appeals_decided_by_users")),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["quality_findings.id"],
            name=op.f("fk_quality_appeals_finding_id_quality_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["users.id"], name=op.f("fk_quality_appeals_lead_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_appeals")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_quality_appeals_finding_id")),
    )
    with op.batch_alter_table("quality_appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quality_appeals_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_appeals_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("qa_score", existing_type=sa.Float(), type_=sa.Integer(), existing_nullable=True)
    with op.batch_alter_table("quality_appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_appeals_status"))
        batch_op.drop_index(batch_op.f("ix_quality_appeals_agent_id"))

    op.drop_table("quality_appeals")
    with op.batch_alter_table("quality_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_findings_rule"))
        batch_op.drop_index(batch_op.f("ix_quality_findings_review_id"))
        batch_op.drop_index(batch_op.f("ix_quality_findings_inspection_id"))

    op.drop_table("quality_findings")
    with op.batch_alter_table("quality_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_reviews_status"))
        batch_op.drop_index(batch_op.f("ix_quality_reviews_run_id"))
        batch_op.drop_index(batch_op.f("ix_quality_reviews_inspector_id"))
        batch_op.drop_index(batch_op.f("ix_quality_reviews_inspection_id"))
        batch_op.drop_index(batch_op.f("ix_quality_reviews_call_id"))
        batch_op.drop_index(batch_op.f("ix_quality_reviews_calibration_id"))

    op.drop_table("quality_reviews")
    with op.batch_alter_table("quality_sampling_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_sampling_runs_plan_id"))

    op.drop_table("quality_sampling_runs")
    with op.batch_alter_table("quality_inspections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_inspections_status"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_rulebook_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_inspected_at"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_current"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_call_id"))
        batch_op.drop_index(batch_op.f("ix_quality_inspections_agent_id"))

    op.drop_table("quality_inspections")
    op.drop_table("quality_sampling_plans")
    with op.batch_alter_table("quality_rulebooks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_rulebooks_status"))

    op.drop_table("quality_rulebooks")
    op.drop_table("quality_calibrations")
