"""What /api/auth and /api/sessions accept and answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kefu.accounts.passwords import MAX_LENGTH
from kefu.core.fields import CentreTime


class Login(BaseModel):
    agent_no: str = Field(max_length=64, description="工号")
    password: str = Field(max_length=MAX_LENGTH)


class PasswordChange(BaseModel):
    old: str = Field(max_length=MAX_LENGTH)
    new: str = Field(max_length=MAX_LENGTH)


class UserOut(BaseModel):
    id: int
    agent_no: str
    name: str
    role: str
    role_label: str


class LoginOut(BaseModel):
    user: UserOut
    csrf: str = Field(description="later writes send it as X-CSRF-Token")
    must_change_password: bool = Field(description="first login or expired: only the password can be changed")


class PasswordChanged(BaseModel):
    ok: bool
    csrf: str
    ended_sessions: int = Field(description="logins elsewhere that ended with the old password")


class SessionOut(BaseModel):
    """A login (a browser or program that is logged in)."""

    id: int
    user_id: int
    agent_no: str
    name: str
    created_at: CentreTime
    last_seen_at: CentreTime
    address: str | None
    user_agent: str | None
    current: bool = Field(description="the session this request came with")


class Ended(BaseModel):
    ended: int
