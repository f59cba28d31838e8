"""Server-rendered pages (Chinese, 1366×768, keyboard-friendly). Forms post back (PRG)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, get_origin

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from kefu.core import validation
from kefu.core.db import attempt
from kefu.core.errors import KefuError
from kefu.core.fields import MAX_ID
from kefu.web.templating import page_context, templates


def render(request: Request, name: str, user: Any, status_code: int = 200, **context: Any) -> HTMLResponse:
    flash = request.session.pop("flash", None)
    return templates.TemplateResponse(
        request, name, {**page_context(user), "flash": flash, **context}, status_code=status_code
    )


def redirect(url: str, flash: str | None = None, request: Request | None = None) -> RedirectResponse:
    if flash and request is not None:
        request.session["flash"] = flash
    return RedirectResponse(url, status_code=303)


def form_int(value: Any) -> int | None:
    """A whole number from a form field (an id, a version): None when empty, not a number, or
    past what a database column holds (no row can have it)."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


Body = TypeVar("Body", bound=BaseModel)
PAGE_FIELDS = frozenset({"csrf", "back"})  # the page's own fields, never part of the API's body


def form_body(model: type[Body], form: Mapping[str, Any]) -> Body:
    """A posted form as the API's body for the same action: the CSRF token and the page to go back
    to dropped, a field left empty (a form sends "") is a field not sent, and a list field takes
    every value sent under its name (checkboxes, multiple selects). Raises pydantic's
    ``ValidationError``."""
    data: dict[str, Any] = {
        name: value for name, value in form.items() if name not in PAGE_FIELDS and str(value).strip() != ""
    }
    getlist = getattr(form, "getlist", None)
    for name, field in model.model_fields.items():
        if getlist is not None and get_origin(field.annotation) is list:
            values = [value for value in getlist(name) if str(value).strip() != ""]
            if values:
                data[name] = values
    return model.model_validate(data)


def form_problems(problem: ValidationError, labels: Mapping[str, str]) -> str:
    """What is wrong with a form, one 「字段:原因」 per problem, joined by ;."""
    return ";".join(
        (labels.get(str(e["loc"][0]), "") + ":" if e["loc"] else "") + validation.message(e) for e in problem.errors()
    )


def safe_next(target: str | None) -> str:
    """A path on this site to go to after login; anything else is the workbench: //host, and
    /\\host or /<tab>/host (browsers read a backslash as a slash and drop tabs and newlines)."""
    if not target or any(ord(ch) < 32 for ch in target):
        return "/"
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


async def submit_form(
    request: Request,
    session: Session,
    model: type[Body],
    default: str,
    action: Callable[[Body], Any],
    done: str | Callable[[Any], str | None] | None,
    labels: Mapping[str, str],
    area: str,
    *,
    refused: str = "没有保存:",
    to: Callable[[Any], str] | None = None,
) -> RedirectResponse:
    """A page's form as the API's body, given to ``action`` in a savepoint; back to the page it
    came from (its ``back`` field, if a page of ``area`` on this site, else ``default``) with what
    happened — the refusal in words, nothing of a refused action kept. On success ``done`` (or
    ``done`` of what the action returned) is the message and ``to`` of it, if given, the page."""
    form = await request.form()
    back = str(form.get("back") or "")
    if not (back.startswith(area) and "//" not in back):
        back = default
    try:
        body = form_body(model, form)
    except ValidationError as problem:
        return redirect(back, refused + form_problems(problem, labels), request)
    try:
        with attempt(session):
            result = action(body)
    except KefuError as error:
        return redirect(back, str(error), request)
    message = done(result) if callable(done) else done
    return redirect(to(result) if to is not None else back, message, request)
