"""Whose records a user may read and change: their own, their team's, or everyone's.

The permission (kefu.core.security) says what a role may do at all; the scope here says on
which records. Each domain asks ``scope_of`` and ``within`` in its service (never only in a
page), so the API, the pages, imports and scripts are decided the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from kefu.core.choices import ChoiceSet
from kefu.core.errors import Forbidden
from kefu.core.security import Role


class Scope(ChoiceSet, title="范围"):
    OWN = "own", "本人"
    TEAM = "team", "本班组"
    ALL = "all", "全部"


class Record(ChoiceSet, title="记录类型"):
    """The kinds of records that belong to somebody."""

    CALL = "call", "通话"  # a call and its scorecard belong to the call's agent
    WORK_ORDER = "work_order", "工单"  # an order belongs to its owner (首问负责人) and its assignee
    PERFORMANCE = "performance", "绩效"  # figures, evaluations, coaching plans belong to the agent
    SCHEDULE = "schedule", "排班"  # shifts, leave and swap requests belong to the agent
    TRAINING = "training", "培训考核"  # a trainee's stage, exams and results belong to the agent


class Person(Protocol):
    id: int
    role: Role
    team: str | None


# Reading: an agent sees the work orders of every customer (首问负责: whoever takes the next call
# must see what was promised), but only their own calls and scorecards.
# Performance: an agent sees their own figures, a team lead the team's; trainers see everyone's
# (coaching and training follow from them), QA does not grade people beyond their calls.
READ: dict[Role, dict[Record, Scope]] = {
    Role.AGENT: {
        Record.CALL: Scope.OWN,
        Record.WORK_ORDER: Scope.ALL,
        Record.PERFORMANCE: Scope.OWN,
        Record.SCHEDULE: Scope.TEAM,
        Record.TRAINING: Scope.OWN,
    },
    Role.TEAM_LEAD: {
        Record.CALL: Scope.TEAM,
        Record.WORK_ORDER: Scope.ALL,
        Record.PERFORMANCE: Scope.TEAM,
        Record.SCHEDULE: Scope.TEAM,
        Record.TRAINING: Scope.TEAM,
    },
    Role.QA: {Record.CALL: Scope.ALL, Record.WORK_ORDER: Scope.ALL},
    Role.TRAINER: {
        Record.CALL: Scope.ALL,
        Record.PERFORMANCE: Scope.ALL,
        Record.SCHEDULE: Scope.ALL,
        Record.TRAINING: Scope.ALL,
    },  # scorecards with customer data masked
    Role.SUPERVISOR: {
        Record.CALL: Scope.ALL,
        Record.WORK_ORDER: Scope.ALL,
        Record.PERFORMANCE: Scope.ALL,
        Record.SCHEDULE: Scope.ALL,
        Record.TRAINING: Scope.ALL,
    },
    Role.ADMIN: {
        Record.CALL: Scope.ALL,
        Record.WORK_ORDER: Scope.ALL,
        Record.PERFORMANCE: Scope.ALL,
        Record.SCHEDULE: Scope.ALL,
        Record.TRAINING: Scope.ALL,
    },
}
# Training: an agent sits their own exams and sees their own results, a team lead the team's
# stages and results; trainers (and supervisors) grade, set stages and keep the bank.
# Schedules: an agent sees the team's roster (to find a partner for a swap) and asks for their own
# leave and swaps; deciding them is the team lead's for the team, the supervisor's for everyone.
# Writing performance records (comments, business errors, attendance, surveys, sales, coaching
# plans): the team lead for the team, the supervisor for everyone; an agent never for themselves.
WRITE: dict[Role, dict[Record, Scope]] = {
    Role.AGENT: {Record.CALL: Scope.OWN, Record.WORK_ORDER: Scope.OWN},
    Role.TEAM_LEAD: {
        Record.CALL: Scope.TEAM,
        Record.WORK_ORDER: Scope.TEAM,
        Record.PERFORMANCE: Scope.TEAM,
        Record.SCHEDULE: Scope.TEAM,
    },
    Role.QA: {},
    Role.TRAINER: {Record.TRAINING: Scope.ALL},
    Role.SUPERVISOR: {
        Record.CALL: Scope.ALL,
        Record.WORK_ORDER: Scope.ALL,
        Record.PERFORMANCE: Scope.ALL,
        Record.SCHEDULE: Scope.ALL,
        Record.TRAINING: Scope.ALL,
    },
    Role.ADMIN: {
        Record.CALL: Scope.ALL,
        Record.WORK_ORDER: Scope.ALL,
        Record.PERFORMANCE: Scope.ALL,
        Record.SCHEDULE: Scope.ALL,
        Record.TRAINING: Scope.ALL,
    },
}


def scope_of(user: Person, record: Record, *, write: bool = False) -> Scope | None:
    """How far ``user`` reaches over ``record``s; None: not at all."""
    return (WRITE if write else READ)[user.role].get(record)


def within(user: Person, scope: Scope | None, owners: Iterable[Person | None]) -> bool:
    """Whether a record that belongs to ``owners`` is inside ``user``'s scope."""
    if scope is None:
        return False
    if scope is Scope.ALL:
        return True
    people = [p for p in owners if p is not None]
    if any(p.id == user.id for p in people):
        return True
    return scope is Scope.TEAM and user.team is not None and any(p.team == user.team for p in people)


def check(user: Person, record: Record, owners: Iterable[Person | None], *, write: bool = False, what: str) -> None:
    """Refuse (403) when the record is outside the user's scope; ``what`` names it in the message."""
    scope = scope_of(user, record, write=write)
    if within(user, scope, owners):
        return
    verb = "修改" if write else "查看"
    if scope is None:
        raise Forbidden(f"{user.role.label}无权{verb}{record.label}")
    reach = "自己的" if scope is Scope.OWN else "本班组的"
    raise Forbidden(f"只能{verb}{reach}{record.label}:{what}不在您的权限范围内")
