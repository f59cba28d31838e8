"""The rulebook as the platform runs it: the shipped default files, the centre's files
(``KEFU_RULES``) and the published version stored in the database, laid over each other.

QA staff edit a draft (YAML, validated with file:line errors like ``kefu rules validate``),
try it on stored calls (``kefu.quality.whatif``) and publish it as the next numbered version.
A published version never changes: every stored scorecard names the version that produced it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.core import audit
from kefu.core.changes import apply_change
from kefu.core.clock import centre_tz
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Invalid
from kefu.inspection.assist import SentenceChecker
from kefu.inspection.engine import Inspector
from kefu.quality.models import RulebookStatus, RulebookVersion
from kefu.rulebook.loader import RulebookError, default_texts, load_texts, read_texts
from kefu.rulebook.schema import Rulebook

DRAFT_NAME = "规则草稿.yaml"  # how errors in a draft are located: 规则草稿.yaml:12: rules[opening]...
ENTITY = audit.AuditEntity.RULEBOOK


@dataclass(frozen=True)
class Active:
    """One rulebook ready to use: the stored version it comes from (None: no version published
    yet, the files alone), the merged rulebook, its inspector and its live sentence checker."""

    version: RulebookVersion | None
    rulebook: Rulebook
    inspector: Inspector
    checker: SentenceChecker

    @property
    def version_id(self) -> int | None:
        return self.version.id if self.version is not None else None


@dataclass
class RulebookSource:
    """Builds and caches the rulebook of each version (building one takes ~0.2 s)."""

    files: Sequence[Path] = ()
    zone: tzinfo = field(default_factory=centre_tz)
    _cache: dict[tuple[int, int | None, str] | None, Active] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def build(self, overlay: str, label: str | None = None) -> Rulebook:
        """The files with ``overlay`` laid over them; ``RulebookError`` (file:line) if it is wrong."""
        texts = default_texts() + read_texts(self.files) + ([(DRAFT_NAME, overlay)] if overlay.strip() else [])
        rulebook = load_texts(texts).on_clock(self.zone)
        return rulebook.model_copy(update={"version": f"{rulebook.version}+{label}"}) if label else rulebook

    def prepare(self, version: RulebookVersion | None) -> Active:
        # Keyed by what the rulebook is made of, not only the id: a draft's text changes, and one
        # process may serve several databases (tests) whose version 1 differ.
        key = None if version is None else (version.id, version.number, version.overlay)
        with self._lock:
            if key not in self._cache:
                label = None if version is None else f"r{version.number or f'd{version.id}'}"
                rulebook = self.build(version.overlay if version is not None else "", label)
                self._cache[key] = Active(version, rulebook, Inspector(rulebook), SentenceChecker(rulebook))
            return self._cache[key]

    def active(self, session: Session) -> Active:
        """The rulebook calls are inspected with now: the latest published version."""
        return self.prepare(published(session))


_default: RulebookSource | None = None


def source_for(session: Session) -> RulebookSource:
    """The platform's source rides on the session (``session.info``, set by the web app);
    without one (scripts, tests), the settings' files on the settings' clock."""
    source = session.info.get("rulebooks")
    if source is not None:
        return source  # type: ignore[no-any-return]
    global _default
    if _default is None:
        from kefu.core.settings import get_settings

        _default = RulebookSource(files=list(get_settings().rules))
    return _default


# ---------------------------------------------------------------- versions


def published(session: Session) -> RulebookVersion | None:
    return session.scalar(
        select(RulebookVersion)
        .where(RulebookVersion.status == RulebookStatus.PUBLISHED)
        .order_by(RulebookVersion.number.desc())
        .limit(1)
    )


def versions(session: Session) -> list[RulebookVersion]:
    """Newest first: drafts, then published versions by number."""
    return list(
        session.scalars(
            select(RulebookVersion).order_by(RulebookVersion.number.desc().nulls_first(), RulebookVersion.id.desc())
        )
    )


def get_version(session: Session, version_id: int) -> RulebookVersion:
    version = get_or_404(session, RulebookVersion, version_id, "规则版本")
    return version


def validate(source: RulebookSource, overlay: str) -> Rulebook:
    """The merged rulebook, or ``Invalid`` listing every problem as 「规则草稿.yaml:行: 位置: 原因」."""
    try:
        return source.build(overlay)
    except RulebookError as error:
        raise Invalid("规则有误,未保存:\n" + str(error), details={"errors": str(error).splitlines()}) from None


def do_save_draft(
    session: Session,
    actor_id: int | None,
    overlay: str,
    note: str | None = None,
    *,
    draft_id: int | None = None,
    version: int | None = None,
) -> RulebookVersion:
    """Create a draft, or save an edit of one (``version``: the one the editor opened; a stale
    one is refused). Only a valid rulebook is saved."""
    existing = get_version(session, draft_id) if draft_id is not None else None  # 404 before 422
    validate(source_for(session), overlay)
    if existing is None:
        draft = RulebookVersion(overlay=overlay, note=note, created_by=actor_id, status=RulebookStatus.DRAFT)
        session.add(draft)
        session.flush()
        audit.record(session, actor_id, "create", ENTITY, draft.id, {"overlay": [None, overlay]}, detail=note)
        return draft
    draft = existing
    if draft.status != RulebookStatus.DRAFT:
        raise Conflict(f"{draft.label}已发布,不能修改;请另建草稿")
    apply_change(
        session, actor_id, draft, {"overlay": overlay, "note": note}, entity=ENTITY, what="草稿", version=version
    )
    return draft


def do_publish(
    session: Session, actor_id: int | None, draft_id: int, *, version: int | None = None, now: datetime | None = None
) -> RulebookVersion:
    """The draft becomes the next numbered version, used for every call inspected from now on;
    the version before it is retired (its scorecards keep pointing at it)."""
    draft = get_version(session, draft_id)
    if draft.status != RulebookStatus.DRAFT:
        raise Conflict(f"{draft.label}已发布过")
    if version is not None and version != draft.version:
        raise Conflict("草稿已被他人修改,请刷新后重新核对再发布")
    validate(source_for(session), draft.overlay)  # the centre's files may have changed since
    previous = published(session)
    if previous is not None:
        previous.status = RulebookStatus.RETIRED
    draft.number = (session.scalar(select(func.max(RulebookVersion.number))) or 0) + 1
    draft.status = RulebookStatus.PUBLISHED
    draft.published_by = actor_id
    draft.published_at = now or utcnow()
    session.flush()
    audit.record(
        session,
        actor_id,
        "publish",
        ENTITY,
        draft.id,
        {"number": [None, draft.number], "status": ["draft", "published"]},
        detail=draft.note,
    )
    return draft
