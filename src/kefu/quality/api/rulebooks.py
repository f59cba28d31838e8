"""/api/quality/rulebooks: the rulebook versions, drafts (validated, optimistic locking), the
what-if run of a draft on stored calls, and publishing. QA staff and supervisors read;
``quality.rulebook`` writes, runs what-ifs and publishes.

A YAML mistake is answered 422 with ``errors``: one line per problem, 「规则草稿.yaml:3: …」."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.api_docs import FieldProblem
from kefu.http.deps import DB, CurrentUser, require
from kefu.quality import drafts, rulebooks
from kefu.quality.drafts import Checked, DraftIn, DraftUpdate, PublishIn, VersionDetail, VersionOut, WhatIfIn
from kefu.quality.whatif import WhatIfOut, whatif

router = APIRouter(prefix="/api/quality/rulebooks", tags=["质检"])

READ = [require(Permission.QA_REVIEW)]
WRITE = [require(Permission.RULEBOOK_EDIT)]


class RulebookProblem(BaseModel):
    """A draft that cannot be saved: one line per YAML problem (「规则草稿.yaml:3: …」), or the
    fields of the request."""

    detail: str
    errors: list[str | FieldProblem]


CHECKED = {422: {"model": RulebookProblem, "description": "规则有误,未保存"}}


@router.get("", dependencies=READ)
def list_versions(session: DB) -> list[VersionOut]:
    return drafts.list_versions(session)


@router.get("/{version_id}", dependencies=READ)
def get_version(version_id: Id, session: DB) -> VersionDetail:
    return drafts.detail(session, rulebooks.get_version(session, version_id))


@router.post("/validate", dependencies=WRITE, responses=CHECKED)
def validate(body: DraftIn, session: DB) -> Checked:
    return drafts.checked(session, body.overlay)


@router.post("", dependencies=WRITE, status_code=201, responses=CHECKED)
def create_draft(body: DraftIn, session: DB, user: CurrentUser) -> VersionDetail:
    return drafts.detail(session, rulebooks.do_save_draft(session, user.id, body.overlay, body.note))


@router.put("/{version_id}", dependencies=WRITE, responses=CHECKED)
def save_draft(version_id: Id, body: DraftUpdate, session: DB, user: CurrentUser) -> VersionDetail:
    draft = rulebooks.do_save_draft(
        session, user.id, body.overlay, body.note, draft_id=version_id, version=body.version
    )
    return drafts.detail(session, draft)


@router.post("/{version_id}/whatif", dependencies=WRITE)
def run_whatif(version_id: Id, body: WhatIfIn, session: DB) -> WhatIfOut:
    return whatif(session, rulebooks.get_version(session, version_id), body.sample()).public()


@router.post("/{version_id}/publish", dependencies=WRITE)
def publish(version_id: Id, body: PublishIn, session: DB, user: CurrentUser) -> VersionDetail:
    return drafts.detail(session, rulebooks.do_publish(session, user.id, version_id, version=body.version))
