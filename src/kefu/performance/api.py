"""/api/performance: KPIs, the month's evaluation (comment, publish, export), stars, the
records beside the calls, coaching plans. Thin: who may see or change what is decided in
kefu.performance.service (own / team / all)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from kefu.core.audit import AuditAction, AuditEntity, record
from kefu.core.fields import Id
from kefu.core.spreadsheets import MEDIA_TYPES
from kefu.http.deps import DB, CurrentUser
from kefu.performance import service
from kefu.performance.export import month_workbook
from kefu.performance.schemas import (
    AttendanceIn,
    CandidateOut,
    CoachingCloseIn,
    CoachingIn,
    CoachingOut,
    CommentIn,
    ErrorIn,
    EvaluationRow,
    KpiOut,
    MonthOut,
    PublishIn,
    SaleIn,
    SurveyIn,
)
from kefu.performance.summary import By

router = APIRouter(prefix="/api/performance", tags=["performance"])
Month = Annotated[str, Path(description="月份,如 2026-11(中心日历)", max_length=7)]


@router.get("/kpis")
def kpis(
    user: CurrentUser,
    session: DB,
    start: Annotated[date, Query(description="第一天(中心日历)")],
    end: Annotated[date, Query(description="最后一天(含)")],
    by: By = By.AGENT,
) -> list[KpiOut]:
    """Per agent, team or the centre, of the agents the user may see (own / team / all)."""
    return service.kpis(session, user, start, end, by)


@router.get("/months/{month}")
def month(month: Month, user: CurrentUser, session: DB) -> MonthOut:
    """Live from the records until published; as published (the latest revision) after."""
    return service.month_view(session, user, month)


@router.get("/months/{month}/agents/{agent_id}")
def agent_month(month: Month, agent_id: Id, user: CurrentUser, session: DB) -> EvaluationRow:
    return service.agent_month(session, user, month, agent_id)


@router.put("/months/{month}/comments/{agent_id}")
def comment(month: Month, agent_id: Id, body: CommentIn, user: CurrentUser, session: DB) -> dict[str, str]:
    service.do_comment(session, user, month, agent_id, body.text)
    return {"detail": "评语已保存"}


@router.post("/months/{month}/publish")
def publish(month: Month, body: PublishIn, user: CurrentUser, session: DB) -> MonthOut:
    """Freeze the month (supervisor). Again with ``reason``: the next revision."""
    service.do_publish_month(session, user, month, body.reason)
    return service.month_view(session, user, month)


@router.get("/months/{month}/export")
def export(month: Month, user: CurrentUser, session: DB) -> Response:
    """The month as an .xlsx for HR: the agents the user may see."""
    view = service.month_view(session, user, month)
    status = f"已发布(第 {view.revision} 版)" if view.published else "未发布(草稿,数据仍会变化)"
    data = month_workbook(month, view.rows, status=status, basis=view.basis, policy=view.policy)
    record(
        session,
        user.id,
        AuditAction.EXPORT,
        AuditEntity.EVALUATION,
        None,
        detail=f"导出 {month} 月度绩效 {len(view.rows)} 人",
    )
    return Response(
        data,
        media_type=MEDIA_TYPES["xlsx"],
        headers={"Content-Disposition": f'attachment; filename="performance-{month}.xlsx"'},
    )


@router.get("/quarters/{year}/{quarter}/stars")
def quarter_stars(
    year: Annotated[int, Path(ge=2000, le=2099, description="年")],
    quarter: Annotated[int, Path(ge=1, le=4, description="季度 1–4")],
    user: CurrentUser,
    session: DB,
) -> list[CandidateOut]:
    """季度优秀员工 candidates."""
    return service.quarter_stars(session, user, year, quarter)


@router.post("/surveys", status_code=201)
def survey(body: SurveyIn, user: CurrentUser, session: DB) -> dict[str, int]:
    return {"id": service.do_record_survey(session, user, body).id}


@router.post("/sales", status_code=201)
def sale(body: SaleIn, user: CurrentUser, session: DB) -> dict[str, int]:
    return {"id": service.do_record_sale(session, user, body).id}


@router.post("/errors", status_code=201)
def business_error(body: ErrorIn, user: CurrentUser, session: DB) -> dict[str, int]:
    return {"id": service.do_record_error(session, user, body).id}


@router.put("/attendance")
def attendance(body: AttendanceIn, user: CurrentUser, session: DB) -> dict[str, int]:
    return {"id": service.do_record_attendance(session, user, body).id}


@router.get("/coaching")
def coaching(user: CurrentUser, session: DB, agent_id: Id | None = None) -> list[CoachingOut]:
    return [service.coaching_out(p) for p in service.coaching_plans(session, user, agent_id)]


@router.post("/coaching", status_code=201)
def create_coaching(body: CoachingIn, user: CurrentUser, session: DB) -> CoachingOut:
    return service.coaching_out(service.do_create_coaching(session, user, body))


@router.post("/coaching/{plan_id}/close")
def close_coaching(plan_id: Id, body: CoachingCloseIn, user: CurrentUser, session: DB) -> CoachingOut:
    return service.coaching_out(service.do_close_coaching(session, user, plan_id, body))
