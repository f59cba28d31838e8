"""Errors a user can act on, shared by the services, the API and the pages."""

from __future__ import annotations

from typing import Any


class KefuError(Exception):
    """Something the user can fix; ``str()`` says what and where, in Chinese. ``details`` go into
    the API's answer beside ``detail`` (e.g. ``missing``: the fields a template still needs)."""

    status = 400
    # A refusal that must still be saved: a failed login counts towards the lock-out, a failed
    # identity check belongs in the audit log.
    keep_changes = False

    def __init__(self, message: str = "", *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


class NotFound(KefuError):
    status = 404


class Forbidden(KefuError):
    status = 403


class Conflict(KefuError):
    """Somebody else saved first (optimistic locking) or the change contradicts the state."""

    status = 409


class Invalid(KefuError):
    status = 422
