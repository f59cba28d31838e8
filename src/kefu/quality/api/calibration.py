"""/api/quality/calibration: calibration sessions and their figures (QA_REVIEW roles)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from kefu.core.fields import CentreTime, Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, require
from kefu.quality import calibration as service
from kefu.quality.calibration import CalibrationIn
from kefu.quality.models import CalibrationSession

router = APIRouter(prefix="/api/quality/calibration", tags=["质检"], dependencies=[require(Permission.QA_REVIEW)])


class CalibrationOut(BaseModel):
    id: int
    name: str
    reference_id: int
    inspector_ids: list[int]
    call_ids: list[int]
    created_at: CentreTime


class InspectorFiguresOut(BaseModel):
    inspector_id: int
    name: str
    reference: bool
    completed: int
    compared: int
    total_diff: float | None
    category_diffs: dict[str, float | None]


class FiguresOut(BaseModel):
    calibration: CalibrationOut
    categories: dict[str, str]
    inspectors: list[InspectorFiguresOut]
    matrix: dict[int, dict[int, float | None]]


def calibration_out(calibration: CalibrationSession) -> CalibrationOut:
    return CalibrationOut.model_validate(calibration, from_attributes=True)


@router.post("", status_code=201)
def create(data: CalibrationIn, session: DB, user: CurrentUser) -> CalibrationOut:
    calibration = service.do_create_calibration(
        session, user.id, data.name, data.call_ids, data.inspector_ids, data.reference_id
    )
    return calibration_out(calibration)


@router.get("")
def list_calibrations(session: DB) -> list[CalibrationOut]:
    return [calibration_out(c) for c in service.list_calibrations(session)]


@router.get("/{calibration_id:int}")
def figures(calibration_id: Id, session: DB) -> FiguresOut:
    view = service.calibration_figures(session, calibration_id)
    return FiguresOut(
        calibration=calibration_out(view.calibration),
        categories=view.category_names,
        inspectors=[
            InspectorFiguresOut(
                inspector_id=row.inspector_id,
                name=view.names.get(row.inspector_id, str(row.inspector_id)),
                reference=row.inspector_id == view.figures.reference_id,
                completed=row.completed,
                compared=row.compared,
                total_diff=row.total_diff,
                category_diffs=row.category_diffs,
            )
            for row in view.figures.inspectors
        ],
        matrix=view.figures.matrix,
    )
