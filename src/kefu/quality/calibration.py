"""校准: several inspectors score the same calls; how far each is from the reference inspector
and from each other, in total and per category.

Every inspector gets a calibration review of every call (kefu.quality.review.create_review with
``calibration_id``); a calibration review never changes the call's score. The figures compare the
completed reviews: the mean absolute difference over the calls both inspectors completed.
``compare`` is the pure computation; ``calibration_figures`` feeds it from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import audit
from kefu.core.db import get_or_404
from kefu.core.errors import Invalid
from kefu.core.fields import Id
from kefu.core.security import Permission, allowed
from kefu.quality.models import CalibrationSession, InspectionStatus, Review, ReviewStatus
from kefu.quality.service import current_inspection

ENTITY = audit.AuditEntity.CALIBRATION
NAME_MAX = 64
MAX_CALLS = 50


@dataclass(frozen=True)
class Marks:
    """One inspector's score of one call: the total and each category's points."""

    total: float
    categories: Mapping[str, float]


@dataclass(frozen=True)
class InspectorFigures:
    inspector_id: int
    completed: int  # calls this inspector completed
    compared: int  # … of which the reference inspector completed too
    total_diff: float | None  # mean |total − reference's total| over those calls
    category_diffs: dict[str, float | None]


@dataclass(frozen=True)
class Figures:
    reference_id: int
    inspectors: list[InspectorFigures]
    # matrix[a][b]: mean |total of a − total of b| over the calls both completed (None: none).
    matrix: dict[int, dict[int, float | None]]
    categories: list[str] = field(default_factory=list)


# A calibration round is a handful of inspectors, each given every call as a review task.
MAX_INSPECTORS = 20


class CalibrationIn(BaseModel):
    """A calibration round: its calls, its inspectors (each reviews every call), the reference."""

    name: str = Field(min_length=1, max_length=NAME_MAX)
    call_ids: list[Id] = Field(min_length=1, max_length=MAX_CALLS)
    inspector_ids: list[Id] = Field(min_length=2, max_length=MAX_INSPECTORS)
    reference_id: Id


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _total_diff(a: Mapping[int, Marks], b: Mapping[int, Marks]) -> tuple[int, float | None]:
    common = sorted(a.keys() & b.keys())
    return len(common), _mean([abs(a[c].total - b[c].total) for c in common])


def compare(
    reference_id: int,
    inspector_ids: Sequence[int],
    marks: Mapping[int, Mapping[int, Marks]],
    categories: Iterable[str],
) -> Figures:
    """``marks[inspector][call]``: the completed reviews. Calls an inspector has not completed
    are left out of every comparison with them."""
    keys = list(categories)
    reference = marks.get(reference_id, {})
    rows = []
    for inspector in inspector_ids:
        own = marks.get(inspector, {})
        compared, total = _total_diff(own, reference)
        common = sorted(own.keys() & reference.keys())
        per_category: dict[str, float | None] = {}
        for key in keys:
            both = [c for c in common if key in own[c].categories and key in reference[c].categories]
            per_category[key] = _mean([abs(own[c].categories[key] - reference[c].categories[key]) for c in both])
        rows.append(InspectorFigures(inspector, len(own), compared, total, per_category))
    matrix = {a: {b: _total_diff(marks.get(a, {}), marks.get(b, {}))[1] for b in inspector_ids} for a in inspector_ids}
    return Figures(reference_id, rows, matrix, keys)


# ------------------------------------------------------------------------- database


def _inspectors(session: Session, ids: Sequence[int]) -> list[User]:
    found = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    problems = []
    for user_id in ids:
        user = found.get(user_id)
        if user is None or not user.active:
            problems.append(f"用户 {user_id} 不存在或已停用")
        elif not allowed(user.role, Permission.QA_REVIEW):
            problems.append(f"{user.name}({user.role.label})不是质检员,不能参加校准")
    if problems:
        raise Invalid(";".join(problems))
    return [found[i] for i in ids]


def do_create_calibration(
    session: Session,
    actor_id: int | None,
    name: str,
    call_ids: Sequence[int],
    inspector_ids: Sequence[int],
    reference_id: int,
) -> CalibrationSession:
    from kefu.quality import review as reviews  # the review service (its own helper's module)

    title = (name or "").strip()
    if not title:
        raise Invalid("请填写校准名称")
    if len(title) > NAME_MAX:
        raise Invalid(f"校准名称不能超过 {NAME_MAX} 字")
    inspectors = list(dict.fromkeys(inspector_ids))
    calls = list(dict.fromkeys(call_ids))
    if len(inspectors) < 2:
        raise Invalid("校准至少需要 2 名质检员")
    if reference_id not in inspectors:
        raise Invalid("基准质检员必须是参加校准的质检员之一")
    if not calls:
        raise Invalid("请至少选择 1 通通话")
    if len(calls) > MAX_CALLS:
        raise Invalid(f"一次校准最多 {MAX_CALLS} 通通话")
    _inspectors(session, inspectors)
    missing = []
    for call_id in calls:
        inspection = current_inspection(session, call_id)
        if inspection is None or inspection.status != InspectionStatus.DONE:
            missing.append(str(call_id))
    if missing:
        raise Invalid(f"通话 {'、'.join(missing)} 没有完成的质检结果,不能用于校准")
    calibration = CalibrationSession(
        name=title, reference_id=reference_id, inspector_ids=inspectors, call_ids=calls, created_by=actor_id
    )
    session.add(calibration)
    session.flush()
    for call_id in calls:
        for inspector in inspectors:
            reviews.create_review(session, call_id, inspector, calibration_id=calibration.id, actor_id=actor_id)
    audit.record(
        session,
        actor_id,
        "create",
        ENTITY,
        calibration.id,
        {"name": [None, title], "inspector_ids": [None, inspectors], "call_ids": [None, calls]},
        detail=f"创建校准「{title}」:{len(inspectors)} 名质检员 × {len(calls)} 通通话",
    )
    return calibration


def get_calibration(session: Session, calibration_id: int) -> CalibrationSession:
    calibration = get_or_404(session, CalibrationSession, calibration_id, "校准")
    return calibration


def list_calibrations(session: Session, limit: int = 100) -> list[CalibrationSession]:
    query = select(CalibrationSession).order_by(CalibrationSession.created_at.desc(), CalibrationSession.id.desc())
    return list(session.scalars(query.limit(limit)))


def calibration_reviews(session: Session, calibration_id: int) -> list[Review]:
    query = select(Review).where(Review.calibration_id == calibration_id).order_by(Review.call_id, Review.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class CalibrationView:
    calibration: CalibrationSession
    figures: Figures
    names: dict[int, str]  # inspector id → name
    category_names: dict[str, str]  # category key → name
    reviews: list[Review]


def calibration_figures(session: Session, calibration_id: int) -> CalibrationView:
    calibration = get_calibration(session, calibration_id)
    reviews = calibration_reviews(session, calibration_id)
    marks: dict[int, dict[int, Marks]] = {}
    category_names: dict[str, str] = {}
    for review in reviews:
        for key, value in (review.inspection.categories or {}).items():
            category_names.setdefault(key, str(value.get("name", key)))
        if review.status != ReviewStatus.DONE or review.manual_score is None:
            continue
        marks.setdefault(review.inspector_id, {})[review.call_id] = Marks(
            float(review.manual_score), {k: float(v) for k, v in (review.category_scores or {}).items()}
        )
    figures = compare(calibration.reference_id, calibration.inspector_ids, marks, category_names)
    users = session.scalars(select(User).where(User.id.in_(calibration.inspector_ids)))
    names = {u.id: u.name for u in users}
    return CalibrationView(calibration, figures, names, category_names, reviews)
