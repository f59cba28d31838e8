"""质检复核 pages: my review tasks, one task (the transcript with each finding marked, verdicts,
manual findings, the machine's score beside the inspector's) and the agreement per rule."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from kefu.core import validation
from kefu.core.clock import centre_tz
from kefu.core.errors import Invalid
from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, CustomerReader, require
from kefu.quality import review as reviews
from kefu.quality.models import ReviewStatus
from kefu.quality.review import CompleteIn, JudgeIn, ManualFindingIn
from kefu.web.pages.common import Body, form_body, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[require(Permission.QA_REVIEW)])


@router.get("/quality/reviews")
def task_list(request: Request, user: CurrentUser, session: DB, status: str = "") -> HTMLResponse:
    chosen = status if status in {s.value for s in ReviewStatus} else None
    tasks = reviews.my_reviews(session, user.id, chosen)
    return render(
        request,
        "quality_reviews.html",
        user,
        tasks=tasks,
        status=chosen or "",
        statuses=[(s.value, s.label) for s in ReviewStatus],
        open_count=sum(1 for t in tasks if t.status == ReviewStatus.OPEN),
    )


@router.get("/quality/reviews/{review_id:int}")
def task_page(request: Request, review_id: Id, reader: CustomerReader, session: DB) -> HTMLResponse:
    review = reviews.read_review(session, reader.user, review_id)
    return render(request, "quality_review.html", reader.user, r=reviews.review_view(session, review, reader))


async def _body(request: Request, model: type[Body]) -> Body:
    """The posted form as the API's body; what cannot be accepted is the page's 422."""
    try:
        return form_body(model, await request.form())
    except ValidationError as problem:
        raise Invalid(validation.message(problem.errors()[0])) from None


def _back(review_id: int, anchor: str = "") -> str:
    return f"/quality/reviews/{review_id}{anchor}"


@router.post("/quality/reviews/{review_id:int}/judge/{finding_id:int}")
async def judge(request: Request, review_id: Id, finding_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    body = await _body(request, JudgeIn)
    reviews.do_judge_finding(session, user.id, review_id, finding_id, body.verdict, body.note)
    label = "确认" if body.verdict == "confirmed" else "推翻"
    return redirect(_back(review_id, f"#finding-{finding_id}"), f"已{label}该问题", request)


@router.post("/quality/reviews/{review_id:int}/findings")
async def add_finding(request: Request, review_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    body = await _body(request, ManualFindingIn)
    reviews.do_add_manual_finding(session, user.id, review_id, **body.model_dump())
    return redirect(_back(review_id, "#manual"), "已添加人工发现", request)


@router.post("/quality/reviews/{review_id:int}/findings/{finding_id:int}/delete")
async def remove_finding(
    request: Request, review_id: Id, finding_id: Id, user: CurrentUser, session: DB
) -> RedirectResponse:
    reviews.do_remove_manual_finding(session, user.id, review_id, finding_id)
    return redirect(_back(review_id, "#manual"), "已删除人工发现", request)


@router.post("/quality/reviews/{review_id:int}/complete")
async def complete(request: Request, review_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    body = await _body(request, CompleteIn)
    review = reviews.do_complete_review(session, user.id, review_id, comment=body.comment, version=body.version)
    return redirect(_back(review_id), f"复核已完成:人工评分 {review.manual_score}", request)


def _day(text: str) -> date | None:
    with contextlib.suppress(ValueError):
        return date.fromisoformat(text.strip())
    return None


@router.get("/quality/agreement")
def agreement_page(request: Request, user: CurrentUser, session: DB, start: str = "", end: str = "") -> HTMLResponse:
    first, last = _day(start), _day(end)
    error = None
    if (start.strip() and first is None) or (end.strip() and last is None):
        error = "日期格式应为 YYYY-MM-DD"
    elif first and last and first > last:
        error = "开始日期不能晚于结束日期"

    def at(day: date | None) -> datetime | None:
        return None if day is None else datetime(day.year, day.month, day.day, tzinfo=centre_tz())

    rows = [] if error else reviews.agreement(session, at(first), at(last + timedelta(days=1)) if last else None)
    return render(
        request,
        "quality_agreement.html",
        user,
        status_code=422 if error else 200,
        rows=rows,
        start=start,
        end=end,
        error=error,
    )
