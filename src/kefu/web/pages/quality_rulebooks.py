"""规则管理: the rulebook versions, the YAML editor of a draft (errors with their line numbers,
the text kept), the what-if run of a draft on stored calls, and publishing."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from kefu.accounts.models import User
from kefu.core import validation
from kefu.core.db import attempt
from kefu.core.errors import Conflict, Invalid, KefuError
from kefu.core.fields import Id
from kefu.core.security import Permission, allowed
from kefu.http.deps import DB, CurrentUser, require
from kefu.quality import rulebooks
from kefu.quality.drafts import WhatIfIn, merged, rules_of
from kefu.quality.models import RulebookStatus, RulebookVersion
from kefu.quality.rulebooks import DRAFT_NAME
from kefu.quality.whatif import MAX_CALLS, WhatIfResult, whatif
from kefu.web.pages.common import form_int, redirect, render

router = APIRouter(include_in_schema=False)

READ = [require(Permission.QA_REVIEW)]
WRITE = [require(Permission.RULEBOOK_EDIT)]
BASE = "/quality/rulebooks"


def _can_edit(user: User) -> bool:
    return allowed(user.role, Permission.RULEBOOK_EDIT)


@router.get(BASE, dependencies=READ)
def versions_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    current = rulebooks.published(session)
    return render(
        request,
        "quality_rulebooks.html",
        user,
        versions=rulebooks.versions(session),
        current=current,
        can_edit=_can_edit(user),
    )


@router.get(BASE + "/{version_id:int}", dependencies=READ)
def version_page(request: Request, version_id: Id, user: CurrentUser, session: DB) -> HTMLResponse:
    version = rulebooks.get_version(session, version_id)
    rulebook, errors = merged(session, version)
    current = rulebooks.published(session)
    return render(
        request,
        "quality_rulebooks_version.html",
        user,
        version=version,
        current=current,
        rules=rules_of(rulebook) if rulebook else [],
        rulebook_label=rulebook.version if rulebook else None,
        errors=errors,
        can_edit=_can_edit(user),
    )


def _editor(
    request: Request,
    user: User,
    *,
    draft: RulebookVersion | None,
    overlay: str,
    note: str,
    version: int | None,
    errors: list[str] | None = None,
    conflict: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "quality_rulebooks_edit.html",
        user,
        status_code=status_code,
        draft=draft,
        overlay=overlay,
        note=note,
        version=version,
        errors=[{"text": e, "line": _line(e)} for e in errors or []],
        conflict=conflict,
    )


@router.get(BASE + "/new", dependencies=WRITE)
def new_draft_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    """A new draft starts from the published version's text."""
    current = rulebooks.published(session)
    return _editor(request, user, draft=None, overlay=current.overlay if current else "", note="", version=None)


@router.post(BASE + "/new", dependencies=WRITE)
async def create_draft(request: Request, user: CurrentUser, session: DB) -> Response:
    form = await request.form()
    overlay, note = _text(form.get("overlay")), _text(form.get("note")).strip()
    try:
        with attempt(session):
            draft = rulebooks.do_save_draft(session, user.id, overlay, note or None)
    except Invalid as problem:
        errors = problem.details.get("errors", [str(problem)])
        return _editor(
            request, user, draft=None, overlay=overlay, note=note, version=None, errors=errors, status_code=422
        )
    return redirect(f"{BASE}/{draft.id}", f"{draft.label}已保存", request)


@router.get(BASE + "/{version_id:int}/edit", dependencies=WRITE)
def edit_page(request: Request, version_id: Id, user: CurrentUser, session: DB) -> Response:
    draft = rulebooks.get_version(session, version_id)
    if draft.status != RulebookStatus.DRAFT:
        return redirect(f"{BASE}/{draft.id}", f"{draft.label}已发布,不能修改;请另建草稿", request)
    return _editor(request, user, draft=draft, overlay=draft.overlay, note=draft.note or "", version=draft.version)


@router.post(BASE + "/{version_id:int}/edit", dependencies=WRITE)
async def save_draft(request: Request, version_id: Id, user: CurrentUser, session: DB) -> Response:
    draft = rulebooks.get_version(session, version_id)
    form = await request.form()
    overlay, note = _text(form.get("overlay")), _text(form.get("note")).strip()
    opened = _int(form.get("version"))
    try:
        with attempt(session):
            rulebooks.do_save_draft(session, user.id, overlay, note or None, draft_id=draft.id, version=opened)
    except Invalid as problem:
        errors = problem.details.get("errors", [str(problem)])
        return _editor(
            request, user, draft=draft, overlay=overlay, note=note, version=opened, errors=errors, status_code=422
        )
    except Conflict as problem:
        draft = rulebooks.get_version(session, version_id)
        return _editor(
            request,
            user,
            draft=draft,
            overlay=overlay,
            note=note,
            version=opened,
            conflict=str(problem),
            status_code=409,
        )
    return redirect(f"{BASE}/{draft.id}", f"{draft.label}已保存", request)


@router.get(BASE + "/{version_id:int}/whatif", dependencies=WRITE)
def whatif_page(
    request: Request,
    version_id: Id,
    user: CurrentUser,
    session: DB,
    mode: str | None = None,
    size: int = 200,
    seed: int = 0,
    since: str = "",
    until: str = "",
) -> HTMLResponse:
    """The form, and with ``mode`` the comparison (read only, hence a GET: the link can be shared)."""
    version = rulebooks.get_version(session, version_id)
    result: WhatIfResult | None = None
    error: str | None = None
    if mode in ("latest", "random"):
        try:
            start, end = _date(since, "开始日期"), _date(until, "结束日期")
            body = WhatIfIn.model_validate({mode: size, "seed": seed, "since": start, "until": end})
            result = whatif(session, version, body.sample())
        except (KefuError, ValidationError) as problem:
            error = str(problem) if isinstance(problem, KefuError) else validation.message(problem.errors()[0])
    return render(
        request,
        "quality_rulebooks_whatif.html",
        user,
        status_code=422 if error else 200,
        version=version,
        current=rulebooks.published(session),
        result=result,
        error=error,
        form={"mode": mode or "latest", "size": size, "seed": seed, "since": since, "until": until},
        max_calls=MAX_CALLS,
        chart=_chart(result) if result else None,
    )


@router.post(BASE + "/{version_id:int}/publish", dependencies=WRITE)
async def publish(request: Request, version_id: Id, user: CurrentUser, session: DB) -> Response:
    form = await request.form()
    published = rulebooks.do_publish(session, user.id, version_id, version=_int(form.get("version")))
    return redirect(f"{BASE}/{published.id}", f"已发布为{published.label},此后到达的电话按此版本质检", request)


def _line(error: str) -> int | None:
    """The line of a problem in the draft (「规则草稿.yaml:3: …」); None for the centre's files."""
    name, _, rest = error.partition(":")
    number = rest.split(":", 1)[0]
    return int(number) if name == DRAFT_NAME and number.isdigit() else None


def _date(value: str, name: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{name}「{value}」不是有效日期(格式 2026-11-23)") from None


def _text(value: Any) -> str:
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return form_int(value)


def _chart(result: WhatIfResult) -> dict[str, Any]:
    """The histogram of score deltas as bars of an inline SVG."""
    bins = result.histogram()
    top = max((count for _, count, _ in bins), default=0) or 1
    height, step = 120, 56
    bars = [
        {
            "x": index * step,
            "h": round(count / top * height),
            "y": height - round(count / top * height) + 16,
            "count": count,
            "label": label,
            "kind": {1: "up", -1: "down", 0: "flat"}[sign],
        }
        for index, (label, count, sign) in enumerate(bins)
    ]
    return {"bars": bars, "width": max(step * len(bars), step), "height": height, "step": step}
