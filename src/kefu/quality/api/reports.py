"""/api/quality/reports: the quality report figures, the calls behind a bar, the Excel export,
and the calls whose inspection failed (with their re-inspection). Thin: see kefu.quality.reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.core.spreadsheets import MEDIA_TYPES, export_filename
from kefu.http.api_docs import download_responses
from kefu.http.deps import DB, CurrentUser, require
from kefu.quality import reports
from kefu.quality import service as quality
from kefu.quality.models import InspectionStatus
from kefu.quality.reports import ReportFilter

router = APIRouter(prefix="/api/quality/reports", tags=["质检"])


def filters(
    start: str | None = None, end: str | None = None, team: str | None = None, agent_id: str | None = None
) -> ReportFilter:
    """``start``/``end``: ring days on the centre's clock (2026-11-23, both included; default the
    last four weeks); ``team``: a team name or ``-`` for agents without one."""
    return reports.report_filter(start, end, team, agent_id)


Filters = Annotated[ReportFilter, Depends(filters)]


@router.get("", dependencies=[require(Permission.QA_REPORT)])
def report(session: DB, scope: Filters) -> reports.ReportOut:
    """Score distribution, weekly trend, top rules, per team and per agent."""
    return reports.figures(session, scope).public()


@router.get("/calls", dependencies=[require(Permission.QA_REPORT)])
def calls(
    session: DB, scope: Filters, bucket: str | None = None, week: str | None = None, rule: str | None = None
) -> list[reports.CallRow]:
    """The calls behind a bar: ``bucket`` (0 … 90), ``week`` (2026-W48), ``rule``; the team and
    agent bars are the ``team`` / ``agent_id`` filters."""
    return reports.calls_behind(session, scope, bucket=bucket, week=week, rule=rule)


@router.get(
    "/export",
    dependencies=[require(Permission.QA_REPORT)],
    response_class=Response,
    responses=download_responses("xlsx", description="质检报表 .xlsx"),
)
def export(session: DB, scope: Filters) -> Response:
    """The report as .xlsx: one sheet per figure and the calls."""
    name = export_filename("quality-report", "xlsx")
    return Response(
        reports.export_xlsx(session, scope),
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f"attachment; filename=\"quality-report.xlsx\"; filename*=UTF-8''{name}"},
    )


@router.get("/failed", dependencies=[require(Permission.QA_REPORT)])
def failed(session: DB) -> list[reports.FailedCall]:
    """Calls whose current inspection failed (待重新质检)."""
    return reports.failed_calls(session)


class Reinspected(BaseModel):
    reinspected: list[int] = Field(description="the calls inspected again")
    failed: list[int] = Field(description="of which the inspection failed again")


class Reinspect(BaseModel):
    call_ids: list[Id] | None = Field(default=None, max_length=1000, description="these calls; none: every failed one")


@router.post("/reinspect", dependencies=[require(Permission.QA_REVIEW)])
def reinspect(body: Reinspect, user: CurrentUser, session: DB) -> Reinspected:
    """重新质检 with the published rulebook: the calls given (whatever their state), or every call
    whose current inspection failed."""
    given = body.call_ids is not None
    done = quality.do_reinspect(session, user.id, call_ids=body.call_ids, failed_only=not given)
    return Reinspected(
        reinspected=[i.call_id for i in done], failed=[i.call_id for i in done if i.status == InspectionStatus.FAILED]
    )
