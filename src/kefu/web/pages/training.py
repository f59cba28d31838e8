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

from kefu.accounts.models import User
from kefu.core.db import attempt
from kefu.core.errors import Conflict, Forbidden, Invalid, NotFound
from kefu.core.fields import Id
from kefu.core.security import Role
from kefu.dataio.api import read_upload
from kefu.dataio.questions import read_questions
from kefu.http.deps import DB, CurrentUser
from kefu.inspection.charts import Bar, hbars
from kefu.training import practice, roleplay, service
from kefu.training.models import Category, QuestionType, SittingStatus, Stage
from kefu.training.schemas import (
    LETTERS,
    AssignIn,
    GradesIn,
    PairIn,
    PairScoreIn,
    PracticalIn,
    ReplyIn,
    RolePlayIn,
    StageIn,
)
from kefu.web.pages.common import form_int, form_problems, redirect, submit_form
from kefu.web.pages.common import render as render_page

router = APIRouter(include_in_schema=False)
REFUSALS = (Invalid, Conflict, Forbidden, NotFound)


def render(request: Request, name: str, user: Any, **context: Any) -> HTMLResponse:
    """A training page, with whether the tabs offer the trainer's pages."""
    return render_page(request, name, user, can_manage=service.may_manage(user), **context)


LABELS = {"agent_id": "话务员", "stage": "培训状态", "note": "备注", "grades": "简答题评分", "comment": "评语"}


@router.get("/training")
def home(request: Request, user: CurrentUser, session: DB) -> Response:
    if service.may_manage(user):
        rows = service.sittings(session, user)
        return render(
            request, "training_home.html", user, trainees=service.trainees(session, user), stages=list(Stage),
            grading=[s for s in rows if s.status is SittingStatus.GRADING],
            overdue=[s for s in rows if s.status is SittingStatus.IN_PROGRESS and service.seconds_left(s) == 0],
            recent=rows[:30], bank=len(service.questions(session, user)), may_manage=True,
            practicals=practice.practicals(session, user)[:30],
        )  # fmt: skip
    stage, rounds, retake = service.my_exam(session, user)
    return render(
        request, "training_home.html", user, trainees=service.trainees(session, user), stage=stage, rounds=rounds,
        retake=retake, recent=service.sittings(session, user)[:30], may_manage=False,
        practicals=practice.practicals(session, user)[:30],
        rules=service.blueprint(),
    )  # fmt: skip


@router.post("/training/trainees")
async def stage_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def put(body: StageIn) -> object:
        return service.do_set_stage(session, user, body)

    return await submit_form(
        request, session, StageIn, "/training", put, lambda t: f"培训状态已设为「{t.stage.label}」", LABELS, "/training"
    )


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
async def hand_in_form(request: Request, sitting_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
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


# ---------------------------------------------------------------- role play


@router.get("/training/roleplay")
def handbook_page(request: Request, user: CurrentUser, session: DB) -> HTMLResponse:
    mine = practice.roleplays(session, user, user.id) if user.role is Role.AGENT else []
    todo = [e for e in practice.assignments(session, user, user.id) if e.assignment.done_at is None]
    partners = [a for a in service.agents_on_duty(session) if a.id != user.id]
    pairs = practice.pair_plays(session, user)
    return render(
        request, "training_handbook.html", user, scenarios=list(roleplay.scenarios().values()), partners=partners,
        pairs=pairs,
        chapters=roleplay.CHAPTERS, mine=mine, todo=todo if user.role is Role.AGENT else [],
        may_play=user.role is Role.AGENT,
    )  # fmt: skip


@router.post("/training/roleplay")
async def start_roleplay_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def start(body: RolePlayIn) -> object:
        return practice.do_start_roleplay(session, user, body.scenario, body.assignment_id)

    return await submit_form(
        request, session, RolePlayIn, "/training/roleplay", start, None, LABELS, "/training",
        refused="没有开始:", to=lambda play: f"/training/roleplay/{play.id}",
    )  # fmt: skip


@router.post("/training/roleplay/pairs")
async def start_pair_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    def start(body: PairIn) -> object:
        return practice.do_start_pair(session, user, body.scenario, body.partner_id)

    return await submit_form(
        request, session, PairIn, "/training/roleplay", start, None, {"partner_id": "搭档"}, "/training",
        refused="没有开始:", to=lambda play: f"/training/roleplay/{play.id}",
    )  # fmt: skip


@router.post("/training/roleplay/{play_id}/finish")
async def finish_pair_form(request: Request, play_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    back = f"/training/roleplay/{play_id}"
    try:
        with attempt(session):
            practice.do_finish_pair(session, user, play_id)
    except REFUSALS as error:
        return redirect(back, str(error), request)
    return redirect(back + "#result", "演练结束,已评分", request)


@router.post("/training/roleplay/{play_id}/score")
async def score_pair_form(request: Request, play_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    back = f"/training/roleplay/{play_id}"

    def score(body: PairScoreIn) -> object:
        return practice.do_score_pair(session, user, play_id, body.score, body.comment)

    return await submit_form(
        request, session, PairScoreIn, back, score, "评分已保存", {"score": "评分", "comment": "评语"}, "/training",
        to=lambda _: back + "#result",
    )  # fmt: skip


@router.get("/training/roleplay/{play_id}")
def roleplay_page(request: Request, play_id: Id, user: CurrentUser, session: DB) -> HTMLResponse:
    play = practice.roleplay_of(session, user, play_id)
    scenario = practice.scenario_of(play.scenario)
    part = "agent" if user.id == play.agent_id else ("customer" if user.id == play.partner_id else None)
    return render(request, "training_roleplay.html", user, play=play, scenario=scenario, part=part)


@router.post("/training/roleplay/{play_id}/reply")
async def reply_form(request: Request, play_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    back = f"/training/roleplay/{play_id}"

    def say(body: ReplyIn) -> object:
        return practice.do_roleplay_reply(session, user, play_id, body.text)

    return await submit_form(
        request, session, ReplyIn, back, say, lambda play: "演练结束,已评分" if play.finished_at else None,
        {"text": "回复"}, "/training", refused="",
        to=lambda play: back + ("#result" if play.finished_at else "#reply"),
    )  # fmt: skip


# ---------------------------------------------------------------- the practical exam


@router.get("/training/practicals/new")
def practical_form_page(request: Request, user: CurrentUser, session: DB, agent_id: int | None = None) -> HTMLResponse:
    if not service.may_manage(user):
        raise Forbidden(f"{user.role.label}无权记录实操考核(培训师、主管可以)")
    return render(
        request, "training_practical_new.html", user, scenarios=list(roleplay.scenarios().values()),
        criteria=practice.CRITERIA, agent_id=agent_id, trainees=service.trainees(session, user),
    )  # fmt: skip


@router.post("/training/practicals")
async def practical_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    calls = [
        {"scenario": form.get(f"scenario-{i}"), "transcript": form.get(f"transcript-{i}")}
        for i in range(3)
        if str(form.get(f"scenario-{i}") or "").strip() and str(form.get(f"transcript-{i}") or "").strip()
    ]
    data = {
        "agent_id": form.get("agent_id"), "calls": calls,
        "scores": {k: form.get(f"score-{k}") for k in practice.CRITERIA if str(form.get(f"score-{k}") or "").strip()},
        "comments": {k: str(form.get(f"comment-{k}")) for k in practice.CRITERIA if form.get(f"comment-{k}")},
        "comment": form.get("comment") or None,
    }  # fmt: skip
    back = f"/training/practicals/new?agent_id={form_int(form.get('agent_id')) or ''}"
    try:
        body = PracticalIn.model_validate(data)
    except ValidationError as problem:
        return redirect(
            back, "没有保存:" + form_problems(problem, {**LABELS, "calls": "模拟通话", "scores": "评分"}), request
        )
    try:
        with attempt(session):
            done = practice.do_record_practical(
                session, user, body.agent_id, [practice.SimulatedCall(c.scenario, c.transcript) for c in body.calls],
                body.scores, body.comments, body.comment,
            )  # fmt: skip
    except REFUSALS as error:
        return redirect(back, str(error), request)
    return redirect(
        f"/training/practicals/{done.id}", f"实操考核 {done.total:g} 分,{'通过' if done.passed else '未通过'}", request
    )


@router.get("/training/practicals/{practical_id}")
def practical_page(request: Request, practical_id: Id, user: CurrentUser, session: DB) -> HTMLResponse:
    return render(request, "training_practical.html", user, p=practice.practical_of(session, user, practical_id))


# ---------------------------------------------------------------- the loop


@router.get("/training/agents/{agent_id}/practice")
def practice_page(request: Request, agent_id: Id, user: CurrentUser, session: DB) -> HTMLResponse:
    found, plans = practice.proposals(session, user, agent_id)
    return render(
        request, "training_practice.html", user, agent=session.get(User, agent_id), proposals=found, plans=plans,
        effects=practice.assignments(session, user, agent_id), scenarios=roleplay.scenarios(),
    )  # fmt: skip


@router.post("/training/assignments")
async def assign_form(request: Request, user: CurrentUser, session: DB) -> RedirectResponse:
    form = await request.form()
    back = f"/training/agents/{form_int(form.get('agent_id')) or 0}/practice"

    def assign(body: AssignIn) -> object:
        return practice.do_assign(session, user, body.agent_id, body.scenario, body.article_id, body.rules, body.reason)

    return await submit_form(
        request, session, AssignIn, back, assign, "练习已安排", LABELS, "/training", refused="没有安排:"
    )


@router.post("/training/assignments/{assignment_id}/read")
async def read_form(request: Request, assignment_id: Id, user: CurrentUser, session: DB) -> RedirectResponse:
    try:
        with attempt(session):
            practice.do_finish_reading(session, user, assignment_id)
    except REFUSALS as error:
        return redirect("/training/roleplay", str(error), request)
    return redirect("/training/roleplay", "已完成阅读任务", request)
