"""knowledge base: articles, article versions, reader visits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CATEGORY = sa.Enum(
    "manual", "faq", "procedure", "policy", "script", name="article_category", native_enum=False, length=16
)
STATUS = sa.Enum("draft", "published", "archived", name="article_status", native_enum=False, length=16)


def upgrade() -> None:
    op.create_table(
        "knowledge_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", CATEGORY, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_knowledge_articles_author_id_users")),
        sa.ForeignKeyConstraint(["editor_id"], ["users.id"], name=op.f("fk_knowledge_articles_editor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_articles")),
    )
    with op.batch_alter_table("knowledge_articles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_articles_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_knowledge_articles_status"), ["status"], unique=False)

    op.create_table(
        "knowledge_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("editor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", CATEGORY, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("status", STATUS, nullable=False),
        sa.Column("source", sa.String(length=300), nullable=True),
        sa.Column("change_note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["knowledge_articles.id"],
            name=op.f("fk_knowledge_article_versions_article_id_knowledge_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["editor_id"], ["users.id"], name=op.f("fk_knowledge_article_versions_editor_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_article_versions")),
        sa.UniqueConstraint("article_id", "number", name="uq_knowledge_article_versions_article_number"),
    )
    with op.batch_alter_table("knowledge_article_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_article_versions_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_knowledge_article_versions_at"), ["at"], unique=False)

    op.create_table(
        "knowledge_reader_visits",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_knowledge_reader_visits_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_knowledge_reader_visits")),
    )


def downgrade() -> None:
    op.drop_table("knowledge_reader_visits")
    with op.batch_alter_table("knowledge_article_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_article_versions_at"))
        batch_op.drop_index(batch_op.f("ix_knowledge_article_versions_article_id"))
    op.drop_table("knowledge_article_versions")
    with op.batch_alter_table("knowledge_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_knowledge_articles_status"))
        batch_op.drop_index(batch_op.f("ix_knowledge_articles_category"))
    op.drop_table("knowledge_articles")
