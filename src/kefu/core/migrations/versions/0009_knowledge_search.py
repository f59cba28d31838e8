"""knowledge search on the database's full-text engine: an FTS5 table (SQLite) or a tsvector
column with a GIN index (PostgreSQL), filled with the existing articles

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# The terms arrive segmented by jieba and joined by spaces (kefu.knowledge.search): unicode61
# only splits on the spaces, and keeps accents as they are (the query goes the same way).
# title, keywords and body are ranked; terms (all of them), category and status are matched.
SQLITE_TABLE = """
CREATE VIRTUAL TABLE knowledge_search USING fts5(
    title, keywords, body, terms, category, status,
    kind UNINDEXED, ref UNINDEXED, version UNINDEXED, title_plain UNINDEXED, rest_plain UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
)
"""
SQLITE_TERMS = "CREATE VIRTUAL TABLE knowledge_search_terms USING fts5vocab(knowledge_search, 'col')"

# PostgreSQL has no vocabulary of a tsvector column like FTS5's fts5vocab, and counting the rows
# that hold a common term scans most of the table: the terms are counted as rows are written (the
# rows in all under the term '', which no document holds). One statement per row, the terms in
# order: writers lock the counts in the same order.
POSTGRES_COUNT_TERMS = """
CREATE FUNCTION knowledge_search_count_terms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO knowledge_search_terms AS counted (term, docs)
    SELECT term, sum(change)::integer FROM (
        SELECT unnest(array_prepend('', tsvector_to_array(NEW.document))) AS term, 1 AS change
        WHERE TG_OP <> 'DELETE'
        UNION ALL
        SELECT unnest(array_prepend('', tsvector_to_array(OLD.document))), -1
        WHERE TG_OP <> 'INSERT'
    ) AS changes
    GROUP BY term HAVING sum(change) <> 0 ORDER BY term
    ON CONFLICT (term) DO UPDATE SET docs = counted.docs + excluded.docs;
    RETURN NULL;
END
$$
"""
POSTGRES_TRIGGER = """
CREATE TRIGGER knowledge_search_count_terms AFTER INSERT OR DELETE OR UPDATE OF document ON knowledge_search
FOR EACH ROW EXECUTE FUNCTION knowledge_search_count_terms()
"""

POSTGRES_COUNT_EXISTING = """
INSERT INTO knowledge_search_terms (term, docs)
SELECT word, ndoc FROM ts_stat('SELECT document FROM knowledge_search')
UNION ALL SELECT '', count(*) FROM knowledge_search
"""

ARTICLES = sa.table(
    "knowledge_articles",
    sa.column("id", sa.Integer()),
    sa.column("title", sa.String()),
    sa.column("category", sa.String()),
    sa.column("body", sa.Text()),
    sa.column("keywords", sa.JSON()),
    sa.column("status", sa.String()),
    sa.column("source", sa.String()),
    sa.column("version", sa.Integer()),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.create_table(
            "knowledge_search",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("ref", sa.String(length=64), nullable=False),
            sa.Column("category", sa.String(length=16), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("version", sa.String(length=64), nullable=False),
            sa.Column("title_plain", sa.Text(), nullable=False),
            sa.Column("rest_plain", sa.Text(), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_search")),
        )
        op.create_index("ix_knowledge_search_document", "knowledge_search", ["document"], postgresql_using="gin")
        op.create_table(
            "knowledge_search_terms",
            sa.Column("term", sa.Text(), nullable=False),
            sa.Column("docs", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("term", name=op.f("pk_knowledge_search_terms")),
        )
    else:
        op.execute(SQLITE_TABLE)
        op.execute(SQLITE_TERMS)

    from kefu.knowledge.search import index_articles

    index_articles(bind, bind.execute(sa.select(ARTICLES)).all())
    if bind.dialect.name == "postgresql":
        # counted at once rather than row by row (the same few counts updated thousands of times
        # in one transaction), then kept by the trigger
        op.execute(POSTGRES_COUNT_EXISTING)
        op.execute(POSTGRES_COUNT_TERMS)
        op.execute(POSTGRES_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER knowledge_search_count_terms ON knowledge_search")
        op.execute("DROP FUNCTION knowledge_search_count_terms()")
        op.drop_table("knowledge_search_terms")
        op.drop_index("ix_knowledge_search_document", table_name="knowledge_search")
        op.drop_table("knowledge_search")
    else:
        op.execute("DROP TABLE knowledge_search_terms")
        op.execute("DROP TABLE knowledge_search")
