"""What the knowledge base shows, as the API and the pages both give it: everyone logged in may
read published and archived articles; drafts are for those who may edit (``knowledge.edit``:
trainers, supervisors, admins) — to anyone else a draft does not exist.

Each function takes what a request parsed and answers with a response model (schemas.py)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core.errors import Forbidden, NotFound
from kefu.core.security import Permission, allowed
from kefu.knowledge import search as engine
from kefu.knowledge import service as kb
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.knowledge.schemas import (
    ArticleDetail,
    ArticleFilter,
    ArticleOut,
    ArticleSummary,
    CategoryCount,
    CategoryMenuItem,
    LatestChanges,
    ScriptOut,
    SearchHitOut,
    SearchQuery,
    SearchResult,
    StageOut,
    VersionOut,
)
from kefu.rulebook.schema import Rulebook

WORKBENCH_CHANGES = 5


def can_edit(user: User) -> bool:
    return allowed(user.role, Permission.KNOWLEDGE_EDIT)


def check_status_visible(user: User, status: ArticleStatus | None) -> None:
    if status in (ArticleStatus.DRAFT, None) and not can_edit(user):
        raise Forbidden(f"{user.role.label}无权查看草稿")


def readable_article(session: Session, user: User, article_id: int) -> Article:
    """Drafts are for editors only; to anyone else a draft does not exist."""
    article = kb.get_article(session, article_id)
    if article.status == ArticleStatus.DRAFT and not can_edit(user):
        raise NotFound(f"知识文章 {article_id} 不存在")
    return article


# ---------------------------------------------------------------- articles


def categories(session: Session, user: User, status: ArticleStatus = ArticleStatus.PUBLISHED) -> list[CategoryCount]:
    """How many articles each category has (分类浏览), every category listed."""
    check_status_visible(user, status)
    counts = kb.category_counts(session, status)
    return [CategoryCount(category=c, label=c.label, count=counts[c.value]) for c in ArticleCategory]


def category_menu(session: Session, user: User) -> list[CategoryMenuItem]:
    """The published articles per category, and for editors the drafts too."""
    counts = kb.category_counts(session)
    drafts = kb.category_counts(session, ArticleStatus.DRAFT) if can_edit(user) else {}
    return [
        CategoryMenuItem(category=c, label=c.label, count=counts[c.value], drafts=drafts.get(c.value, 0))
        for c in ArticleCategory
    ]


def browse(session: Session, user: User, filters: ArticleFilter) -> list[ArticleSummary]:
    """Browse by category and status, the most recently changed first. Drafts: editors only."""
    check_status_visible(user, filters.status)
    found = kb.list_articles(
        session, category=filters.category, status=filters.status, limit=filters.limit, offset=filters.offset
    )
    return [ArticleSummary.model_validate(article) for article in found]


def article_detail(session: Session, user: User, article_id: int) -> ArticleDetail:
    """The current text with every version (for the history and the diffs)."""
    article = readable_article(session, user, article_id)
    current = ArticleOut.model_validate(article)
    history = [VersionOut.model_validate(v) for v in kb.history(session, article_id)]
    return ArticleDetail(**{name: getattr(current, name) for name in ArticleOut.model_fields}, history=history)


def editor_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Authors and editors as people read them: 李明(10001)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name, User.agent_no).where(User.id.in_(wanted)))
    return {uid: f"{name}({no})" for uid, name, no in rows}


# ---------------------------------------------------------------- search


def _hit_url(hit: engine.Hit, rulebook: Rulebook) -> str:
    if hit.kind == "article":
        return f"/knowledge/{hit.ref}"
    try:
        return kb.script_url(kb.get_script(str(hit.ref), rulebook))
    except NotFound:
        return "/knowledge/scripts"


def search(session: Session, user: User, query: SearchQuery, rulebook: Rulebook | None = None) -> SearchResult:
    """Ranked hits (articles and the rulebook's situation scripts), each with a snippet and the
    spans to highlight, and how long the search took. Drafts: editors only."""
    check_status_visible(user, query.status)
    rulebook = rulebook or kb.default_rulebook()
    started = time.perf_counter()
    hits = engine.search(
        session,
        query.q,
        rulebook=rulebook,
        limit=query.limit,
        categories=None if query.category is None else [query.category],
        statuses=[query.status],
    )
    took = (time.perf_counter() - started) * 1000
    return SearchResult(
        query=query.q,
        count=len(hits),
        took_ms=round(took, 2),
        hits=[
            SearchHitOut(
                kind=hit.kind,
                ref=hit.ref,
                title=hit.title,
                category=hit.category,
                status=hit.status,
                score=hit.score,
                snippet=hit.snippet,
                highlights=list(hit.highlights),
                title_highlights=list(hit.title_highlights),
                source=hit.source,
                url=_hit_url(hit, rulebook),
            )
            for hit in hits
        ],
    )


# ---------------------------------------------------------------- what changed since my last visit


def latest_changes(session: Session, user_id: int, limit: int = WORKBENCH_CHANGES) -> LatestChanges:
    """For the workbench: my unread knowledge changes, newest first, the first ``limit``."""
    view = kb.what_changed(session, user_id)
    return LatestChanges(items=view.changes[:limit], total=len(view.changes), since=view.since)


# ---------------------------------------------------------------- situation scripts (话术)


def stages(rulebook: Rulebook | None = None) -> list[StageOut]:
    """The call stages in order, with how many scripts and which scenarios each has."""
    return [
        StageOut(
            id=group.stage.id,
            name=group.stage.name,
            count=len(group.scripts),
            scenarios=kb.script_scenarios(rulebook, group.stage.id),
        )
        for group in kb.script_stages(rulebook)
    ]


def scripts(
    rulebook: Rulebook | None = None, *, stage: str | None = None, scenario: str | None = None
) -> list[ScriptOut]:
    """Situation scripts by stage (opening, gathering, providing, follow_up, closing) and scenario."""
    return [kb.script_out(s, rulebook) for s in kb.list_scripts(rulebook, stage=stage, scenario=scenario)]


def script(rulebook: Rulebook | None, script_id: str) -> ScriptOut:
    return kb.script_out(kb.get_script(script_id, rulebook), rulebook)
