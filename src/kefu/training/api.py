"""/api/training: the question bank (Excel in and out, the shipped bank), trainees' stages, the
theory exam (start, answers saved as one goes, hand-in, grading, results) and item analysis.
Thin: who may see or do what is kefu.training.service's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from kefu.core.audit import AuditAction, AuditEntity, record
from kefu.core.fields import Id, Version
from kefu.core.spreadsheets import MEDIA_TYPES, to_csv
from kefu.dataio.api import read_upload
from kefu.dataio.questions import questions_workbook, read_questions
from kefu.http.api_docs import download_responses
from kefu.http.deps import DB, CurrentUser
from kefu.training import practice, roleplay, service
from kefu.training.models import Category, QuestionType, SittingStatus
from kefu.training.schemas import (
    AnswerIn,
    AssignIn,
    GradesIn,
    ItemOut,
    PairIn,
    PairScoreIn,
    PracticalIn,
    QuestionIn,
    QuestionOut,
    ReplyIn,
    ResultOut,
    RolePlayIn,
    RolePlayOut,
    SittingOut,
    StageIn,
    TraineeOut,
)

router = APIRouter(prefix="/api/training", tags=["training"])
XLSX = MEDIA_TYPES["xlsx"]


@router.get("/questions")
def questions(
    user: CurrentUser, session: DB, type: QuestionType | None = None, category: Category | None = None
) -> list[QuestionOut]:
    """The bank with its keys (trainers, supervisors)."""
    return [service.question_out(q) for q in service.questions(session, user, kind=type, category=category)]


@router.post("/questions")
def save_question(
    body: QuestionIn, user: CurrentUser, session: DB, version: Annotated[Version | None, Query()] = None
) -> QuestionOut:
    """A new question, or a change to the one with the same 题号 (with the ``version`` edited)."""
    return service.question_out(service.do_save_question(session, user, body, version))


@router.post("/questions/shipped")
def load_shipped(user: CurrentUser, session: DB) -> dict[str, int]:
    """Add (or bring back to its shipped wording) kefu's own bank, written from the seeds."""
    added, changed = service.do_load_shipped_bank(session, user)
    return {"added": added, "changed": changed}


@router.post("/questions/import")
def import_questions(user: CurrentUser, session: DB, file: Annotated[UploadFile, File()]) -> dict[str, int]:
    """An Excel or CSV sheet (题号, 题型, 考核范围, 题干, 选项A–F, 答案, …): all rows or none."""
    items = read_questions(read_upload(file), file.filename or "题库")
    added, changed = service.do_import_questions(session, user, items, file.filename or "题库")
    return {"added": added, "changed": changed}


@router.get(
    "/questions/export", response_class=Response, responses=download_responses("xlsx", description="题库 .xlsx")
)
def export_questions(user: CurrentUser, session: DB) -> Response:
    items = [service.question_out(q) for q in service.questions(session, user)]
    record(session, user.id, AuditAction.EXPORT, AuditEntity.QUESTION, None, detail=f"导出题库 {len(items)} 道")
    return Response(
        questions_workbook(items), media_type=XLSX, headers={"Content-Disposition": 'attachment; filename="bank.xlsx"'}
    )


@router.get("/trainees")
def trainees(user: CurrentUser, session: DB) -> list[TraineeOut]:
    return service.trainees(session, user)


@router.put("/trainees")
def set_stage(body: StageIn, user: CurrentUser, session: DB) -> list[TraineeOut]:
    """在训 / 待考 (a new round of attempts) / 已上岗 / 需重新培训, set by a trainer."""
    service.do_set_stage(session, user, body)
    return service.trainees(session, user)


@router.post("/exams", status_code=201)
def start_exam(user: CurrentUser, session: DB) -> SittingOut:
    """The candidate's theory exam: a paper drawn for them, or the one under way."""
    sitting = service.do_start_exam(session, user)
    return service.sitting_view(session, user, sitting.id)


@router.get("/exams/{sitting_id}")
def exam(sitting_id: Id, user: CurrentUser, session: DB) -> SittingOut:
    return service.sitting_view(session, user, sitting_id)


@router.put("/exams/{sitting_id}/answers")
def save_answer(sitting_id: Id, body: AnswerIn, user: CurrentUser, session: DB) -> dict[str, int]:
    """One answer, kept at once; refused after the time is up."""
    sitting = service.do_save_answer(session, user, sitting_id, body)
    return {"seconds_left": service.seconds_left(sitting)}


@router.post("/exams/{sitting_id}/submit")
def submit(sitting_id: Id, user: CurrentUser, session: DB) -> dict[str, object]:
    sitting = service.do_submit(session, user, sitting_id)
    final = sitting.status in (SittingStatus.PASSED, SittingStatus.FAILED)
    return {"status": sitting.status.value, "label": sitting.status.label, "total": sitting.total if final else None}


@router.post("/exams/{sitting_id}/grades")
def grade(sitting_id: Id, body: GradesIn, user: CurrentUser, session: DB) -> ResultOut:
    service.do_grade(session, user, sitting_id, body)
    return service.result_view(session, user, sitting_id)


@router.get("/exams/{sitting_id}/result")
def result(sitting_id: Id, user: CurrentUser, session: DB) -> ResultOut:
    return service.result_view(session, user, sitting_id)


@router.get("/analysis")
def analysis(user: CurrentUser, session: DB) -> list[ItemOut]:
    """Facility and discrimination of every question answered in a final sitting (Moodle's definitions)."""
    return service.item_analysis(session, user)


@router.get("/results.csv", response_class=Response, responses=download_responses("csv", description="考试成绩 CSV"))
def results_csv(user: CurrentUser, session: DB) -> Response:
    """Every final sitting, one row per candidate and question — what ``kefu exam analyse`` reads."""
    rows = [
        (f"{s.agent.agent_no}#{s.attempt}", item["code"], s.scores[str(item["question_id"])], item["points"])
        for s in service.final_sittings(session, user)
        for item in s.paper
    ]
    record(session, user.id, AuditAction.EXPORT, AuditEntity.EXAM, None, detail=f"导出考试成绩 {len(rows)} 行")
    return Response(
        to_csv(["考生", "题号", "得分", "满分"], rows), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="results.csv"'},
    )  # fmt: skip


def roleplay_out(play: Any) -> RolePlayOut:
    scenario = practice.scenario_of(play.scenario)
    return RolePlayOut(
        id=play.id, agent_id=play.agent_id, scenario=scenario.code, chapter=scenario.chapter, title=scenario.title,
        description=scenario.description, customer=scenario.customer, notes=scenario.notes,
        turns=play.state["turns"], finished=play.finished_at is not None, started_at=play.started_at,
        finished_at=play.finished_at, result=play.result, partner_id=play.partner_id,
        trainer_score=play.trainer_score, trainer_comment=play.trainer_comment,
    )  # fmt: skip


@router.get("/scenarios")
def scenarios(user: CurrentUser) -> list[dict[str, object]]:
    """The simulation handbook: five chapters, each scenario with its description, customer,
    key phrases (required or optional) and notes."""
    return [
        {"code": s.code, "chapter": s.chapter, "title": s.title, "description": s.description, "customer": s.customer,
         "notes": s.notes, "key_phrases": [{"text": k.text, "required": k.required} for k in s.key_phrases]}
        for s in roleplay.scenarios().values()
    ]  # fmt: skip


@router.post("/roleplays", status_code=201)
def start_roleplay(body: RolePlayIn, user: CurrentUser, session: DB) -> RolePlayOut:
    return roleplay_out(practice.do_start_roleplay(session, user, body.scenario, body.assignment_id))


@router.post("/roleplays/pairs", status_code=201)
def start_pair(body: PairIn, user: CurrentUser, session: DB) -> RolePlayOut:
    """两两配对: the user plays the agent, ``partner_id`` the customer; both say their lines with
    /reply, either ends it with /finish; a trainer scores it with /score."""
    return roleplay_out(practice.do_start_pair(session, user, body.scenario, body.partner_id))


@router.post("/roleplays/{play_id}/finish")
def finish_pair(play_id: Id, user: CurrentUser, session: DB) -> RolePlayOut:
    return roleplay_out(practice.do_finish_pair(session, user, play_id))


@router.post("/roleplays/{play_id}/score")
def score_pair(play_id: Id, body: PairScoreIn, user: CurrentUser, session: DB) -> RolePlayOut:
    return roleplay_out(practice.do_score_pair(session, user, play_id, body.score, body.comment))


@router.post("/roleplays/{play_id}/reply")
def reply(play_id: Id, body: ReplyIn, user: CurrentUser, session: DB) -> RolePlayOut:
    """The agent's reply; the scripted customer answers; at the end the transcript is scored."""
    return roleplay_out(practice.do_roleplay_reply(session, user, play_id, body.text))


@router.get("/roleplays/{play_id}")
def get_roleplay(play_id: Id, user: CurrentUser, session: DB) -> RolePlayOut:
    return roleplay_out(practice.roleplay_of(session, user, play_id))


@router.post("/practicals", status_code=201)
def record_practical(body: PracticalIn, user: CurrentUser, session: DB) -> dict[str, object]:
    """The practical exam: the trainer's five scores and the simulated calls, each inspected."""
    calls = [practice.SimulatedCall(c.scenario, c.transcript) for c in body.calls]
    done = practice.do_record_practical(session, user, body.agent_id, calls, body.scores, body.comments, body.comment)
    return {"id": done.id, "total": done.total, "passed": done.passed, "calls": done.calls}


@router.post("/assignments", status_code=201)
def assign(body: AssignIn, user: CurrentUser, session: DB) -> dict[str, int]:
    """Practice for an agent (a scenario or an article), with the inspection rules it answers."""
    done = practice.do_assign(session, user, body.agent_id, body.scenario, body.article_id, body.rules, body.reason)
    return {"id": done.id}
