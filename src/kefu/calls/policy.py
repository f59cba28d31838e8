"""Whose calls a user may read and record (kefu.core.access): a call and its scorecard belong to
the call's agent. Agents reach their own calls, team leads their team's, QA, trainers and
supervisors all of them (trainers only read, with customer data masked)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core import access
from kefu.core.access import Record, Scope
from kefu.core.errors import Forbidden


def check_read(user: User, call: CallRecord) -> None:
    access.check(user, Record.CALL, [call.agent], what=f"通话 {call.id}")


def _recording_scope(user: User) -> Scope:
    scope = access.scope_of(user, Record.CALL, write=True)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权记录通话")
    return scope


def check_write(user: User, call: CallRecord) -> None:
    """As recording it: a call no agent took is corrected by anyone who records calls."""
    if call.agent_id is None:
        _recording_scope(user)
        return
    access.check(user, Record.CALL, [call.agent], write=True, what=f"通话 {call.id}")


def check_agent(session: Session, user: User, agent_id: int | None) -> None:
    """A call may be recorded in the name of an agent inside the user's write scope only (a call
    no agent took, such as one abandoned in the queue, by anyone who records calls)."""
    scope = _recording_scope(user)
    if agent_id is None or access.within(user, scope, [session.get(User, agent_id)]):
        return
    raise Forbidden("只能以自己的名义记录通话" if scope is Scope.OWN else "只能记录本班组话务员的通话")


def visible(query: Select[Any], user: User) -> Select[Any]:
    """``query`` over calls narrowed to those ``user`` may read."""
    scope = access.scope_of(user, Record.CALL)
    if scope is Scope.ALL:
        return query
    if scope is Scope.OWN:
        return query.where(CallRecord.agent_id == user.id)
    if scope is Scope.TEAM and user.team is not None:
        team = select(User.id).where(User.team == user.team)
        return query.where(CallRecord.agent_id.in_(team) | (CallRecord.agent_id == user.id))
    if scope is Scope.TEAM:
        return query.where(CallRecord.agent_id == user.id)
    return query.where(false())
