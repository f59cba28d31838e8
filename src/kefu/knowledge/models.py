"""Knowledge base tables: articles, their versions, and each reader's last visit (SPEC §6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kefu.core.choices import ChoiceSet, enum_column
from kefu.core.db import Base, Timestamped, Versioned, utcnow


class ArticleCategory(ChoiceSet, title="分类"):
    """Seed 004 内部知识库: 产品手册、常见问题解答、标准流程和最新政策; plus the situation scripts (话术)."""

    MANUAL = "manual", "产品手册"
    FAQ = "faq", "常见问题"
    PROCEDURE = "procedure", "标准流程"
    POLICY = "policy", "最新政策"
    SCRIPT = "script", "话术"


class ArticleStatus(ChoiceSet, title="状态"):
    DRAFT = "draft", "草稿", "warning"
    PUBLISHED = "published", "已发布", "success"
    ARCHIVED = "archived", "已归档", "secondary"


class Article(Versioned, Timestamped, Base):
    """The current text of an article. ``version`` is both the optimistic-locking counter and
    the number of the ``ArticleVersion`` row that holds this text: every write adds one."""

    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[ArticleCategory] = mapped_column(enum_column(ArticleCategory), index=True)
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ArticleStatus] = mapped_column(enum_column(ArticleStatus), index=True)
    source: Mapped[str | None] = mapped_column(String(300))  # where the content comes from, e.g. a seed
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # who wrote the current version


class ArticleVersion(Base):
    """One saved state of an article, never changed afterwards."""

    __tablename__ = "knowledge_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_knowledge_article_versions_article_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[ArticleCategory] = mapped_column(enum_column(ArticleCategory))
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[ArticleStatus] = mapped_column(enum_column(ArticleStatus))
    source: Mapped[str | None] = mapped_column(String(300))
    change_note: Mapped[str | None] = mapped_column(String(300))


class ReaderVisit(Base):
    """When a user last marked the knowledge base's changes as read ("what changed" view)."""

    __tablename__ = "knowledge_reader_visits"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    last_visit_at: Mapped[datetime] = mapped_column(default=utcnow)
