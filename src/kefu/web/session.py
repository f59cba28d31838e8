"""What the signed session cookie remembers: who is logged in, when they were last active,
and which customers they verified during the current call."""

from __future__ import annotations

import time

from fastapi import Request

from kefu.accounts import service as accounts
from kefu.accounts.models import User

VERIFICATION_MINUTES = 30  # a verification is for this call, not for the rest of the day


def start_session(request: Request, user: User) -> bool:
    """Log ``user`` in; True when the password is too old and must be changed first."""
    request.session.clear()
    expired = accounts.password_expired(user, request.app.state.settings)
    request.session.update({"user_id": user.id, "seen": time.time()})
    if expired:
        request.session["must_change_password"] = True
    return expired


def remember_verification(request: Request, customer_id: int, level: int) -> None:
    verified = dict(request.session.get("verified", {}))
    verified[str(customer_id)] = [level, time.time()]
    request.session["verified"] = verified


def verified_level(request: Request, customer_id: int) -> int:
    level, at = request.session.get("verified", {}).get(str(customer_id), [0, 0.0])
    return level if time.time() - at < VERIFICATION_MINUTES * 60 else 0


def forget_verifications(request: Request) -> None:
    request.session.pop("verified", None)
