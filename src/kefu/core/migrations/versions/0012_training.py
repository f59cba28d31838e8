"""training: the question bank, theory-exam sittings and their answers, trainees' stages, role
plays (alone or in pairs), practical exams and assigned practice

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column(
            "type",
            sa.Enum("single", "multiple", "true_false", "short", name="questiontype", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum("product", "skills", "system", "policy", "service", name="category", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("difficulty", sa.Integer(), nullable=False),
        sa.Column("stem", sa.Text(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("rubric", sa.Text(), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_questions")),
        sa.UniqueConstraint("code", name=op.f("uq_training_questions_code")),
    )
    with op.batch_alter_table("training_questions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_questions_active"), ["active"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_questions_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_training_questions_type"), ["type"], unique=False)

    op.create_table(
        "training_practicals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("trainer_id", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("total", sa.Double(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_training_practicals_agent_id_users")),
        sa.ForeignKeyConstraint(["trainer_id"], ["users.id"], name=op.f("fk_training_practicals_trainer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_practicals")),
    )
    with op.batch_alter_table("training_practicals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_practicals_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "training_sittings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("in_progress", "grading", "passed", "failed", name="sittingstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paper", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comments", sa.JSON(), nullable=False),
        sa.Column("total", sa.Double(), nullable=True),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("graded_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_training_sittings_agent_id_users")),
        sa.ForeignKeyConstraint(["graded_by"], ["users.id"], name=op.f("fk_training_sittings_graded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sittings")),
        sa.UniqueConstraint("agent_id", "attempt", name=op.f("uq_training_sittings_agent_id")),
    )
    with op.batch_alter_table("training_sittings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_sittings_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "training_trainees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column(
            "stage",
            sa.Enum("training", "awaiting_exam", "on_duty", "retraining", name="stage", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("round_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_training_trainees_agent_id_users")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_training_trainees_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_trainees")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_training_trainees_agent_id")),
    )
    op.create_table(
        "training_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sitting_id"],
            ["training_sittings.id"],
            name=op.f("fk_training_answers_sitting_id_training_sittings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_answers")),
        sa.UniqueConstraint("sitting_id", "question_id", name=op.f("uq_training_answers_sitting_id")),
    )
    with op.batch_alter_table("training_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_answers_sitting_id"), ["sitting_id"], unique=False)

    op.create_table(
        "training_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(length=32), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("assigned_by", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_training_assignments_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_training_assignments_article_id_knowledge_articles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["assigned_by"], ["users.id"], name=op.f("fk_training_assignments_assigned_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_assignments")),
    )
    with op.batch_alter_table("training_assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_assignments_agent_id"), ["agent_id"], unique=False)

    op.create_table(
        "training_roleplays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(length=32), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("trainer_score", sa.Double(), nullable=True),
        sa.Column("trainer_comment", sa.Text(), nullable=True),
        sa.Column("scored_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], name=op.f("fk_training_roleplays_agent_id_users")),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["training_assignments.id"],
            name=op.f("fk_training_roleplays_assignment_id_training_assignments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["users.id"], name=op.f("fk_training_roleplays_partner_id_users")),
        sa.ForeignKeyConstraint(["scored_by"], ["users.id"], name=op.f("fk_training_roleplays_scored_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_roleplays")),
    )
    with op.batch_alter_table("training_roleplays", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_roleplays_agent_id"), ["agent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_roleplays", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_roleplays_agent_id"))

    op.drop_table("training_roleplays")
    with op.batch_alter_table("training_assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_assignments_agent_id"))

    op.drop_table("training_assignments")
    with op.batch_alter_table("training_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_answers_sitting_id"))

    op.drop_table("training_answers")
    op.drop_table("training_trainees")
    with op.batch_alter_table("training_sittings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_sittings_agent_id"))

    op.drop_table("training_sittings")
    with op.batch_alter_table("training_practicals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_practicals_agent_id"))

    op.drop_table("training_practicals")
    with op.batch_alter_table("training_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_questions_type"))
        batch_op.drop_index(batch_op.f("ix_training_questions_category"))
        batch_op.drop_index(batch_op.f("ix_training_questions_active"))

    op.drop_table("training_questions")
