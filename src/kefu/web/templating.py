"""The Jinja2 templates of the pages, and what every page gets in its context."""

from __future__ import annotations

from datetime import datetime
from importlib import resources
from typing import Any

from fastapi.templating import Jinja2Templates

from kefu.core.clock import on_centre_clock
from kefu.core.security import Permission, allowed
from kefu.http.deps import csrf_token

templates = Jinja2Templates(directory=str(resources.files("kefu.web") / "templates"))
templates.env.globals["csrf_token"] = csrf_token


def _shown(value: Any) -> Any:
    """A time printed as it is (``{{ order.created_at }}``) reads on the centre's clock, to the
    minute; the API gives the same values as ISO 8601 with their offset."""
    if isinstance(value, datetime):
        return on_centre_clock(value).strftime("%Y-%m-%d %H:%M")
    return value


templates.env.finalize = _shown


def _clock(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``{{ v.created_at|clock('%Y-%m-%d') }}``: a stored time (or one in ISO 8601, as JSON
    columns keep them) on the centre's clock, in ``fmt``; text that is no time shows as it is."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return "" if value is None else on_centre_clock(value).strftime(fmt)


templates.env.filters["clock"] = _clock


def page_context(user: Any) -> dict[str, Any]:
    """``user`` for the header and ``can('customer.view')`` for what the menu offers."""
    if user is None:
        return {"user": None, "can": lambda permission: False}
    return {"user": user, "can": lambda permission: allowed(user.role, Permission(permission))}
