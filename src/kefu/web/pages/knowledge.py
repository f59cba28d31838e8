"""知识库: search, category browsing, articles with their history and last change, "what changed
since my last visit", the situation scripts by call stage, and the editors' forms."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import validation
from kefu.core.clock import centre_tz
from kefu.core.errors import Conflict, Invalid, KefuError
from kefu.core.fields import Id, Version
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, require
from kefu.knowledge import service as kb
from kefu.knowledge.api import (
    can_edit,
    check_status_visible,
    clamp_as_of,
    commit_and_index,
    hit_url,
    readable_article,
    rulebook_of,
    search,
)
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.knowledge.schemas import ArticleChange, ArticleCreate, ArticleUpdate
from kefu.web.pages.common import redirect, render

router = APIRouter(include_in_schema=False)

FORM_FIELDS = ("title", "category", "keywords", "source", "body", "status", "change_note")
FORM_LABELS = {**kb.FIELD_LABELS, "change_note": "修改说明", "version": "版本"}
SEARCH_LIMIT = 20
WORKBENCH_CHANGES = 5


# ---------------------------------------------------------------- helpers


def clock(request: Request) -> Callable[[datetime | None], str]:
    """Times on the centre's clock (KEFU_TIMEZONE), minutes precision."""
    zone = centre_tz()

    def show(moment: datetime | None) -> str:
        if moment is None:
            return ""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return show


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {
        uid: f"{name}({no})"
        for uid, name, no in session.execute(select(User.id, User.name, User.agent_no).where(User.id.in_(wanted)))
    }


def text_diff(old: str, new: str, context: int = 2) -> list[tuple[str, str]]:
    """Segments ("eq" | "del" | "ins" | "gap", text) showing how ``old`` became ``new``: lines
    first, then characters inside the changed lines (Chinese sentences are long lines), with
    long unchanged stretches shortened to ``context`` lines on each side."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2 * context + 1:
                head = same[:context] if i1 > 0 else []
                tail = same[-context:] if i2 < len(a) else []
                if head:
                    out.append(("eq", "".join(head)))
                out.append(("gap", f"⋯ 未改动 {len(same) - len(head) - len(tail)} 行 ⋯\n"))
                if tail:
                    out.append(("eq", "".join(tail)))
            else:
                out.append(("eq", "".join(same)))
        elif op == "delete":
            out.append(("del", "".join(a[i1:i2])))
        elif op == "insert":
            out.append(("ins", "".join(b[j1:j2])))
        else:
            before, after = "".join(a[i1:i2]), "".join(b[j1:j2])
            chars = difflib.SequenceMatcher(None, before, after, autojunk=False)
            for cop, c1, c2, d1, d2 in chars.get_opcodes():
                if cop == "equal":
                    out.append(("eq", before[c1:c2]))
                else:
                    if c2 > c1:
                        out.append(("del", before[c1:c2]))
                    if d2 > d1:
                        out.append(("ins", after[d1:d2]))
    return _elide(out)


ELIDE_OVER = 160  # unchanged text longer than this is shortened around the changes
ELIDE_KEEP = 50


def _elide(segments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Shorten long unchanged stretches (a paragraph is one line in Chinese) to the characters
    next to a change; "skip" marks what was left out."""
    out: list[tuple[str, str]] = []
    last = len(segments) - 1
    for i, (op, text) in enumerate(segments):
        if op != "eq" or len(text) <= ELIDE_OVER or last == 0:
            out.append((op, text))
            continue
        change_before = i > 0 and segments[i - 1][0] in ("del", "ins")
        change_after = i < last and segments[i + 1][0] in ("del", "ins")
        if change_before:
            out.append(("eq", text[:ELIDE_KEEP]))
        out.append(("skip", "⋯"))
        if change_after:
            out.append(("eq", text[-ELIDE_KEEP:]))
    return out


def _shown(name: str, value: Any) -> str:
    if value is None or value == []:
        return "—"
    if name == "category":
        return ArticleCategory(value).label
    if name == "status":
        return ArticleStatus(value).label
    if name == "keywords":
        return "、".join(value)
    return str(value)


def field_changes(old: Any, new: Any) -> list[dict[str, str]]:
    """What differs between two versions, but the body (shown as a diff), for people."""
    return [
        {
            "field": name,
            "label": kb.FIELD_LABELS[name],
            "old": _shown(name, getattr(old, name)),
            "new": _shown(name, getattr(new, name)),
        }
        for name in ("title", "category", "status", "keywords", "source")
        if getattr(old, name) != getattr(new, name)
    ]


def change_view(session: Session, change: ArticleChange) -> dict[str, Any]:
    """One entry of the "what changed" view, with the body diff by words for the page."""
    diff: list[tuple[str, str]] = []
    if change.from_version is not None and any(f.field == "body" for f in change.fields):
        old = kb.get_version(session, change.article_id, change.from_version)
        new = kb.get_version(session, change.article_id, change.to_version)
        diff = text_diff(old.body, new.body)
    fields = [
        {"label": f.label, "old": _shown(f.field, f.old), "new": _shown(f.field, f.new)}
        for f in change.fields
        if f.field != "body"
    ]
    return {"change": change, "fields": fields, "diff": diff}


def _form_errors(problem: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in problem.errors():
        name = str(error["loc"][0]) if error["loc"] else "form"
        message = validation.message(error)
        if error["type"] == "missing":
            message = f"请填写{FORM_LABELS.get(name, name)}"
        elif error["type"] == "int_parsing":
            message = "应为数字"
        errors.setdefault(name, message)
    return errors


def _form_values(form: Any) -> dict[str, str]:
    return {name: str(form.get(name, "")).strip() for name in FORM_FIELDS}


def _categories(session: Session, user: User) -> list[dict[str, Any]]:
    counts = kb.category_counts(session)
    drafts = kb.category_counts(session, ArticleStatus.DRAFT) if can_edit(user) else {}
    return [
        {"id": c.value, "label": c.label, "count": counts[c.value], "drafts": drafts.get(c.value, 0)}
        for c in ArticleCategory
    ]


def _changes_count(session: Session, user: User) -> int:
    return len(kb.what_changed(session, user.id).changes)


def latest_changes(request: Request, session: Session, user: User, limit: int = WORKBENCH_CHANGES) -> dict[str, Any]:
    """For the workbench card: my unread knowledge changes, newest first, the first ``limit``."""
    view = kb.what_changed(session, user.id)
    return {"items": view.changes[:limit], "total": len(view.changes), "since": view.since, "clock": clock(request)}


# ---------------------------------------------------------------- search and browsing


@router.get("/knowledge")
def knowledge_home(
    request: Request,
    user: CurrentUser,
    session: DB,
    q: str = "",
    category: str = "",
    status: str = "",
) -> HTMLResponse:
    chosen = ArticleCategory(category) if category in {c.value for c in ArticleCategory} else None
    wanted = ArticleStatus(status) if status in {s.value for s in ArticleStatus} else ArticleStatus.PUBLISHED
    check_status_visible(user, wanted)
    hits, took, error, articles = [], 0.0, None, []
    q = q.strip()
    if q:
        try:
            found, took = search(request, q, category=chosen, status=wanted, limit=SEARCH_LIMIT)
            rulebook = rulebook_of(request)
            hits = [{"hit": hit, "url": hit_url(hit, rulebook)} for hit in found]
        except KefuError as problem:
            error = str(problem)
    else:
        articles = kb.list_articles(session, category=chosen, status=wanted, limit=100)
    return render(
        request,
        "knowledge.html",
        user,
        status_code=422 if error else 200,
        q=q,
        category=chosen,
        status=wanted,
        categories=_categories(session, user),
        hits=hits,
        took=took,
        error=error,
        articles=articles,
        changes_count=_changes_count(session, user),
        editor=can_edit(user),
        clock=clock(request),
    )


# ---------------------------------------------------------------- what changed since my last visit


@router.get("/knowledge/changes")
def changes_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    view = kb.what_changed(session, user.id)
    names = user_names(session, (i for c in view.changes for i in c.editor_ids))
    return render(
        request,
        "knowledge_changes.html",
        user,
        view=view,
        since=view.since,
        first_visit_days=kb.FIRST_VISIT_WINDOW.days,
        entries=[change_view(session, change) for change in view.changes],
        names=names,
        clock=clock(request),
    )


@router.post("/knowledge/changes/read")
async def changes_read(request: Request, user: CurrentUser, session: DB) -> Response:
    form = await request.form()
    try:
        as_of = datetime.fromisoformat(str(form.get("as_of", ""))) if form.get("as_of") else None
    except ValueError:
        as_of = None
    kb.do_mark_read(session, user.id, clamp_as_of(as_of))
    return redirect("/knowledge/changes", "已全部标为已读", request)


# ---------------------------------------------------------------- situation scripts


@router.get("/knowledge/scripts")
def scripts_page(request: Request, user: CurrentUser, stage: str = "", scenario: str = "") -> HTMLResponse:
    rulebook = rulebook_of(request)
    groups = kb.script_stages(rulebook)
    current = next((g for g in groups if g.stage.id == stage), groups[0] if groups else None)
    scenarios = kb.script_scenarios(rulebook, current.stage.id) if current else []
    scripts = [s for s in current.scripts if not scenario or s.scenario == scenario] if current else []
    return render(
        request,
        "knowledge_scripts.html",
        user,
        groups=groups,
        current=current,
        scenarios=scenarios,
        scenario=scenario if scenario in scenarios else "",
        scripts=scripts,
    )


# ---------------------------------------------------------------- creating and editing (knowledge.edit)


def _form_page(
    request: Request,
    user: User,
    *,
    article: Article | None,
    values: dict[str, str],
    version: int | None,
    errors: dict[str, str] | None = None,
    conflict: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "knowledge_form.html",
        user,
        status_code=status_code,
        article=article,
        values=values,
        version=version,
        errors=errors or {},
        conflict=conflict,
        categories=list(ArticleCategory),
        labels=FORM_LABELS,
    )


@router.get("/knowledge/new", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def new_article(request: Request, user: CurrentUser, category: str = "") -> HTMLResponse:
    values = dict.fromkeys(FORM_FIELDS, "")
    values.update(category=category or ArticleCategory.FAQ.value, status=ArticleStatus.DRAFT.value)
    return _form_page(request, user, article=None, values=values, version=None)


@router.post("/knowledge/new", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
async def create_article(request: Request, user: CurrentUser, session: DB) -> Response:
    values = _form_values(await request.form())
    try:
        data = ArticleCreate(**{k: v for k, v in values.items() if v != ""})
    except ValidationError as problem:
        return _form_page(
            request, user, article=None, values=values, version=None, errors=_form_errors(problem), status_code=422
        )
    article = kb.do_create_article(session, user.id, data)
    commit_and_index(request, session, article)
    return redirect(f"/knowledge/{article.id}", f"已新建「{article.title}」({article.status.label})", request)


def _values_of(article: Article) -> dict[str, str]:
    return {
        "title": article.title,
        "category": ArticleCategory(article.category).value,
        "keywords": "、".join(article.keywords or []),
        "source": article.source or "",
        "body": article.body,
        "status": ArticleStatus(article.status).value,
        "change_note": "",
    }


@router.get("/knowledge/{article_id:int}/edit", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
def edit_article(request: Request, article_id: Id, user: CurrentUser, session: DB) -> HTMLResponse:
    article = kb.get_article(session, article_id)
    return _form_page(request, user, article=article, values=_values_of(article), version=article.version)


@router.post("/knowledge/{article_id:int}/edit", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
async def save_article(request: Request, article_id: Id, user: CurrentUser, session: DB) -> Response:
    """Save; when someone saved first, nothing is overwritten: the form comes back with the
    user's text, what the other editor changed, and the new version to base the edit on."""
    form = await request.form()
    values = _form_values(form)
    article = kb.get_article(session, article_id)
    try:
        change = ArticleUpdate(
            version=str(form.get("version", "")),
            title=values["title"],
            category=values["category"] or None,
            body=values["body"],
            keywords=values["keywords"],
            source=values["source"] or None,
            change_note=values["change_note"] or None,
        )
    except ValidationError as problem:
        return _form_page(
            request,
            user,
            article=article,
            values=values,
            version=article.version,
            errors=_form_errors(problem),
            status_code=422,
        )
    try:
        saved = kb.do_update_article(session, user.id, article_id, change)
    except Conflict as problem:
        session.rollback()
        current = kb.get_article(session, article_id)
        base = kb.get_version(session, article_id, change.version) if 0 < change.version < current.version else None
        conflict = {
            "message": str(problem),
            "version": current.version,
            "fields": field_changes(base, current) if base else [],
            "diff": text_diff(base.body, current.body) if base and base.body != current.body else [],
            "editor": user_names(session, [current.editor_id]).get(current.editor_id or 0, ""),
        }
        return _form_page(
            request, user, article=current, values=values, version=current.version, conflict=conflict, status_code=409
        )
    except Invalid as problem:
        return _form_page(
            request,
            user,
            article=article,
            values=values,
            version=change.version,
            errors={"form": str(problem)},
            status_code=422,
        )
    commit_and_index(request, session, saved)
    return redirect(f"/knowledge/{article_id}", f"已保存为第 {saved.version} 版", request)


STATUS_ACTIONS = {
    ArticleStatus.PUBLISHED.value: "已发布",
    ArticleStatus.ARCHIVED.value: "已归档",
    ArticleStatus.DRAFT.value: "已改为草稿",
}


@router.post("/knowledge/{article_id:int}/status", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
async def set_status(request: Request, article_id: Id, user: CurrentUser, session: DB) -> Response:
    form = await request.form()
    status = str(form.get("status", ""))
    try:
        version = int(str(form.get("version", "")))
    except ValueError:
        raise Invalid("缺少版本号,请刷新页面后重试") from None
    note = str(form.get("change_note", "")).strip() or None
    if note and len(note) > 300:
        raise Invalid("修改说明最多 300 字")
    try:
        article = kb.do_set_status(session, user.id, article_id, status, version, note)
    except KefuError as problem:
        session.rollback()
        return redirect(f"/knowledge/{article_id}", str(problem), request)
    commit_and_index(request, session, article)
    return redirect(f"/knowledge/{article_id}", f"「{article.title}」{STATUS_ACTIONS[status]}", request)


# ---------------------------------------------------------------- one article


@router.get("/knowledge/{article_id:int}")
def article_page(
    request: Request, article_id: Id, user: CurrentUser, session: DB, v: Version | None = None
) -> HTMLResponse:
    article = readable_article(session, user, article_id)
    versions = kb.history(session, article_id)
    shown = next((x for x in versions if x.number == v), None) if v else None
    current = shown or (versions[-1] if versions else None)
    previous = next((x for x in versions if current and x.number == current.number - 1), None)
    last_change = None
    if current is not None and previous is not None:
        last_change = {
            "from": previous.number,
            "to": current.number,
            "note": current.change_note,
            "fields": field_changes(previous, current),
            "diff": text_diff(previous.body, current.body) if previous.body != current.body else [],
        }
    names = user_names(session, [article.author_id, *(x.editor_id for x in versions)])
    return render(
        request,
        "knowledge_article.html",
        user,
        article=article,
        shown=shown,
        versions=list(reversed(versions)),
        last_change=last_change,
        names=names,
        editor=can_edit(user),
        clock=clock(request),
    )
