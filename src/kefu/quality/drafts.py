"""What the rulebook pages and API show of a version: its problems as 「规则草稿.yaml:行: 原因」
lines and the merged rules (read only; writes go through ``kefu.quality.rulebooks``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kefu.quality.models import RulebookStatus, RulebookVersion
from kefu.quality.rulebooks import source_for
from kefu.rulebook.loader import RulebookError
from kefu.rulebook.schema import Rulebook


@dataclass(frozen=True)
class RuleLine:
    id: str
    name: str
    category: str
    category_name: str
    points: float
    deduction: float
    fatal: bool
    enabled: bool


def check(session: Session, overlay: str) -> tuple[Rulebook | None, list[str]]:
    """The merged rulebook, or None and every problem, one line each, with its line number."""
    try:
        return source_for(session).build(overlay), []
    except RulebookError as error:
        return None, str(error).splitlines()


def rules_of(rulebook: Rulebook) -> list[RuleLine]:
    names = {key: category.name for key, category in rulebook.categories.items()}
    return [
        RuleLine(
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
