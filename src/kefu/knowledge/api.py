"""/api/knowledge: articles with versions, search, "what changed since my last visit" and the
situation scripts. Thin: see service.py and search.py.

Everyone logged in may read published and archived articles; drafts and every write need
``knowledge.edit`` (trainers, supervisors, admins).

The search index (``KnowledgeIndex``) is one per application, held by ``IndexHolder`` on
``app.state``: built from the database and the rulebook's scripts in the background when the app
starts (or on the first search, if that comes first: a search never sees a half-built index), told about
each article after the transaction that saved it has committed, and synced with the database
every ``SYNC_SECONDS`` so edits made by other processes become searchable too.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from fastapi import APIRouter, FastAPI, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session, sessionmaker

from kefu.accounts.models import User
from kefu.core.db import utcnow
from kefu.core.errors import Forbidden, NotFound
from kefu.core.fields import CentreTime, Id, Offset, Version
from kefu.core.security import Permission, allowed
from kefu.http.deps import DB, CurrentUser, require
from kefu.knowledge import service as kb
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.knowledge.schemas import (
    MAX_NOTE,
    ArticleCreate,
    ArticleOut,
    ArticleUpdate,
    ChangesView,
    VersionOut,
)
from kefu.knowledge.search import Hit, KnowledgeIndex
from kefu.rulebook.schema import Rulebook, Script

router = APIRouter(prefix="/api/knowledge", tags=["knowledge"])
log = logging.getLogger(__name__)

# How often a search first brings the index up to date with the database (one light query).
SYNC_SECONDS = 30.0


# ---------------------------------------------------------------- the index, one per app


class IndexHolder:
    """The app's ``KnowledgeIndex``, built lazily. Building, syncing and per-article updates
    are serialised by one lock (each on a fresh session, so no request's identity map or
    snapshot leaks in); searching goes straight to the index, which has its own lock."""

    def __init__(self, sessions: sessionmaker[Session], rulebook: Rulebook | None) -> None:
        self._sessions = sessions
        self._rulebook = rulebook
        self._lock = threading.Lock()
        self._index: KnowledgeIndex | None = None
        self._synced = 0.0
        self._builder: threading.Thread | None = None

    @property
    def built(self) -> bool:
        return self._index is not None

    def get(self) -> KnowledgeIndex:
        """The index, built on first use and synced if the last sync is older than ``SYNC_SECONDS``."""
        index = self._index
        if index is not None and time.monotonic() - self._synced < SYNC_SECONDS:
            return index
        with self._lock:
            if self._index is None:
                with self._sessions() as session:
                    self._index = KnowledgeIndex.build(session, self._rulebook)
                self._synced = time.monotonic()
            elif time.monotonic() - self._synced >= SYNC_SECONDS:
                with self._sessions() as session:
                    self._index.sync(session)
                self._synced = time.monotonic()
            return self._index

    def build_in_background(self) -> threading.Thread:
        """Build the index now in a daemon thread (at startup). A search meanwhile waits for the
        build: ``get`` takes the lock the build holds, and the index is published only when complete."""
        thread = threading.Thread(target=self._build, name="kefu-knowledge-index", daemon=True)
        self._builder = thread
        thread.start()
        return thread

    def _build(self) -> None:
        try:
            self.get()
        except Exception:  # the first search will try again (and show its error, if it is lasting)
            log.exception("building the knowledge search index failed")

    def wait_built(self, timeout: float | None = None) -> bool:
        """Wait for the background build, if one was started; whether the index is built."""
        if self._builder is not None:
            self._builder.join(timeout)
        return self.built

    def saved(self, article: Article) -> None:
        """Call after the transaction that saved ``article`` has committed. Before the first
        search there is nothing to update (the build reads the database). An older version
        arriving late never replaces a newer one."""
        with self._lock:
            if self._index is None:
                return
            indexed = self._index.document(f"article:{article.id}")
            if indexed is None or indexed.version is None or indexed.version < article.version:
                self._index.upsert_article(article)


_holder_lock = threading.Lock()


def index_holder(app: FastAPI) -> IndexHolder:
    holder = getattr(app.state, "knowledge_index", None)
    if holder is None:
        with _holder_lock:
            holder = getattr(app.state, "knowledge_index", None)
            if holder is None:
                holder = IndexHolder(app.state.sessions, getattr(app.state, "rulebook", None))
                app.state.knowledge_index = holder
    return holder


def commit_and_index(request: Request, session: Session, article: Article) -> None:
    """Commit the write now, then make it searchable (never the other way round: a write that
    is rolled back must never be found)."""
    session.commit()
    index_holder(request.app).saved(article)


# ---------------------------------------------------------------- who may read what


def can_edit(user: User) -> bool:
    return allowed(user.role, Permission.KNOWLEDGE_EDIT)


def readable_article(session: Session, user: User, article_id: int) -> Article:
    """Drafts are for editors only; to anyone else a draft does not exist."""
    article = kb.get_article(session, article_id)
    if article.status == ArticleStatus.DRAFT and not can_edit(user):
        raise NotFound(f"知识文章 {article_id} 不存在")
    return article


def check_status_visible(user: User, status: ArticleStatus | None) -> None:
    if status in (ArticleStatus.DRAFT, None) and not can_edit(user):
        raise Forbidden(f"{user.role.label}无权查看草稿")


def rulebook_of(request: Request) -> Rulebook | None:
    return getattr(request.app.state, "rulebook", None)


def script_url(script: Script) -> str:
    return f"/knowledge/scripts?stage={script.stage}#{script.id}"


def hit_url(hit: Hit, rulebook: Rulebook | None) -> str:
    if hit.kind == "article":
        return f"/knowledge/{hit.ref}"
    try:
        return script_url(kb.get_script(str(hit.ref), rulebook))
    except NotFound:
        return "/knowledge/scripts"


def search(
    request: Request,
    q: str,
    *,
    category: ArticleCategory | None = None,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    limit: int = 10,
) -> tuple[list[Hit], float]:
    """Ranked hits and the milliseconds the search took (the index is built first if need be)."""
    index = index_holder(request.app).get()
    started = time.perf_counter()
    hits = index.search(q, limit=limit, categories=None if category is None else [category], statuses=[status])
    return hits, (time.perf_counter() - started) * 1000


# ---------------------------------------------------------------- shapes


class ArticleSummary(BaseModel):
    id: int
    title: str
    category: ArticleCategory
    category_label: str
    status: ArticleStatus
    status_label: str
    version: int
    updated_at: CentreTime


class ArticleDetail(ArticleOut):
    history: list[VersionOut] = Field(description="every version, the first first")


class CategoryCount(BaseModel):
    category: ArticleCategory
    label: str
    count: int


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    version: Version
    change_note: str | None = Field(default=None, description="why (修改说明)")

    @field_validator("change_note")
    @classmethod
    def _note(cls, value: str | None) -> str | None:
        if value and len(value) > MAX_NOTE:
            raise ValueError(f"修改说明最多 {MAX_NOTE} 字(现在 {len(value)} 字)")
        return value or None


class SearchHitOut(BaseModel):
    kind: str = Field(description="article or script")
    ref: int | str = Field(description="the article id or the script id")
    title: str
    category: ArticleCategory
    category_label: str
    score: float
    snippet: str = Field(description="the part of the body around the query terms")
    highlights: list[tuple[int, int]] = Field(description="[start, end) spans of snippet to highlight")
    title_highlights: list[tuple[int, int]]
    source: str | None
    url: str = Field(description="the page that shows it")


class SearchResult(BaseModel):
    query: str
    count: int
    took_ms: float
    hits: list[SearchHitOut]


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="forbid")

    as_of: datetime | None = Field(
        default=None, description="the as_of of the changes view that was read (default: now)"
    )


class VisitOut(BaseModel):
    user_id: int
    last_visit_at: CentreTime


class ScriptOut(BaseModel):
    id: str
    stage: str
    stage_name: str
    scenario: str
    title: str
    steps: list[str]
    avoid: list[str]
    source: str
    url: str


class StageOut(BaseModel):
    id: str
    name: str
    count: int
    scenarios: list[str]


def _summary(article: Article) -> ArticleSummary:
    return ArticleSummary(**kb.article_summary(article))


def _script_out(script: Script, stage_names: dict[str, str]) -> ScriptOut:
    return ScriptOut(
        id=script.id,
        stage=script.stage,
        stage_name=stage_names.get(script.stage, script.stage),
        scenario=script.scenario,
        title=script.title,
        steps=list(script.steps),
        avoid=list(script.avoid),
        source=script.source,
        url=script_url(script),
    )


def clamp_as_of(as_of: datetime | None) -> datetime:
    """A reader can mark as read what was there when the view was made, not the future."""
    now = utcnow()
    if as_of is None:
        return now
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=now.tzinfo)
    return min(as_of, now)


# ---------------------------------------------------------------- articles


@router.get("/categories")
def categories(user: CurrentUser, session: DB, status: ArticleStatus = ArticleStatus.PUBLISHED) -> list[CategoryCount]:
    """How many articles each category has (分类浏览), every category listed."""
    check_status_visible(user, status)
    counts = kb.category_counts(session, status)
    return [CategoryCount(category=c, label=c.label, count=counts[c.value]) for c in ArticleCategory]


@router.get("/articles")
def list_articles(
    user: CurrentUser,
    session: DB,
    category: ArticleCategory | None = None,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    limit: int = Query(50, ge=1, le=200),
    offset: Offset = 0,
) -> list[ArticleSummary]:
    """Browse by category and status, the most recently changed first. Drafts: editors only."""
    check_status_visible(user, status)
    found = kb.list_articles(session, category=category, status=status, limit=limit, offset=offset)
    return [_summary(article) for article in found]


@router.post("/articles", status_code=201, dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def create_article(body: ArticleCreate, request: Request, user: CurrentUser, session: DB) -> ArticleOut:
    article = kb.do_create_article(session, user.id, body)
    commit_and_index(request, session, article)
    return ArticleOut.model_validate(article)


@router.get("/articles/{article_id}")
def get_article(article_id: Id, user: CurrentUser, session: DB) -> ArticleDetail:
    """The current text with every version (for the history and the diffs)."""
    article = readable_article(session, user, article_id)
    versions = [VersionOut.model_validate(v) for v in kb.history(session, article_id)]
    return ArticleDetail.model_validate({**ArticleOut.model_validate(article).model_dump(), "history": versions})


@router.patch("/articles/{article_id}", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def update_article(
    article_id: Id, body: ArticleUpdate, request: Request, user: CurrentUser, session: DB
) -> ArticleOut:
    """Save an edit of version ``version``; 409 (and nothing saved) when someone saved since."""
    article = kb.do_update_article(session, user.id, article_id, body)
    commit_and_index(request, session, article)
    return ArticleOut.model_validate(article)


def _set_status(
    request: Request, user: User, session: Session, article_id: int, status: ArticleStatus, body: StatusChange
) -> ArticleOut:
    article = kb.do_set_status(session, user.id, article_id, status, body.version, body.change_note)
    commit_and_index(request, session, article)
    return ArticleOut.model_validate(article)


@router.post("/articles/{article_id}/publish", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def publish(article_id: Id, body: StatusChange, request: Request, user: CurrentUser, session: DB) -> ArticleOut:
    return _set_status(request, user, session, article_id, ArticleStatus.PUBLISHED, body)


@router.post("/articles/{article_id}/archive", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def archive(article_id: Id, body: StatusChange, request: Request, user: CurrentUser, session: DB) -> ArticleOut:
    return _set_status(request, user, session, article_id, ArticleStatus.ARCHIVED, body)


# ---------------------------------------------------------------- search


@router.get("/search")
def search_articles(
    request: Request,
    user: CurrentUser,
    q: str = Query(description="words or a question; traditional characters are fine"),
    category: ArticleCategory | None = None,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    limit: int = Query(10, ge=1, le=50),
) -> SearchResult:
    """Ranked hits (articles and situation scripts), each with a snippet and the spans to highlight."""
    check_status_visible(user, status)
    hits, took = search(request, q, category=category, status=status, limit=limit)
    rulebook = rulebook_of(request)
    return SearchResult(
        query=q,
        count=len(hits),
        took_ms=round(took, 2),
        hits=[
            SearchHitOut(
                kind=hit.kind,
                ref=hit.ref,
                title=hit.title,
                category=hit.category,
                category_label=hit.category_label,
                score=hit.score,
                snippet=hit.snippet,
                highlights=list(hit.highlights),
                title_highlights=list(hit.title_highlights),
                source=hit.source,
                url=hit_url(hit, rulebook),
            )
            for hit in hits
        ],
    )


# ---------------------------------------------------------------- what changed since my last visit


@router.get("/changes")
def changes(user: CurrentUser, session: DB) -> ChangesView:
    """Published articles new or changed since my last "mark as read", with what changed."""
    return kb.what_changed(session, user.id)


@router.post("/changes/read")
def mark_read(user: CurrentUser, session: DB, body: MarkRead | None = None) -> VisitOut:
    """Mark the changes as read up to ``as_of`` (send the one the changes view gave)."""
    kb.do_mark_read(session, user.id, clamp_as_of(body.as_of if body else None))
    return VisitOut(user_id=user.id, last_visit_at=kb.last_visit(session, user.id))


# ---------------------------------------------------------------- situation scripts (话术)


@router.get("/stages")
def stages(request: Request, user: CurrentUser) -> list[StageOut]:
    """The five call stages in order, with how many scripts and which scenarios each has."""
    rulebook = rulebook_of(request)
    return [
        StageOut(
            id=group.stage.id,
            name=group.stage.name,
            count=len(group.scripts),
            scenarios=kb.script_scenarios(rulebook, group.stage.id),
        )
        for group in kb.script_stages(rulebook)
    ]


def _stage_names(rulebook: Rulebook | None) -> dict[str, str]:
    return {group.stage.id: group.stage.name for group in kb.script_stages(rulebook)}


@router.get("/scripts")
def scripts(
    request: Request, user: CurrentUser, stage: str | None = None, scenario: str | None = None
) -> list[ScriptOut]:
    """Situation scripts by stage (opening, gathering, providing, follow_up, closing) and scenario."""
    rulebook = rulebook_of(request)
    names = _stage_names(rulebook)
    return [_script_out(s, names) for s in kb.list_scripts(rulebook, stage=stage or None, scenario=scenario or None)]


@router.get("/scripts/{script_id}")
def script(script_id: str, request: Request, user: CurrentUser) -> ScriptOut:
    rulebook = rulebook_of(request)
    return _script_out(kb.get_script(script_id, rulebook), _stage_names(rulebook))
