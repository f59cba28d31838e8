"""知识库: search, category browsing, articles with their history and last change, "what changed
since my last visit", the situation scripts by call stage, and the editors' forms."""

from __future__ import annotations

import difflib
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import validation
from kefu.core.db import attempt
from kefu.core.errors import Conflict, Invalid, KefuError
from kefu.core.fields import Id, Version
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, require
from kefu.knowledge import queries
from kefu.knowledge import service as kb
from kefu.knowledge.api import Scripts
from kefu.knowledge.models import Article, ArticleCategory, ArticleStatus
from kefu.knowledge.schemas import (
    ArticleChange,
    ArticleCreate,
    ArticleFilter,
    ArticleUpdate,
    MarkRead,
    SearchQuery,
    StatusChange,
)
from kefu.web.pages.common import redirect, render

router = APIRouter(include_in_schema=False)

FORM_FIELDS = ("title", "category", "keywords", "source", "body", "status", "change_note")
FORM_LABELS = {**kb.FIELD_LABELS, "change_note": "修改说明", "version": "版本"}
SEARCH_LIMIT = 20


# ---------------------------------------------------------------- helpers


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


# ---------------------------------------------------------------- search and browsing


def _choice(choices: Any, value: str) -> Any:
    """A category or status from the address bar, or None for anything else (a link, not a form)."""
    return choices(value) if value in {c.value for c in choices} else None


@router.get("/knowledge")
def knowledge_home(
    request: Request,
    user: CurrentUser,
    session: DB,
    rulebook: Scripts,
    q: str = "",
    category: str = "",
    status: str = "",
) -> HTMLResponse:
    chosen = _choice(ArticleCategory, category)
    wanted = _choice(ArticleStatus, status) or ArticleStatus.PUBLISHED
    result, error, articles = None, None, []
    q = q.strip()
    if q:
        try:
            result = queries.search(
                session, user, SearchQuery(q=q, category=chosen, status=wanted, limit=SEARCH_LIMIT), rulebook
            )
        except Invalid as problem:
            error = str(problem)
    else:
        articles = queries.browse(session, user, ArticleFilter(category=chosen, status=wanted, limit=100))
    return render(
        request,
        "knowledge.html",
        user,
        status_code=422 if error else 200,
        q=q,
        category=chosen,
        status=wanted,
        categories=queries.category_menu(session, user),
        result=result,
        error=error,
        articles=articles,
        changes_count=queries.latest_changes(session, user.id).total,
    )


# ---------------------------------------------------------------- what changed since my last visit


@router.get("/knowledge/changes")
def changes_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    view = kb.what_changed(session, user.id)
    return render(
        request,
        "knowledge_changes.html",
        user,
        view=view,
        since=view.since,
        first_visit_days=kb.FIRST_VISIT_WINDOW.days,
        entries=[change_view(session, change) for change in view.changes],
        names=queries.editor_names(session, (i for c in view.changes for i in c.editor_ids)),
    )


@router.post("/knowledge/changes/read")
async def changes_read(request: Request, user: CurrentUser, session: DB) -> Response:
    form = await request.form()
    try:
        body = MarkRead(as_of=form.get("as_of") or None)
    except ValidationError:  # a form from a page of long ago: read up to now
        body = MarkRead()
    kb.do_mark_read(session, user.id, body.as_of)
    return redirect("/knowledge/changes", "已全部标为已读", request)


# ---------------------------------------------------------------- situation scripts


@router.get("/knowledge/scripts")
def scripts_page(
    request: Request, user: CurrentUser, rulebook: Scripts, stage: str = "", scenario: str = ""
) -> HTMLResponse:
    stages = queries.stages(rulebook)
    current = next((s for s in stages if s.id == stage), stages[0] if stages else None)
    scripts = queries.scripts(rulebook, stage=current.id, scenario=scenario or None) if current else []
    return render(
        request,
        "knowledge_scripts.html",
        user,
        stages=stages,
        current=current,
        scenario=scenario if current and scenario in current.scenarios else "",
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
        with attempt(session):
            saved = kb.do_update_article(session, user.id, article_id, change)
    except Conflict as problem:
        current = kb.get_article(session, article_id)
        base = kb.get_version(session, article_id, change.version) if 0 < change.version < current.version else None
        conflict = {
            "message": str(problem),
            "version": current.version,
            "fields": field_changes(base, current) if base else [],
            "diff": text_diff(base.body, current.body) if base and base.body != current.body else [],
            "editor": queries.editor_names(session, [current.editor_id]).get(current.editor_id or 0, ""),
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
    return redirect(f"/knowledge/{article_id}", f"已保存为第 {saved.version} 版", request)


STATUS_ACTIONS = {
    ArticleStatus.PUBLISHED: "已发布",
    ArticleStatus.ARCHIVED: "已归档",
    ArticleStatus.DRAFT: "已改为草稿",
}


@router.post("/knowledge/{article_id:int}/status", dependencies=[require(Permission.KNOWLEDGE_EDIT)])
async def set_status(request: Request, article_id: Id, user: CurrentUser, session: DB) -> Response:
    """Publish, archive or take back to draft (the buttons of the article page); a refusal
    comes back to the article with its reason."""
    form = await request.form()
    status = str(form.get("status", ""))
    try:
        body = StatusChange(version=form.get("version"), change_note=form.get("change_note") or None)
    except ValidationError as problem:
        error = problem.errors()[0]
        if error["loc"] == ("version",):
            raise Invalid("缺少版本号,请刷新页面后重试") from None
        raise Invalid(validation.message(error)) from None
    try:
        with attempt(session):
            article = kb.do_set_status(session, user.id, article_id, status, body.version, body.change_note)
    except KefuError as problem:
        return redirect(f"/knowledge/{article_id}", str(problem), request)
    return redirect(f"/knowledge/{article_id}", f"「{article.title}」{STATUS_ACTIONS[article.status]}", request)


# ---------------------------------------------------------------- one article


@router.get("/knowledge/{article_id:int}")
def article_page(
    request: Request, article_id: Id, user: CurrentUser, session: DB, v: Version | None = None
) -> HTMLResponse:
    article = queries.readable_article(session, user, article_id)
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
    return render(
        request,
        "knowledge_article.html",
        user,
        article=article,
        shown=shown,
        versions=list(reversed(versions)),
        last_change=last_change,
        names=queries.editor_names(session, [article.author_id, *(x.editor_id for x in versions)]),
    )
