"""Knowledge base: articles with versions, the "what changed since my last visit" view, and the
rulebook's situation scripts (SPEC §6, seed 004 内部知识库: 产品手册、常见问题解答、标准流程和最新政策,
关键词搜索和分类浏览, 每天抽出15-30分钟浏览最新更新内容).

The ``do_*`` functions are the only writers; each records its change in the audit log and
makes the article's new text searchable (``kefu.knowledge.search``), in the same transaction: a
rolled-back edit is never found, a committed one at once, by every process. Reads that depend on
who reads (drafts are for editors) and the answers' shapes are in ``queries``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core import audit
from kefu.core.changes import apply_change, check_version, created, plain
from kefu.core.clock import on_centre_clock, utc_as_stored
from kefu.core.db import utcnow
from kefu.core.errors import Invalid, NotFound
from kefu.knowledge import search
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus, ArticleVersion, ReaderVisit
from kefu.knowledge.schemas import ArticleChange, ArticleCreate, ArticleUpdate, ChangesView, FieldChange, ScriptOut
from kefu.rulebook.loader import load_rulebook
from kefu.rulebook.schema import Rulebook, Script, Stage

CONTENT_FIELDS = ("title", "category", "body", "keywords", "source")
FIELD_LABELS = {
    "title": "标题",
    "category": "分类",
    "body": "正文",
    "keywords": "关键词",
    "source": "来源",
    "status": "状态",
}
STATUS_NOTES = {
    ArticleStatus.PUBLISHED: "发布",
    ArticleStatus.ARCHIVED: "归档",
    ArticleStatus.DRAFT: "改为草稿",
}
# A reader's first visit shows what changed in this many days (there is no earlier visit to go by).
FIRST_VISIT_WINDOW = timedelta(days=7)


# ---------------------------------------------------------------- reading articles


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"知识文章 {article_id} 不存在")
    return article


def list_articles(
    session: Session,
    *,
    category: ArticleCategory | str | None = None,
    status: ArticleStatus | str | None = ArticleStatus.PUBLISHED,
    limit: int = 50,
    offset: int = 0,
) -> list[Article]:
    """Browsing by category (分类浏览): the most recently changed first. ``status=None``: all."""
    query = select(Article).order_by(Article.updated_at.desc(), Article.id.desc()).limit(limit).offset(offset)
    if category is not None:
        query = query.where(Article.category == ArticleCategory(category))
    if status is not None:
        query = query.where(Article.status == ArticleStatus(status))
    return list(session.scalars(query))


def category_counts(session: Session, status: ArticleStatus | None = ArticleStatus.PUBLISHED) -> dict[str, int]:
    """Articles per category, every category listed (for the browse menu)."""
    query = select(Article.category, func.count()).group_by(Article.category)
    if status is not None:
        query = query.where(Article.status == status)
    counts = {ArticleCategory(category).value: n for category, n in session.execute(query)}
    return {category.value: counts.get(category.value, 0) for category in ArticleCategory}


def history(session: Session, article_id: int) -> list[ArticleVersion]:
    """Every version of an article, the first first."""
    get_article(session, article_id)
    return list(
        session.scalars(
            select(ArticleVersion).where(ArticleVersion.article_id == article_id).order_by(ArticleVersion.number)
        )
    )


def get_version(session: Session, article_id: int, number: int) -> ArticleVersion:
    version = session.scalar(
        select(ArticleVersion).where(ArticleVersion.article_id == article_id, ArticleVersion.number == number)
    )
    if version is None:
        raise NotFound(f"知识文章 {article_id} 没有第 {number} 版")
    return version


# ---------------------------------------------------------------- writing articles


def _snapshot(article: Article, editor_id: int | None, note: str | None) -> ArticleVersion:
    return ArticleVersion(
        article_id=article.id,
        number=article.version,
        editor_id=editor_id,
        at=utcnow(),
        title=article.title,
        category=article.category,
        body=article.body,
        keywords=list(article.keywords or []),
        status=article.status,
        source=article.source,
        change_note=note,
    )


# What a refused edit tells its author: the edit is not lost on the screen, but it is not saved.
REFRESH = "您的修改没有保存。请打开最新版本,核对后重新修改再保存"


def do_create_article(session: Session, actor_id: int | None, data: ArticleCreate) -> Article:
    values = data.model_dump(exclude={"change_note"})
    article = Article(**values, author_id=actor_id, editor_id=actor_id)
    session.add(article)
    session.flush()
    session.add(_snapshot(article, actor_id, data.change_note or "新建"))
    search.index_article(session, article)
    audit.record(
        session,
        actor_id,
        audit.AuditAction.CREATE,
        audit.AuditEntity.ARTICLE,
        article.id,
        created(values),
        detail=data.change_note,
    )
    return article


def do_update_article(session: Session, actor_id: int | None, article_id: int, data: ArticleUpdate) -> Article:
    """Save an edit made on version ``data.version``. If someone saved in between, the edit is
    refused (``Conflict``) and nothing is overwritten; every saved edit becomes a new version."""
    article = get_article(session, article_id)
    apply_change(
        session,
        actor_id,
        article,
        data.model_dump(exclude_none=True, include=set(CONTENT_FIELDS)),
        entity=audit.AuditEntity.ARTICLE,
        what=f"「{article.title}」",
        version=data.version,
        detail=data.change_note,
        require_change=True,
        touched={"editor_id": actor_id},
        refresh=REFRESH,
    )
    session.add(_snapshot(article, actor_id, data.change_note))
    search.index_article(session, article)
    return article


def do_set_status(
    session: Session,
    actor_id: int | None,
    article_id: int,
    status: ArticleStatus | str,
    version: int,
    change_note: str | None = None,
) -> Article:
    """Publish, archive, or take back to draft; a new version like any other change."""
    article = get_article(session, article_id)
    try:
        status = ArticleStatus.parse(status)
    except ValueError as error:
        raise Invalid(str(error)) from None
    what = f"「{article.title}」"
    check_version(article, version, what, refresh=REFRESH)
    if article.status == status:
        raise Invalid(f"文章已是「{status.label}」状态")
    apply_change(
        session,
        actor_id,
        article,
        {"status": status},
        entity=audit.AuditEntity.ARTICLE,
        what=what,
        detail=change_note,
        touched={"editor_id": actor_id},
        refresh=REFRESH,
    )
    session.add(_snapshot(article, actor_id, change_note or STATUS_NOTES[status]))
    search.index_article(session, article)
    return article


def index_scripts(session: Session, rulebook: Rulebook | None = None) -> bool:
    """Make the rulebook's situation scripts searchable if they are not yet (at startup, and
    before a search); whether anything was written. Not a change anyone made: no audit entry."""
    return search.index_scripts(session, rulebook or default_rulebook())


def reindex_articles(session: Session) -> int:
    """Index every article again (after a change of the segmentation, e.g. ``DOMAIN_WORDS``)."""
    return search.index_articles(session, session.scalars(select(Article).order_by(Article.id)))


# ---------------------------------------------------------------- what changed since my last visit


def _diff(old: ArticleVersion, new: ArticleVersion) -> tuple[list[FieldChange], str, int, int]:
    fields = []
    for name in ("title", "category", "keywords", "source", "status", "body"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            shown = (None, None) if name == "body" else (plain(before), plain(after))
            fields.append(FieldChange(field=name, label=FIELD_LABELS[name], old=shown[0], new=shown[1]))
    body_diff, added, removed = "", 0, 0
    if old.body != new.body:
        lines = list(
            difflib.unified_diff(
                old.body.splitlines(),
                new.body.splitlines(),
                fromfile=f"第 {old.number} 版",
                tofile=f"第 {new.number} 版",
                lineterm="",
            )
        )
        body_diff = "\n".join(lines)
        added = sum(1 for line in lines[2:] if line.startswith("+"))
        removed = sum(1 for line in lines[2:] if line.startswith("-"))
    return fields, body_diff, added, removed


def last_visit(session: Session, user_id: int) -> datetime | None:
    visit = session.get(ReaderVisit, user_id)
    return utc_as_stored(visit.last_visit_at) if visit else None


def what_changed(session: Session, user_id: int, now: datetime | None = None) -> ChangesView:
    """Published articles created or changed since the user's last visit (on the first visit:
    in the last ``FIRST_VISIT_WINDOW``), newest first, each with what changed since the version
    the reader could last have seen; articles withdrawn since are listed as archived.
    Drafts are not shown. Pass ``as_of`` of the result to ``do_mark_read``."""
    as_of = utc_as_stored(now or utcnow())
    previous = last_visit(session, user_id)
    since = previous or as_of - FIRST_VISIT_WINDOW
    recent = list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.at > since, ArticleVersion.at <= as_of)
            .order_by(ArticleVersion.article_id, ArticleVersion.number)
        )
    )
    by_article: dict[int, list[ArticleVersion]] = {}
    for version in recent:
        by_article.setdefault(version.article_id, []).append(version)
    changes = []
    for article_id, versions in by_article.items():
        current = versions[-1]
        base = session.scalar(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id, ArticleVersion.number < versions[0].number)
            .order_by(ArticleVersion.number.desc())
            .limit(1)
        )
        seen = base is not None and base.status == ArticleStatus.PUBLISHED
        if current.status != ArticleStatus.PUBLISHED and not seen:
            continue  # a draft, or withdrawn before the reader could see it
        if seen and current.status == ArticleStatus.PUBLISHED:
            fields, body_diff, added, removed = _diff(base, current)
            if not fields:
                continue  # changed and changed back
        else:
            fields, body_diff, added, removed = [], "", 0, 0
        changes.append(
            ArticleChange(
                article_id=article_id,
                title=current.title,
                category=current.category,
                category_label=ArticleCategory(current.category).label,
                status=current.status,
                is_new=not seen,
                archived=seen and current.status != ArticleStatus.PUBLISHED,
                from_version=base.number if seen and base is not None else None,
                to_version=current.number,
                changed_at=utc_as_stored(current.at),
                editor_ids=list(dict.fromkeys(v.editor_id for v in versions if v.editor_id is not None)),
                change_notes=[v.change_note for v in versions if v.change_note],
                fields=fields,
                body_diff=body_diff,
                added_lines=added,
                removed_lines=removed,
            )
        )
    changes.sort(key=lambda change: (change.changed_at, change.article_id), reverse=True)
    return ChangesView(user_id=user_id, since=previous, as_of=as_of, changes=changes)


def do_mark_read(session: Session, user_id: int, as_of: datetime | None = None) -> ReaderVisit:
    """Remember that the user has read the changes up to ``as_of`` (default: now; a reader can
    mark as read what was there when the view was made, not the future; a time without a zone
    is UTC, as ``as_of`` is given). Only this user's visit moves; a later ``as_of`` than the
    one stored never goes backwards."""
    now = utc_as_stored(utcnow())
    moment = now if as_of is None else min(utc_as_stored(as_of), now)
    visit = session.get(ReaderVisit, user_id)
    if visit is None:
        visit = ReaderVisit(user_id=user_id, last_visit_at=moment)
        session.add(visit)
    elif moment > utc_as_stored(visit.last_visit_at):
        visit.last_visit_at = moment
    session.flush()
    audit.record(
        session,
        user_id,
        audit.AuditAction.READ,
        audit.AuditEntity.KNOWLEDGE,
        user_id,
        detail=f"已阅读截至 {on_centre_clock(moment):%Y-%m-%d %H:%M} 的更新",
    )
    return visit


# ---------------------------------------------------------------- situation scripts (read-only, rulebook)


@cache
def default_rulebook() -> Rulebook:
    return load_rulebook()


@dataclass(frozen=True)
class StageScripts:
    stage: Stage
    scripts: list[Script]


def script_stages(rulebook: Rulebook | None = None) -> list[StageScripts]:
    """The call stages in order, each with its scripts (the rulebook's order)."""
    rulebook = rulebook or default_rulebook()
    return [
        StageScripts(stage=stage, scripts=[s for s in rulebook.scripts if s.stage == stage.id])
        for stage in rulebook.stages
    ]


def script_scenarios(rulebook: Rulebook | None = None, stage: str | None = None) -> list[str]:
    """The distinct scenarios (无声电话, 用户愤怒, …), optionally of one stage, in rulebook order."""
    rulebook = rulebook or default_rulebook()
    return list(dict.fromkeys(s.scenario for s in rulebook.scripts if stage is None or s.stage == stage))


def list_scripts(
    rulebook: Rulebook | None = None, *, stage: str | None = None, scenario: str | None = None
) -> list[Script]:
    rulebook = rulebook or default_rulebook()
    if stage is not None and stage not in {s.id for s in rulebook.stages}:
        raise NotFound(f"没有通话阶段「{stage}」")
    return [
        script
        for script in rulebook.scripts
        if (stage is None or script.stage == stage) and (scenario is None or script.scenario == scenario)
    ]


def get_script(script_id: str, rulebook: Rulebook | None = None) -> Script:
    rulebook = rulebook or default_rulebook()
    for script in rulebook.scripts:
        if script.id == script_id:
            return script
    raise NotFound(f"话术 {script_id} 不存在")


def script_url(script: Script) -> str:
    return f"/knowledge/scripts?stage={script.stage}#{script.id}"


def script_out(script: Script, rulebook: Rulebook | None = None) -> ScriptOut:
    rulebook = rulebook or default_rulebook()
    names = {stage.id: stage.name for stage in rulebook.stages}
    return ScriptOut(
        id=script.id,
        stage=script.stage,
        stage_name=names.get(script.stage, script.stage),
        scenario=script.scenario,
        title=script.title,
        steps=list(script.steps),
        avoid=list(script.avoid),
        source=script.source,
        url=script_url(script),
    )
