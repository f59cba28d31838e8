"""What the rulebook pages and API send and show of a version: the bodies of a draft, a publication
and a what-if run; a version with its problems as 「规则草稿.yaml:行: 原因」 lines and the merged
rules (read only; writes go through ``kefu.quality.rulebooks``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from kefu.core.clock import centre_tz
from kefu.core.fields import CentreTime, Id, Version
from kefu.quality import rulebooks
from kefu.quality.models import RulebookStatus, RulebookVersion
from kefu.quality.rulebooks import source_for
from kefu.quality.whatif import MAX_CALLS, Sample
from kefu.rulebook.loader import RulebookError
from kefu.rulebook.schema import Rulebook


def check(session: Session, overlay: str) -> tuple[Rulebook | None, list[str]]:
    """The merged rulebook, or None and every problem, one line each, with its line number."""
    try:
        return source_for(session).build(overlay), []
    except RulebookError as error:
        return None, str(error).splitlines()


def rules_of(rulebook: Rulebook) -> list[RuleLineOut]:
    names = {key: category.name for key, category in rulebook.categories.items()}
    return [
        RuleLineOut(
            id=r.id,
            name=r.name,
            category=r.category,
            category_name=names.get(r.category, r.category),
            points=r.points,
            deduction=r.deduction,
            fatal=r.fatal,
            enabled=r.enabled,
        )
        for r in rulebook.rules
    ]


def merged(session: Session, version: RulebookVersion) -> tuple[Rulebook | None, list[str]]:
    """A version's rulebook: a published one from the cache, a draft built from its text."""
    if version.status != RulebookStatus.DRAFT:
        try:
            return source_for(session).prepare(version).rulebook, []
        except RulebookError as error:
            return None, str(error).splitlines()
    return check(session, version.overlay)


# ---------------------------------------------------------------- bodies


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlay: str = Field(default="", max_length=200_000)
    note: str | None = Field(default=None, max_length=500)


class DraftUpdate(DraftIn):
    version: Version


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: Version | None = None


class WhatIfIn(BaseModel):
    """One of: ``call_ids``; ``latest``; ``random`` (with ``seed``, optional date range: the
    centre's calendar days, ``until`` included)."""

    model_config = ConfigDict(extra="forbid")
    call_ids: list[Id] | None = Field(default=None, max_length=MAX_CALLS)
    latest: int | None = Field(default=None, ge=1, le=MAX_CALLS)
    random: int | None = Field(default=None, ge=1, le=MAX_CALLS)
    seed: int = 0
    since: date | None = None
    until: date | None = Field(default=None, description="inclusive")

    @model_validator(mode="after")
    def _one(self) -> WhatIfIn:
        given = [n for n in ("call_ids", "latest", "random") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("请在 call_ids、latest、random 中选择一种抽样方式")
        return self

    def sample(self) -> Sample:
        zone = centre_tz()
        start = datetime.combine(self.since, time(0), tzinfo=zone) if self.since else None
        end = datetime.combine(self.until, time(0), tzinfo=zone) + timedelta(days=1) if self.until else None
        return Sample(
            call_ids=self.call_ids, latest=self.latest, random=self.random, seed=self.seed, since=start, until=end
        )


# ---------------------------------------------------------------- answers


class VersionOut(BaseModel):
    id: int
    number: int | None
    label: str
    status: RulebookStatus
    status_label: str
    current: bool = Field(description="the version every call is inspected with now")
    note: str | None
    version: int
    created_at: CentreTime
    created_by: int | None
    published_at: CentreTime | None
    published_by: int | None


class RuleLineOut(BaseModel):
    id: str
    name: str
    category: str
    category_name: str
    points: float
    deduction: float
    fatal: bool
    enabled: bool


class VersionDetail(VersionOut):
    overlay: str
    rulebook_version: str | None
    rules: list[RuleLineOut]
    errors: list[str]


class Checked(BaseModel):
    ok: bool
    rulebook_version: str
    rules: list[RuleLineOut]


def version_out(version: RulebookVersion, current_id: int | None) -> VersionOut:
    return VersionOut(
        id=version.id,
        number=version.number,
        label=version.label,
        status=version.status,
        status_label=version.status.label,
        current=version.id == current_id,
        note=version.note,
        version=version.version,
        created_at=version.created_at,
        created_by=version.created_by,
        published_at=version.published_at,
        published_by=version.published_by,
    )


def list_versions(session: Session) -> list[VersionOut]:
    current = rulebooks.published(session)
    return [version_out(v, current.id if current else None) for v in rulebooks.versions(session)]


def detail(session: Session, version: RulebookVersion) -> VersionDetail:
    current = rulebooks.published(session)
    rulebook, errors = merged(session, version)
    return VersionDetail(
        **version_out(version, current.id if current else None).model_dump(),
        overlay=version.overlay,
        rulebook_version=rulebook.version if rulebook else None,
        rules=rules_of(rulebook) if rulebook else [],
        errors=errors,
    )


def checked(session: Session, overlay: str) -> Checked:
    """A draft's text checked without saving it (``Invalid`` with every problem otherwise)."""
    rulebook = rulebooks.validate(source_for(session), overlay)
    return Checked(ok=True, rulebook_version=rulebook.version, rules=rules_of(rulebook))
