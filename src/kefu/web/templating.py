"""The Jinja2 templates of the pages, and what every page gets in its context."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi.templating import Jinja2Templates

from kefu.core.security import Permission, allowed
from kefu.web.deps import csrf_token

templates = Jinja2Templates(directory=str(resources.files("kefu.web") / "templates"))
templates.env.globals["csrf_token"] = csrf_token


def page_context(user: Any) -> dict[str, Any]:
    """``user`` for the header and ``can('customer.view')`` for what the menu offers."""
    if user is None:
        return {"user": None, "can": lambda permission: False}
    return {"user": user, "can": lambda permission: allowed(user.role, Permission(permission))}
