"""Training in the platform (SPEC §9, seed 004): the question bank, the theory exam (a paper
drawn per candidate, answers saved as they go, the deadline kept by the server, objective
questions graded at once and short answers by a trainer, one retake a week later, retraining
after a second failure), the trainees' stages, and item analysis. Every write is a ``do_*``
with its audit entry; who may see and do what is kefu.core.access (own / team / all)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.core import access
from kefu.core.access import Record, Scope
from kefu.core.audit import AuditAction, AuditEntity, record
from kefu.core.changes import check_version, save
from kefu.core.clock import on_centre_clock
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.security import Role
from kefu.core.settings import get_settings
from kefu.training import models as m
from kefu.training.analysis import Score, analyse
from kefu.training.paper import Blueprint, Drawable, draw, grade, parse_parts
from kefu.training.schemas import (
    AnswerIn,
    GradesIn,
    ItemOut,
    PaperQuestion,
    QuestionIn,
    QuestionOut,
    ResultOut,
    ReviewedQuestion,
    SittingOut,
    StageIn,
    TraineeOut,
)

GRACE_SECONDS = 5  # an answer on its way when the time ran out still counts
SHORT_ANSWER_CHARS = 2000

# ---------------------------------------------------------------- the rules


def blueprint() -> Blueprint:
    """Seed 004's theory exam, or the centre's (KEFU_EXAM_BLUEPRINT, _MINUTES, _PASS_MARK,
    _MULTIPLE_SCORING, _RETAKE_DAYS)."""
    s = get_settings()
    return Blueprint(
        parts=parse_parts(s.exam_blueprint), minutes=s.exam_minutes, pass_mark=s.exam_pass_mark,
        multiple_scoring=s.exam_multiple_scoring, retake_after_days=s.exam_retake_days,
    )  # fmt: skip


def today() -> date:
    return on_centre_clock(utcnow()).date()


def may_manage(user: User) -> bool:
    return access.scope_of(user, Record.TRAINING, write=True) is Scope.ALL


def _manager(user: User, what: str) -> None:
    if not may_manage(user):
        raise Forbidden(f"{user.role.label}无权{what}(培训师、主管可以)")


def _readable(user: User, agent: User, what: str) -> None:
    access.check(user, Record.TRAINING, [agent], what=what)


# ---------------------------------------------------------------- the bank


@cache
def shipped_bank() -> tuple[QuestionIn, ...]:
    """The bank kefu ships, written from the seeds' own content (kefu/training/data/questions.yaml)."""
    text = (resources.files("kefu.training") / "data" / "questions.yaml").read_text(encoding="utf-8")
    items = []
    for raw in yaml.safe_load(text):
        kind = raw["type"]
        category = {c.label: c.value for c in m.Category}[raw["category"]]
        answer = raw.get("answer")
        items.append(
            QuestionIn(
                code=raw["id"], type=kind, category=category, difficulty=raw.get("difficulty", 1),
                stem=raw["stem"], options=raw.get("options") or [], answer=None if kind == "short" else answer,
                reference=raw.get("reference"), rubric=raw.get("rubric"), explanation=raw.get("explanation"),
                source=raw.get("source"),
            )
        )  # fmt: skip
    return tuple(items)


def question_out(q: m.Question) -> QuestionOut:
    return QuestionOut(
        id=q.id, version=q.version, code=q.code, type=q.type, category=q.category, difficulty=q.difficulty,
        stem=q.stem, options=q.options, answer=q.answer, reference=q.reference, rubric=q.rubric,
        explanation=q.explanation, source=q.source, active=q.active,
    )  # fmt: skip


def questions(
    session: Session, user: User, *, kind: m.QuestionType | None = None, category: m.Category | None = None
) -> list[m.Question]:
    """The bank with its keys: trainers and supervisors only."""
    _manager(user, "查看题库")
    query = select(m.Question).order_by(m.Question.code)
    if kind is not None:
        query = query.where(m.Question.type == kind)
    if category is not None:
        query = query.where(m.Question.category == category)
    return list(session.scalars(query))


def _fill(q: m.Question, data: QuestionIn) -> None:
    for name in QuestionIn.model_fields:
        setattr(q, name, getattr(data, name))


def do_save_question(session: Session, actor: User, data: QuestionIn, version: int | None = None) -> m.Question:
    """A new question, or a change to the one with the same 题号 (``version``: the one edited)."""
    _manager(actor, "编辑题库")
    q = session.scalars(select(m.Question).where(m.Question.code == data.code)).first()
    if q is None:
        q = m.Question(code=data.code)
        _fill(q, data)
        session.add(q)
        session.flush()
        record(session, actor.id, AuditAction.CREATE, AuditEntity.QUESTION, q.id, detail=f"{q.code} {q.stem[:60]}")
        return q
    if version is None:
        raise Conflict(f"题号 {q.code} 已存在;修改请带上所编辑题目的版本号")
    check_version(q, version, f"题目 {q.code}")
    before = question_out(q).model_dump(mode="json")
    _fill(q, data)
    after = question_out(q).model_dump(mode="json")
    changed = {k: [before[k], after[k]] for k in QuestionIn.model_fields if before[k] != after[k]}
    if changed:
        record(session, actor.id, AuditAction.UPDATE, AuditEntity.QUESTION, q.id, changes=changed, detail=q.code)
        save(session, f"题目 {q.code}")
    return q


def do_import_questions(session: Session, actor: User, items: Sequence[QuestionIn], source: str) -> tuple[int, int]:
    """Questions by 题号: new ones added, existing ones replaced (a whole sheet is one action).
    Returns (added, changed)."""
    _manager(actor, "导入题库")
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        twice = sorted({c for c in codes if codes.count(c) > 1})
        raise Invalid(f"题号重复:{'、'.join(twice[:10])}")
    existing = {q.code: q for q in session.scalars(select(m.Question).where(m.Question.code.in_(codes)))}
    added = changed = 0
    for item in items:
        q = existing.get(item.code)
        if q is None:
            q = m.Question(code=item.code)
            session.add(q)
            added += 1
        elif question_out(q).model_dump(include=set(QuestionIn.model_fields)) != item.model_dump():
            changed += 1
        _fill(q, item)
    session.flush()
    record(
        session, actor.id, AuditAction.IMPORT, AuditEntity.QUESTION, None,
        detail=f"导入题库「{source}」:新增 {added} 道,修改 {changed} 道",
    )  # fmt: skip
    return added, changed


def do_load_shipped_bank(session: Session, actor: User) -> tuple[int, int]:
    return do_import_questions(session, actor, shipped_bank(), "kefu 随附题库")


# ---------------------------------------------------------------- trainees


def agents_on_duty(session: Session) -> list[User]:
    """Active agents, for choosing a partner or a candidate."""
    return list(
        session.scalars(select(User).where(User.role == Role.AGENT, User.active.is_(True)).order_by(User.agent_no))
    )


def _trainee(session: Session, agent_id: int) -> m.Trainee | None:
    return session.scalars(select(m.Trainee).where(m.Trainee.agent_id == agent_id)).first()


def stage_of(session: Session, agent_id: int) -> m.Stage:
    """Agents never put on the track are on duty."""
    found = _trainee(session, agent_id)
    return found.stage if found else m.Stage.ON_DUTY


def do_set_stage(session: Session, actor: User, data: StageIn) -> m.Trainee:
    """A trainer puts a new hire on the track (在训), sends them to the exams (待考 — this also
    starts a new round of attempts, after retraining), or lets them take calls (已上岗)."""
    _manager(actor, "设置培训状态")
    agent = get_or_404(session, User, data.agent_id, "用户")
    if agent.role is not Role.AGENT:
        raise Invalid(f"{agent.name}({agent.agent_no})是{agent.role.label},培训状态只针对话务员")
    trainee = _trainee(session, agent.id)
    old = trainee.stage.value if trainee else None
    if trainee is None:
        trainee = m.Trainee(agent_id=agent.id)
        session.add(trainee)
    trainee.stage, trainee.note, trainee.updated_by = data.stage, data.note, actor.id
    if data.stage is m.Stage.AWAITING_EXAM and old != m.Stage.AWAITING_EXAM.value:
        trainee.round_from = utcnow()
    session.flush()
    record(
        session, actor.id, AuditAction.UPDATE if old else AuditAction.CREATE, AuditEntity.TRAINEE, trainee.id,
        changes={"stage": [old, data.stage.value]}, detail=f"{agent.name}({agent.agent_no}):{data.stage.label}",
    )  # fmt: skip
    return trainee


def _round(session: Session, trainee: m.Trainee | None, agent_id: int) -> list[m.Sitting]:
    """The sittings of the current round (since the trainer last sent the agent to the exams)."""
    query = select(m.Sitting).where(m.Sitting.agent_id == agent_id).order_by(m.Sitting.attempt)
    if trainee is not None and trainee.round_from is not None:
        query = query.where(m.Sitting.started_at >= trainee.round_from)
    return list(session.scalars(query))


def trainees(session: Session, user: User) -> list[TraineeOut]:
    """The agents on the track that ``user`` may see (team lead: the team; trainer: all)."""
    scope = access.scope_of(user, Record.TRAINING)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看培训考核")
    out = []
    for t in session.scalars(select(m.Trainee).order_by(m.Trainee.updated_at.desc())):
        if not access.within(user, scope, [t.agent]):
            continue
        sittings = _round(session, t, t.agent_id)
        last = sittings[-1] if sittings else None
        out.append(
            TraineeOut(
                agent_id=t.agent_id, agent_no=t.agent.agent_no, name=t.agent.name, team=t.agent.team, stage=t.stage,
                note=t.note, attempts=len(sittings), last_total=last.total if last else None,
                retake_from=_retake_from(sittings),
            )
        )  # fmt: skip
    return out


def _retake_from(sittings: Sequence[m.Sitting]) -> date | None:
    failed = [s for s in sittings if s.status is m.SittingStatus.FAILED]
    if len(failed) != 1 or len(sittings) != 1:
        return None
    done = failed[0].submitted_at or failed[0].deadline
    return on_centre_clock(done).date() + timedelta(days=blueprint().retake_after_days)


# ---------------------------------------------------------------- sitting the exam


def _next_attempt(session: Session, agent_id: int) -> int:
    last = session.scalars(
        select(m.Sitting.attempt).where(m.Sitting.agent_id == agent_id).order_by(m.Sitting.attempt.desc())
    ).first()
    return (last or 0) + 1


def do_start_exam(session: Session, actor: User) -> m.Sitting:
    """The candidate starts (or, with a sitting under way, resumes) their theory exam."""
    trainee = _trainee(session, actor.id)
    if actor.role is not Role.AGENT or trainee is None:
        raise Forbidden("理论考核由培训师安排:您不在新人培训名单上")
    # A write to the trainee's row first: the row lock (PostgreSQL) or the writer's lock (SQLite)
    # lets one start through at a time, so a double click never draws a second paper.
    session.execute(update(m.Trainee).where(m.Trainee.id == trainee.id).values(updated_by=m.Trainee.updated_by))
    sittings = _round(session, trainee, actor.id)
    running = next((s for s in sittings if s.status is m.SittingStatus.IN_PROGRESS), None)
    if running is not None:
        return running
    if trainee.stage is m.Stage.RETRAINING:
        raise Forbidden("两次理论考核未通过,需重新参加培训;培训师确认后才能再次参加考核")
    if trainee.stage is not m.Stage.AWAITING_EXAM:
        raise Forbidden(f"当前培训状态为「{trainee.stage.label}」,培训师安排考核后才能开始")
    if any(s.status is m.SittingStatus.PASSED for s in sittings):
        raise Conflict("理论考核已经通过")
    if any(s.status is m.SittingStatus.GRADING for s in sittings):
        raise Conflict("上一次考试的简答题还在阅卷中,请等待结果")
    retake = _retake_from(sittings)
    if sittings and retake is None:
        raise Forbidden("两次理论考核未通过,需重新参加培训")
    if retake is not None and today() < retake:
        raise Invalid(f"补考须在首次考试一周之后:最早 {retake:%Y-%m-%d}")
    rules = blueprint()
    active = {q.id: q for q in session.scalars(select(m.Question).where(m.Question.active.is_(True)))}
    bank = [Drawable(q.id, q.type.value, q.category.value) for q in active.values()]
    try:
        drawn = draw(bank, rules, random.Random(secrets.randbits(64)))
    except ValueError as error:
        raise Invalid(f"{error},请联系培训师补充题库") from None
    paper = [{**item, **_snapshot(active[item["question_id"]])} for item in drawn]
    now = utcnow()
    sitting = m.Sitting(
        agent_id=actor.id, attempt=_next_attempt(session, actor.id), started_at=now,
        deadline=now + timedelta(minutes=rules.minutes), paper=paper, scores={}, comments={},
        policy={"minutes": rules.minutes, "pass_mark": rules.pass_mark, "multiple_scoring": rules.multiple_scoring},
    )  # fmt: skip
    session.add(sitting)
    session.flush()
    record(
        session, actor.id, AuditAction.START, AuditEntity.EXAM, sitting.id,
        detail=f"理论考核第 {len(sittings) + 1} 次:{len(paper)} 题,{rules.minutes} 分钟",
    )  # fmt: skip
    return sitting


def _snapshot(q: m.Question) -> dict[str, Any]:
    return {
        "code": q.code, "category": q.category.value, "stem": q.stem, "options": list(q.options), "key": q.answer,
        "reference": q.reference, "rubric": q.rubric, "explanation": q.explanation,
    }  # fmt: skip


def _own_sitting(session: Session, actor: User, sitting_id: int) -> m.Sitting:
    sitting = get_or_404(session, m.Sitting, sitting_id, "考试")
    if sitting.agent_id != actor.id:
        raise Forbidden("只能作答自己的考试")
    return sitting


def seconds_left(sitting: m.Sitting) -> int:
    return max(0, int((sitting.deadline - utcnow()).total_seconds()))


def answers_of(session: Session, sitting: m.Sitting) -> dict[int, Any]:
    """The candidate's saved answers, by question id."""
    rows = session.execute(select(m.Answer.question_id, m.Answer.answer).where(m.Answer.sitting_id == sitting.id))
    return {question_id: answer for question_id, answer in rows}


def _checked_answer(item: dict[str, Any], given: Any) -> Any:
    """The answer in the question's shape (as drawn on the paper), or a clear refusal."""
    kind = m.QuestionType(item["type"])
    if given is None or given == [] or given == "":
        return None
    if kind is m.QuestionType.TRUE_FALSE:
        if not isinstance(given, bool):
            raise Invalid("判断题请选择 对 或 错")
        return given
    if kind is m.QuestionType.SHORT:
        if not isinstance(given, str):
            raise Invalid("简答题请填写文字")
        if len(given) > SHORT_ANSWER_CHARS:
            raise Invalid(f"简答题最多 {SHORT_ANSWER_CHARS} 字")
        return given
    chosen = given if isinstance(given, list) else None
    if chosen is None or any(isinstance(i, bool) or not isinstance(i, int) for i in chosen):
        raise Invalid("选择题请选择选项")
    if any(i < 0 or i >= len(item["options"]) for i in chosen) or len(set(chosen)) != len(chosen):
        raise Invalid("选择了不存在的选项")
    if kind is m.QuestionType.SINGLE and len(chosen) != 1:
        raise Invalid("单选题只能选一个选项")
    return sorted(chosen)


def do_save_answer(session: Session, actor: User, sitting_id: int, data: AnswerIn) -> m.Sitting:
    """One answer, saved the moment it is given (a lost connection loses nothing); refused once
    the time is up — what was saved until then is what is graded."""
    sitting = _own_sitting(session, actor, sitting_id)
    if sitting.status is not m.SittingStatus.IN_PROGRESS:
        raise Conflict("这场考试已经交卷")
    if utcnow() > sitting.deadline + timedelta(seconds=GRACE_SECONDS):
        raise Conflict("考试时间已到,之后的作答不再保存;已保存的答案将被评分")
    item = next((p for p in sitting.paper if p["question_id"] == data.question_id), None)
    if item is None:
        raise Invalid("这道题不在您的试卷上")
    answer = _checked_answer(item, data.answer)
    now = utcnow()
    saved = session.scalars(
        select(m.Answer).where(m.Answer.sitting_id == sitting.id, m.Answer.question_id == data.question_id)
    ).first()
    if saved is None:
        try:
            with session.begin_nested():  # the same question saved twice at once: the later one wins
                session.add(m.Answer(sitting_id=sitting.id, question_id=data.question_id, answer=answer, saved_at=now))
        except IntegrityError:
            saved = session.scalars(
                select(m.Answer).where(m.Answer.sitting_id == sitting.id, m.Answer.question_id == data.question_id)
            ).one()
    if saved is not None:
        saved.answer, saved.saved_at = answer, now
    record(session, actor.id, AuditAction.UPDATE, AuditEntity.EXAM, sitting.id, detail=f"保存第 {data.question_id} 题")
    return sitting


def do_submit(session: Session, actor: User, sitting_id: int) -> m.Sitting:
    """Hand in: the candidate at any time, a trainer once the time is up (a candidate who left).
    Objective questions are graded at once; with short answers the result waits for grading."""
    sitting = get_or_404(session, m.Sitting, sitting_id, "考试")
    if sitting.agent_id != actor.id:
        _manager(actor, "代为收卷")
        if utcnow() <= sitting.deadline:
            raise Conflict("考试时间未到,只有考生本人可以交卷")
    if sitting.status is not m.SittingStatus.IN_PROGRESS:
        raise Conflict("这场考试已经交卷")
    now = utcnow()
    sitting.submitted_at = min(now, sitting.deadline)
    scoring = sitting.policy.get("multiple_scoring", "all_or_nothing")
    given = answers_of(session, sitting)
    scores: dict[str, Any] = {}
    for item in sitting.paper:
        answer = given.get(item["question_id"])
        scored = grade(item["type"], item["key"], answer, item["points"], scoring)
        if item["type"] == m.QuestionType.SHORT.value and not answer:
            scored = 0.0  # nothing written: nothing to grade
        scores[str(item["question_id"])] = scored
    sitting.scores = scores
    sitting.status = m.SittingStatus.GRADING
    _finish_if_graded(session, sitting, actor.id)
    record(
        session, actor.id, AuditAction.COMPLETE, AuditEntity.EXAM, sitting.id,
        detail="交卷" + ("(时间到,由培训师收卷)" if actor.id != sitting.agent_id else ""),
    )  # fmt: skip
    save(session, "考试")
    return sitting


def move_stage(session: Session, actor_id: int | None, trainee: m.Trainee, stage: m.Stage, note: str) -> None:
    """A stage the track itself reaches (retraining after a second failure, on duty after both
    exams), audited like a trainer's setting."""
    old = trainee.stage
    trainee.stage, trainee.note = stage, note
    if old is not stage:
        record(
            session, actor_id, AuditAction.UPDATE, AuditEntity.TRAINEE, trainee.id,
            changes={"stage": [old.value, stage.value]}, detail=f"{trainee.agent.name}:{note}",
        )  # fmt: skip


def on_duty_if_both_passed(session: Session, actor_id: int | None, trainee: m.Trainee) -> bool:
    """Theory (this round) and practical passed, in either order: on duty, two weeks coached."""
    theory = next((s for s in _round(session, trainee, trainee.agent_id) if s.status is m.SittingStatus.PASSED), None)
    practical = session.scalars(
        select(m.Practical)
        .where(m.Practical.agent_id == trainee.agent_id, m.Practical.passed.is_(True))
        .order_by(m.Practical.held_at.desc())
    ).first()
    if theory is None or practical is None:
        return False
    note = f"理论 {theory.total:g} 分、实操 {practical.total:g} 分,上岗;随后两周跟踪辅导"
    move_stage(session, actor_id, trainee, m.Stage.ON_DUTY, note)
    return True


def _finish_if_graded(session: Session, sitting: m.Sitting, actor_id: int | None) -> None:
    """All questions scored: the total, passed or failed, and the trainee's stage."""
    if any(v is None for v in sitting.scores.values()):
        return
    sitting.total = round(sum(float(v) for v in sitting.scores.values()), 2)
    passed = sitting.total >= float(sitting.policy["pass_mark"])
    sitting.status = m.SittingStatus.PASSED if passed else m.SittingStatus.FAILED
    trainee = _trainee(session, sitting.agent_id)
    if trainee is None:
        return
    failures = [s for s in _round(session, trainee, sitting.agent_id) if s.status is m.SittingStatus.FAILED]
    if passed:
        if not on_duty_if_both_passed(session, actor_id, trainee):
            trainee.note = f"理论考核通过({sitting.total:g} 分),待实操考核"
    elif len(failures) >= 2:
        move_stage(session, actor_id, trainee, m.Stage.RETRAINING, "两次理论考核未通过,需重新参加培训")
    else:
        retake = on_centre_clock(sitting.submitted_at or sitting.deadline).date() + timedelta(
            days=blueprint().retake_after_days
        )
        trainee.note = f"理论考核未通过({sitting.total:g} 分),可于 {retake:%Y-%m-%d} 起补考一次"


def do_grade(session: Session, actor: User, sitting_id: int, data: GradesIn) -> m.Sitting:
    """A trainer grades short answers (points up to the question's, with a comment); the result
    is final when every one is graded."""
    _manager(actor, "阅卷")
    sitting = get_or_404(session, m.Sitting, sitting_id, "考试")
    check_version(sitting, data.version, "这份试卷")
    if sitting.status is not m.SittingStatus.GRADING:
        raise Conflict(f"这份试卷{sitting.status.label},不在阅卷中")
    if sitting.agent_id == actor.id:
        raise Forbidden("不能批阅自己的试卷")
    points = {p["question_id"]: p for p in sitting.paper}
    scores, comments = dict(sitting.scores), dict(sitting.comments)
    for g in data.grades:
        item = points.get(g.question_id)
        if item is None or item["type"] != m.QuestionType.SHORT.value:
            raise Invalid(f"第 {g.question_id} 题不是这份试卷上的简答题")
        if g.points > item["points"]:
            raise Invalid(f"这道简答题满分 {item['points']:g} 分,不能给 {g.points:g} 分")
        scores[str(g.question_id)] = g.points
        comments[str(g.question_id)] = g.comment
    sitting.scores, sitting.comments, sitting.graded_by = scores, comments, actor.id
    _finish_if_graded(session, sitting, actor.id)
    record(
        session, actor.id, AuditAction.JUDGE, AuditEntity.EXAM, sitting.id,
        detail=f"阅卷 {len(data.grades)} 道简答题" + (f",总分 {sitting.total:g}" if sitting.total is not None else ""),
    )  # fmt: skip
    save(session, "考试")
    return sitting


# ---------------------------------------------------------------- what people see


def sitting_view(session: Session, user: User, sitting_id: int) -> SittingOut:
    """The paper as the candidate sits it: questions and their own answers, never the keys."""
    sitting = _own_sitting(session, user, sitting_id)
    given = answers_of(session, sitting)
    return SittingOut(
        id=sitting.id, version=sitting.version, agent_id=sitting.agent_id, agent_no=sitting.agent.agent_no,
        agent_name=sitting.agent.name, attempt=sitting.attempt, status=sitting.status, started_at=sitting.started_at,
        deadline=sitting.deadline, submitted_at=sitting.submitted_at, seconds_left=seconds_left(sitting),
        total=sitting.total, pass_mark=sitting.policy["pass_mark"],
        questions=[_paper_question(n, item, given) for n, item in enumerate(sitting.paper, 1)],
    )  # fmt: skip


def _paper_question(number: int, item: dict[str, Any], given: dict[int, Any]) -> PaperQuestion:
    return PaperQuestion(
        question_id=item["question_id"], number=number, type=item["type"], category=item["category"],
        points=item["points"], stem=item["stem"], options=item["options"], answer=given.get(item["question_id"]),
    )  # fmt: skip


def result_view(session: Session, user: User, sitting_id: int) -> ResultOut:
    """After hand-in: trainers see everything (to grade); the candidate and their team lead the
    result once it is final — points and right or wrong per question, never the keys, reference
    answers or grading points (the retake draws from the same bank)."""
    sitting = get_or_404(session, m.Sitting, sitting_id, "考试")
    _readable(user, sitting.agent, f"{sitting.agent.name}的考试")
    final = sitting.status in (m.SittingStatus.PASSED, m.SittingStatus.FAILED)
    if not may_manage(user) and not final:
        raise Forbidden("成绩在交卷并阅卷完成后公布")
    given = answers_of(session, sitting)
    keys = may_manage(user)
    questions = []
    for n, item in enumerate(sitting.paper, 1):
        qid = item["question_id"]
        questions.append(
            ReviewedQuestion(
                **_paper_question(n, item, given).model_dump(), scored=sitting.scores.get(str(qid)),
                comment=sitting.comments.get(str(qid)),
                **({"key": item["key"], "reference": item["reference"], "rubric": item["rubric"],
                    "explanation": item["explanation"]} if keys else {}),
            )
        )  # fmt: skip
    objective = sum(
        float(sitting.scores[str(item["question_id"])] or 0) for item in sitting.paper if item["type"] != "short"
    )
    return ResultOut(
        id=sitting.id, version=sitting.version, agent_id=sitting.agent_id, agent_no=sitting.agent.agent_no,
        agent_name=sitting.agent.name, attempt=sitting.attempt, status=sitting.status,
        submitted_at=sitting.submitted_at, total=sitting.total, objective=objective,
        pass_mark=sitting.policy["pass_mark"], questions=questions,
    )  # fmt: skip


def sittings(session: Session, user: User) -> list[m.Sitting]:
    """The sittings ``user`` may see: their own, the team's (team lead), everyone's (trainer)."""
    scope = access.scope_of(user, Record.TRAINING)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看培训考核")
    rows = session.scalars(select(m.Sitting).order_by(m.Sitting.started_at.desc()).limit(1000))
    return [s for s in rows if access.within(user, scope, [s.agent])]


def my_exam(session: Session, user: User) -> tuple[m.Stage, list[m.Sitting], date | None]:
    """The candidate's stage, their sittings of this round and when a retake may start."""
    trainee = _trainee(session, user.id)
    rounds = _round(session, trainee, user.id) if trainee else []
    return (trainee.stage if trainee else m.Stage.ON_DUTY), rounds, _retake_from(rounds)


# ---------------------------------------------------------------- item analysis


def final_sittings(session: Session, user: User) -> list[m.Sitting]:
    _manager(user, "查看试题分析")
    query = select(m.Sitting).where(m.Sitting.status.in_([m.SittingStatus.PASSED, m.SittingStatus.FAILED]))
    return list(session.scalars(query.order_by(m.Sitting.id)))


def item_analysis(session: Session, user: User) -> list[ItemOut]:
    """Moodle's facility and discrimination indexes over every final sitting."""
    scores = []
    sittings_ = final_sittings(session, user)
    ids = {item["question_id"] for s in sittings_ for item in s.paper}
    questions = {q.id: q for q in session.scalars(select(m.Question).where(m.Question.id.in_(ids)))}
    for sitting in sittings_:
        for item in sitting.paper:
            scores.append(
                Score(str(sitting.id), str(item["question_id"]), float(sitting.scores[str(item["question_id"])]),
                      float(item["points"]))
            )  # fmt: skip
    out = []
    for found in analyse(scores):
        q = questions[int(found.question)]
        out.append(
            ItemOut(
                question_id=q.id, code=q.code, stem=q.stem, type=q.type, attempts=found.attempts,
                facility=found.facility, discrimination=found.discrimination, advice=found.advice,
            )
        )  # fmt: skip
    return out
