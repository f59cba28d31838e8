"""Roles, permissions and password hashing (argon2)."""

from __future__ import annotations

import secrets
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from kefu.core.choices import ChoiceSet
from kefu.core.settings import get_settings

# One per process, with the cost of KEFU_PASSWORD_HASH_* (production: argon2's defaults; the
# tests: the lowest), made at first use so that a bad setting is reported where settings are read.
_hasher: PasswordHasher | None = None


def _argon2() -> PasswordHasher:
    global _hasher
    if _hasher is None:
        settings = get_settings()
        _hasher = PasswordHasher(
            time_cost=settings.password_hash_time_cost,
            memory_cost=settings.password_hash_memory_kib,
            parallelism=settings.password_hash_parallelism,
        )
    return _hasher


def hash_password(password: str) -> str:
    return _argon2().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Under any cost setting: the hash names the cost it was made with."""
    try:
        return _argon2().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def verify_no_password(password: str) -> bool:
    """The work of ``verify_password`` for a 工号 that does not exist, so that a login for an
    unknown 工号 takes as long as one for a known 工号 (and always fails)."""
    verify_password(_dummy_hash(), password)
    return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made at another cost than today's setting (a login then re-hashes it)."""
    return _argon2().check_needs_rehash(password_hash)


class Role(ChoiceSet, title="角色"):
    """SPEC roles, with the labels the pages show."""

    AGENT = "agent", "话务员"
    TEAM_LEAD = "team_lead", "班组长"
    QA = "qa", "质检员"
    TRAINER = "trainer", "培训师"
    SUPERVISOR = "supervisor", "主管"
    ADMIN = "admin", "管理员"


class Permission(StrEnum):
    CUSTOMER_VIEW = "customer.view"
    CUSTOMER_EDIT = "customer.edit"
    CUSTOMER_UNMASK = "customer.unmask"  # customers' personal data without an identity check (audited)
    WORKORDER_EDIT = "workorder.edit"
    WORKORDER_ASSIGN = "workorder.assign"
    CALL_EDIT = "call.edit"
    KNOWLEDGE_EDIT = "knowledge.edit"
    AUDIT_VIEW = "audit.view"
    USER_ADMIN = "user.admin"
    SESSION_ADMIN = "user.sessions"  # see and end anyone's logins
    IMPORT_EXPORT = "data.import_export"
    QA_REVIEW = "quality.review"  # review tasks, sampling plans, calibration, re-inspection
    RULEBOOK_EDIT = "quality.rulebook"  # drafts, what-if runs, publishing
    QA_REPORT = "quality.report"  # everyone's scorecards and the quality reports
    APPEAL_LEAD = "quality.appeal_lead"  # the team lead's opinion on an appeal
    APPEAL_DECIDE = "quality.appeal_decide"  # QA's decision on an appeal
    PERFORMANCE_PUBLISH = "performance.publish"  # publish (and correct) a month's evaluation
    WORKFORCE_VIEW = "workforce.view"  # the forecast, the requirement and adherence of the centre
    WORKFORCE_PLAN = "workforce.plan"  # draft, adjust, publish and revise rosters; approve late leave


_FRONT_LINE = {Permission.CUSTOMER_VIEW, Permission.CUSTOMER_EDIT, Permission.WORKORDER_EDIT, Permission.CALL_EDIT}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(_FRONT_LINE),
    Role.TEAM_LEAD: frozenset(
        _FRONT_LINE
        | {
            Permission.WORKORDER_ASSIGN,
            Permission.IMPORT_EXPORT,
            Permission.QA_REPORT,
            Permission.APPEAL_LEAD,
            Permission.WORKFORCE_VIEW,
        }
    ),
    Role.QA: frozenset(
        {
            Permission.CUSTOMER_VIEW,
            Permission.QA_REVIEW,
            Permission.RULEBOOK_EDIT,
            Permission.QA_REPORT,
            Permission.APPEAL_DECIDE,
        }
    ),
    Role.TRAINER: frozenset({Permission.KNOWLEDGE_EDIT, Permission.QA_REPORT}),
    Role.SUPERVISOR: frozenset(
        _FRONT_LINE
        | {
            Permission.WORKORDER_ASSIGN,
            Permission.KNOWLEDGE_EDIT,
            Permission.AUDIT_VIEW,
            Permission.SESSION_ADMIN,
            Permission.CUSTOMER_UNMASK,
            Permission.IMPORT_EXPORT,
            Permission.QA_REVIEW,
            Permission.RULEBOOK_EDIT,
            Permission.QA_REPORT,
            Permission.APPEAL_LEAD,
            Permission.APPEAL_DECIDE,
            Permission.PERFORMANCE_PUBLISH,
            Permission.WORKFORCE_VIEW,
            Permission.WORKFORCE_PLAN,
        }
    ),
    Role.ADMIN: frozenset(Permission),
}


def allowed(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
