"""/api/knowledge: articles with versions, search, "what changed since my last visit" and the
situation scripts. Thin: each route parses, calls one function of service.py (writes) or
queries.py (reads: who may see what) and answers with a model of schemas.py.

Everyone logged in may read published and archived articles; drafts and every write need
``knowledge.edit`` (trainers, supervisors, admins).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, require
from kefu.knowledge import queries
from kefu.knowledge import service as kb
from kefu.knowledge.models import ArticleStatus
from kefu.knowledge.schemas import (
    ArticleCreate,
    ArticleDetail,
    ArticleFilter,
    ArticleOut,
    ArticleSummary,
    ArticleUpdate,
    CategoryCount,
    ChangesView,
    MarkRead,
    ScriptOut,
    SearchQuery,
    SearchResult,
    StageOut,
    StatusChange,
    VisitOut,
)
from kefu.rulebook.schema import Rulebook

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])


def scripts_rulebook(request: Request) -> Rulebook | None:
    """The rulebook the situation scripts come from: the configured files on the centre's clock."""
    return getattr(request.app.state, "rulebook", None)


Scripts = Annotated[Rulebook | None, Depends(scripts_rulebook)]


# ---------------------------------------------------------------- articles


@router.get("/categories")
def categories(user: CurrentUser, session: DB, status: ArticleStatus = ArticleStatus.PUBLISHED) -> list[CategoryCount]:
    """How many articles each category has (分类浏览), every category listed."""
    return queries.categories(session, user, status)


@router.get("/articles")
def list_articles(user: CurrentUser, session: DB, filters: Annotated[ArticleFilter, Query()]) -> list[ArticleSummary]:
    """Browse by category and status, the most recently changed first. Drafts: editors only."""
    return queries.browse(session, user, filters)


@router.post("/articles", status_code=201, dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def create_article(body: ArticleCreate, user: CurrentUser, session: DB) -> ArticleOut:
    return ArticleOut.model_validate(kb.do_create_article(session, user.id, body))


@router.get("/articles/{article_id}")
def get_article(article_id: Id, user: CurrentUser, session: DB) -> ArticleDetail:
    """The current text with every version (for the history and the diffs)."""
    return queries.article_detail(session, user, article_id)


@router.patch("/articles/{article_id}", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def update_article(article_id: Id, body: ArticleUpdate, user: CurrentUser, session: DB) -> ArticleOut:
    """Save an edit of version ``version``; 409 (and nothing saved) when someone saved since."""
    return ArticleOut.model_validate(kb.do_update_article(session, user.id, article_id, body))


@router.post("/articles/{article_id}/publish", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def publish(article_id: Id, body: StatusChange, user: CurrentUser, session: DB) -> ArticleOut:
    article = kb.do_set_status(session, user.id, article_id, ArticleStatus.PUBLISHED, body.version, body.change_note)
    return ArticleOut.model_validate(article)


@router.post("/articles/{article_id}/archive", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def archive(article_id: Id, body: StatusChange, user: CurrentUser, session: DB) -> ArticleOut:
    article = kb.do_set_status(session, user.id, article_id, ArticleStatus.ARCHIVED, body.version, body.change_note)
    return ArticleOut.model_validate(article)


# ---------------------------------------------------------------- search


@router.get("/search")
def search(query: Annotated[SearchQuery, Query()], user: CurrentUser, session: DB, rulebook: Scripts) -> SearchResult:
    """Ranked hits (articles and situation scripts), each with a snippet and the spans to
    highlight; traditional characters are fine. Drafts: editors only."""
    return queries.search(session, user, query, rulebook)


# ---------------------------------------------------------------- what changed since my last visit


@router.get("/changes")
def changes(user: CurrentUser, session: DB) -> ChangesView:
    """Published articles new or changed since my last "mark as read", with what changed."""
    return kb.what_changed(session, user.id)


@router.post("/changes/read")
def mark_read(user: CurrentUser, session: DB, body: MarkRead | None = None) -> VisitOut:
    """Mark the changes as read up to ``as_of`` (send the one the changes view gave)."""
    return VisitOut.model_validate(kb.do_mark_read(session, user.id, body.as_of if body else None))


# ---------------------------------------------------------------- situation scripts (话术)


@router.get("/stages")
def stages(user: CurrentUser, rulebook: Scripts) -> list[StageOut]:
    """The five call stages in order, with how many scripts and which scenarios each has."""
    return queries.stages(rulebook)


@router.get("/scripts")
def scripts(
    user: CurrentUser, rulebook: Scripts, stage: str | None = None, scenario: str | None = None
) -> list[ScriptOut]:
    """Situation scripts by stage (opening, gathering, providing, follow_up, closing) and scenario."""
    return queries.scripts(rulebook, stage=stage or None, scenario=scenario or None)


@router.get("/scripts/{script_id}")
def script(script_id: str, user: CurrentUser, rulebook: Scripts) -> ScriptOut:
    return queries.script(rulebook, script_id)
