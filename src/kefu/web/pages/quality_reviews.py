"""质检复核 pages: my review tasks, one task (the transcript with each finding marked, verdicts,
manual findings, the machine's score beside the inspector's) and the agreement per rule."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kefu.core.clock import centre_tz
from kefu.core.errors import Invalid
from kefu.core.fields import Id
from kefu.core.security import Permission
from kefu.http.deps import DB, CurrentUser, CustomerReader, require
from kefu.quality import review as reviews
from kefu.quality.models import ReviewStatus
from kefu.web.pages.common import redirect, render

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


async def _form(request: Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.form()).items()}


def _back(review_id: int, anchor: str = "") -> str:
    return f"/quality/reviews/{review_id}{anchor}"


@router.post("/quality/reviews/{review_id:int}/judge/{finding_id:int}")
async def judge(request: Request, review_id: Id, finding_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await _form(request)
    reviews.do_judge_finding(session, user.id, review_id, finding_id, form.get("verdict", ""), form.get("note"))
    label = "确认" if form.get("verdict") == "confirmed" else "推翻"
    return redirect(_back(review_id, f"#finding-{finding_id}"), f"已{label}该问题", request)


@router.post("/quality/reviews/{review_id:int}/findings")
async def add_finding(request: Request, review_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await _form(request)
    try:
        deduction = float(form.get("deduction", ""))
    except ValueError:
        raise Invalid("扣分应为数字") from None
    turn: int | None = None
    if form.get("turn", "").strip():
        try:
            turn = int(form["turn"]) - 1  # the page numbers turns from 1
        except ValueError:
            raise Invalid("句号应为数字") from None
    reviews.do_add_manual_finding(
        session,
        user.id,
        review_id,
        category=form.get("category", ""),
        deduction=deduction,
        message=form.get("message", ""),
        turn=turn,
        fatal=form.get("fatal") == "on",
    )
    return redirect(_back(review_id, "#manual"), "已添加人工发现", request)


@router.post("/quality/reviews/{review_id:int}/findings/{finding_id:int}/delete")
async def remove_finding(
    request: Request, review_id: Id, finding_id: Id, user: CurrentUser, session: DB
) -> RedirectResponse:
    reviews.do_remove_manual_finding(session, user.id, review_id, finding_id)
    return redirect(_back(review_id, "#manual"), "已删除人工发现", request)


@router.post("/quality/reviews/{review_id:int}/complete")
async def complete(request: Request, review_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await _form(request)
    try:
        version = int(form.get("version", ""))
    except ValueError:
        raise Invalid("缺少版本号,请刷新页面后重试") from None
    review = reviews.do_complete_review(session, user.id, review_id, comment=form.get("comment"), version=version)
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
