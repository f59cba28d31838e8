"""培训考核 pages: the trainer's overview (trainees and their stages, papers to grade), the question
bank (the shipped bank, Excel in and out), the candidate's theory exam with its server-kept timer
and answers saved as they go, results and grading, and item analysis. Forms post the API's
bodies to the same service functions."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from kefu.core.db import attempt
from kefu.core.errors import Conflict, Forbidden, Invalid, NotFound
from kefu.core.fields import Id
from kefu.dataio.api import read_upload
from kefu.dataio.questions import read_questions
from kefu.http.deps import DB, CurrentUser
from kefu.inspection.charts import Bar, hbars
from kefu.training import service
from kefu.training.models import Category, QuestionType, SittingStatus, Stage
from kefu.training.schemas import LETTERS, GradesIn, StageIn
from kefu.web.pages.common import form_body, form_int, form_problems, redirect, render

router = APIRouter(include_in_schema=False)
REFUSALS = (Invalid, Conflict, Forbidden, NotFound)
LABELS = {"agent_id": "话务员", "stage": "培训状态", "note": "备注", "points": "得分", "comment": "评语"}


@router.get("/training")
def home(request: Request, user: CurrentUser, session: DB) -> Response:
    if service.may_manage(user):
        rows = service.sittings(session, user)
        return render(
            request, "training_home.html", user, trainees=service.trainees(session, user), stages=list(Stage),
            grading=[s for s in rows if s.status is SittingStatus.GRADING],
            overdue=[s for s in rows if s.status is SittingStatus.IN_PROGRESS and service.seconds_left(s) == 0],
            recent=rows[:30], bank=len(service.questions(session, user)), may_manage=True,
        )  # fmt: skip
    stage, rounds, retake = service.my_exam(session, user)
    return render(
        request, "training_home.html", user, trainees=service.trainees(session, user), stage=stage, rounds=rounds,
        retake=retake, recent=service.sittings(session, user)[:30], may_manage=False,
        rules=service.blueprint(),
    )  # fmt: skip


@router.post("/training/trainees")
async def stage_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    try:
        body = form_body(StageIn, form)
    except ValidationError as problem:
        return redirect("/training", "没有保存:" + form_problems(problem, LABELS), request)
    try:
        with attempt(session):
            service.do_set_stage(session, user, body)
    except REFUSALS as error:
        return redirect("/training", str(error), request)
    return redirect("/training", f"培训状态已设为「{body.stage.label}」", request)


# ---------------------------------------------------------------- the bank


@router.get("/training/questions")
def bank_page(
    request: Request, user: CurrentUser, session: DB, type: QuestionType | None = None, category: Category | None = None
) -> HTMLResponse:
    everything = service.questions(session, user)
    shown = [q for q in everything if (type is None or q.type is type) and (category is None or q.category is category)]
    counts = Counter((q.type, q.category) for q in everything if q.active)
    return render(
        request, "training_questions.html", user, questions=shown, counts=counts, types=list(QuestionType),
        categories=list(Category), type=type, category=category, total=len(everything),
        shipped=len(service.shipped_bank()), letters=LETTERS, rules=service.blueprint(),
    )  # fmt: skip


@router.post("/training/questions/shipped")
async def shipped_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    try:
        with attempt(session):
            added, changed = service.do_load_shipped_bank(session, user)
    except REFUSALS as error:
        return redirect("/training/questions", str(error), request)
    return redirect("/training/questions", f"随附题库已载入:新增 {added} 道,恢复 {changed} 道", request)


@router.post("/training/questions/import")
async def import_form(
    request: Request, user: CurrentUser, session: DB, file: Annotated[UploadFile, File()]
) -> RedirectResponse:
    try:
        items = read_questions(read_upload(file), file.filename or "题库")
        with attempt(session):
            added, changed = service.do_import_questions(session, user, items, file.filename or "题库")
    except REFUSALS as error:
        return redirect("/training/questions", "没有导入:" + str(error), request)
    return redirect("/training/questions", f"已导入:新增 {added} 道,修改 {changed} 道", request)


# ---------------------------------------------------------------- the exam


@router.post("/training/exams")
async def start_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    try:
        with attempt(session):
            sitting = service.do_start_exam(session, user)
    except REFUSALS as error:
        return redirect("/training", str(error), request)
    return redirect(f"/training/exams/{sitting.id}")


@router.get("/training/exams/{sitting_id}")
def exam_page(request: Request, sitting_id: Id, user: CurrentUser, session: DB) -> Response:
    view = service.sitting_view(session, user, sitting_id)
    if view.status is not SittingStatus.IN_PROGRESS:
        return RedirectResponse(f"/training/exams/{sitting_id}/result", status_code=303)
    return render(request, "training_exam.html", user, view=view, letters=LETTERS)


@router.post("/training/exams/{sitting_id}/submit")
async def submit_form(request: Request, sitting_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    try:
        with attempt(session):
            sitting = service.do_submit(session, user, sitting_id)
    except REFUSALS as error:
        return redirect("/training", str(error), request)
    if sitting.status is SittingStatus.GRADING:
        return redirect("/training", "已交卷:客观题已评分,简答题待培训师阅卷后公布成绩", request)
    return redirect(f"/training/exams/{sitting_id}/result", "已交卷", request)


@router.get("/training/exams/{sitting_id}/result")
def result_page(request: Request, sitting_id: Id, user: CurrentUser, session: DB) -> HTMLResponse:
    view = service.result_view(session, user, sitting_id)
    return render(
        request, "training_result.html", user, view=view, letters=LETTERS,
        may_grade=service.may_manage(user) and view.status is SittingStatus.GRADING and view.agent_id != user.id,
    )  # fmt: skip


@router.post("/training/exams/{sitting_id}/grades")
async def grade_form(request: Request, sitting_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    """Every short answer's ``points-<question id>`` and ``comment-<question id>``."""
    back = f"/training/exams/{sitting_id}/result"
    form = await request.form()
    grades: list[dict[str, Any]] = []
    for name, value in form.items():
        if name.startswith("points-") and str(value).strip():
            question = name.removeprefix("points-")
            grades.append(
                {"question_id": question, "points": value, "comment": form.get(f"comment-{question}") or None}
            )
    try:
        body = GradesIn.model_validate({"version": form_int(form.get("version")), "grades": grades})
    except ValidationError as problem:
        return redirect(back, "没有保存:" + form_problems(problem, LABELS), request)
    try:
        with attempt(session):
            sitting = service.do_grade(session, user, sitting_id, body)
    except REFUSALS as error:
        return redirect(back, str(error), request)
    done = f"阅卷完成:{sitting.total:g} 分,{sitting.status.label}" if sitting.total is not None else "评分已保存"
    return redirect(back, done, request)


# ---------------------------------------------------------------- item analysis


@router.get("/training/analysis")
def analysis_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    items = service.item_analysis(session, user)
    flagged = [i for i in items if i.discrimination is not None]
    flagged.sort(key=lambda i: i.discrimination)  # type: ignore[arg-type,return-value]
    bars = [
        Bar(key=i.code, name=i.code, sub=i.stem[:18], count=max(i.discrimination or 0.0, 0.0),
            title=f"{i.code} 区分度 {i.discrimination:.2f},难度(答对率){(i.facility or 0):.0%}",
            tone="bad" if (i.discrimination or 0) < 0.2 else "good", value=f"{i.discrimination:.2f}")
        for i in flagged[:15]
    ]  # fmt: skip
    chart = hbars(bars, "区分度最低的题目", "question", scale=1.0) if bars else None
    return render(request, "training_analysis.html", user, items=items, chart=chart)
