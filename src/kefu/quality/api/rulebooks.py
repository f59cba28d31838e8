"""/api/quality/rulebooks: the rulebook versions, drafts (validated, optimistic locking), the
what-if run of a draft on stored calls, and publishing. QA staff and supervisors read;
``quality.rulebook`` writes, runs what-ifs and publishes.

A YAML mistake is answered 422 with ``errors``: one line per problem, 「规则草稿.yaml:3: …」."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session

from kefu.core.clock import centre_tz
from kefu.core.fields import Id, Version, api_time
from kefu.core.security import Permission
from kefu.http.api_docs import FieldProblem
from kefu.http.deps import DB, CurrentUser, require
from kefu.quality import rulebooks
from kefu.quality.drafts import check, merged, rules_of
from kefu.quality.models import RulebookVersion
from kefu.quality.whatif import MAX_CALLS, Sample, whatif

router = APIRouter(prefix="/api/quality/rulebooks", tags=["质检"])

READ = [require(Permission.QA_REVIEW)]
WRITE = [require(Permission.RULEBOOK_EDIT)]


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
    """One of: ``call_ids``; ``latest``; ``random`` (with ``seed``, optional date range)."""

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
        return sample_of(self.call_ids, self.latest, self.random, self.seed, self.since, self.until)


def sample_of(
    call_ids: list[int] | None,
    latest: int | None,
    random: int | None,
    seed: int,
    since: date | None,
    until: date | None,
) -> Sample:
    """Dates are the centre's calendar days; ``until`` is included."""
    zone = centre_tz()
    start = datetime.combine(since, time(0), tzinfo=zone) if since else None
    end = datetime.combine(until, time(0), tzinfo=zone) if until else None
    if end is not None:
        end += timedelta(days=1)
    return Sample(call_ids=call_ids, latest=latest, random=random, seed=seed, since=start, until=end)


def version_out(version: RulebookVersion, current_id: int | None) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "label": version.label,
        "status": version.status.value,
        "status_label": version.status.label,
        "current": version.id == current_id,
        "note": version.note,
        "version": version.version,
        "created_at": api_time(version.created_at),
        "created_by": version.created_by,
        "published_at": api_time(version.published_at),
        "published_by": version.published_by,
    }


def detail_out(session: Session, version: RulebookVersion) -> dict[str, Any]:
    current = rulebooks.published(session)
    rulebook, errors = merged(session, version)
    return {
        **version_out(version, current.id if current else None),
        "overlay": version.overlay,
        "rulebook_version": rulebook.version if rulebook else None,
        "rules": [line.__dict__ for line in rules_of(rulebook)] if rulebook else [],
        "errors": errors,
    }


class RulebookProblem(BaseModel):
    """A draft that cannot be saved: one line per YAML problem (「规则草稿.yaml:3: …」), or the
    fields of the request."""

    detail: str
    errors: list[str | FieldProblem]


CHECKED = {422: {"model": RulebookProblem, "description": "规则有误,未保存"}}


def invalid(errors: list[str]) -> JSONResponse:
    return JSONResponse({"detail": "规则有误,未保存", "errors": errors}, status_code=422)


@router.get("", dependencies=READ)
def list_versions(session: DB) -> list[dict[str, Any]]:
    current = rulebooks.published(session)
    return [version_out(v, current.id if current else None) for v in rulebooks.versions(session)]


@router.get("/{version_id}", dependencies=READ)
def get_version(version_id: Id, session: DB) -> dict[str, Any]:
    return detail_out(session, rulebooks.get_version(session, version_id))


@router.post("/validate", dependencies=WRITE, responses=CHECKED)
def validate(body: DraftIn, session: DB) -> Any:
    rulebook, errors = check(session, body.overlay)
    if rulebook is None:
        return invalid(errors)
    return {"ok": True, "rulebook_version": rulebook.version, "rules": [line.__dict__ for line in rules_of(rulebook)]}


@router.post("", dependencies=WRITE, status_code=201, responses=CHECKED)
def create_draft(body: DraftIn, session: DB, user: CurrentUser) -> Any:
    _, errors = check(session, body.overlay)
    if errors:
        return invalid(errors)
    draft = rulebooks.do_save_draft(session, user.id, body.overlay, body.note)
    return detail_out(session, draft)


@router.put("/{version_id}", dependencies=WRITE, responses=CHECKED)
def save_draft(version_id: Id, body: DraftUpdate, session: DB, user: CurrentUser) -> Any:
    rulebooks.get_version(session, version_id)  # 404 before 422
    _, errors = check(session, body.overlay)
    if errors:
        return invalid(errors)
    draft = rulebooks.do_save_draft(
        session, user.id, body.overlay, body.note, draft_id=version_id, version=body.version
    )
    return detail_out(session, draft)


@router.post("/{version_id}/whatif", dependencies=WRITE)
def run_whatif(version_id: Id, body: WhatIfIn, session: DB) -> dict[str, object]:
    version = rulebooks.get_version(session, version_id)
    return whatif(session, version, body.sample()).public()


@router.post("/{version_id}/publish", dependencies=WRITE)
def publish(version_id: Id, body: PublishIn, session: DB, user: CurrentUser) -> dict[str, Any]:
    published = rulebooks.do_publish(session, user.id, version_id, version=body.version)
    return detail_out(session, published)
