"""Training and exams (SPEC §9, seed 004): the question bank, theory-exam sittings and each new
hire's place on the track (在训 → 待考 → 已上岗, or 需重新培训 after a second failure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.core.choices import ChoiceSet, enum_column
from kefu.core.db import Base, Timestamped, Versioned


class QuestionType(ChoiceSet, title="题型"):
    SINGLE = "single", "单选题"
    MULTIPLE = "multiple", "多选题"
    TRUE_FALSE = "true_false", "判断题"
    SHORT = "short", "简答题"


class Category(ChoiceSet, title="考核范围"):
    """Seed 004's areas of the theory exam."""

    PRODUCT = "product", "产品知识"
    SKILLS = "skills", "话务技巧"
    SYSTEM = "system", "系统操作"
    POLICY = "policy", "公司政策"
    SERVICE = "service", "服务规范"


class Question(Versioned, Timestamped, Base):
    __tablename__ = "training_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # 题号, kept across imports: Q0001
    type: Mapped[QuestionType] = mapped_column(enum_column(QuestionType), index=True)
    category: Mapped[Category] = mapped_column(enum_column(Category), index=True)
    difficulty: Mapped[int] = mapped_column(default=1)  # 1 easy … 3 hard
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)  # single and multiple choice
    answer: Mapped[Any] = mapped_column(JSON)  # option indexes (choice), true/false, None (short answer)
    reference: Mapped[str | None] = mapped_column(Text)  # short answer: the reference answer
    rubric: Mapped[str | None] = mapped_column(Text)  # short answer: the grading points
    explanation: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True, index=True)  # retired questions are never drawn


class SittingStatus(ChoiceSet, title="考试状态"):
    IN_PROGRESS = "in_progress", "作答中", "primary"
    GRADING = "grading", "待阅卷", "warning"
    PASSED = "passed", "通过", "success"
    FAILED = "failed", "未通过", "danger"


class Sitting(Versioned, Base):
    """One candidate's theory exam: the paper drawn for them, their answers as they go, the
    grading. The deadline is the server's; nothing saved after it counts."""

    __tablename__ = "training_sittings"
    __table_args__ = (UniqueConstraint("agent_id", "attempt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    attempt: Mapped[int]  # counted over all rounds: after retraining the next paper is the 3rd
    status: Mapped[SittingStatus] = mapped_column(enum_column(SittingStatus), default=SittingStatus.IN_PROGRESS)
    started_at: Mapped[datetime]
    deadline: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    # The questions as drawn (id, type, points, stem, options, key, reference, rubric), in order: a
    # question edited later (a key corrected after the item analysis) leaves this paper as it was.
    paper: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # question id → points (None: to grade)
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # short answers: the grader's comment
    total: Mapped[float | None]
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)  # minutes, pass mark, scoring rule it was sat under
    graded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")


class Answer(Base):
    """One saved answer: a row per question, so answers saved at the same moment never overwrite
    each other."""

    __tablename__ = "training_answers"
    __table_args__ = (UniqueConstraint("sitting_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(ForeignKey("training_sittings.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int]
    answer: Mapped[Any] = mapped_column(JSON)  # option indexes, true/false, text; null: cleared
    saved_at: Mapped[datetime]


class Stage(ChoiceSet, title="培训状态"):
    TRAINING = "training", "在训", "info"
    AWAITING_EXAM = "awaiting_exam", "待考", "warning"
    ON_DUTY = "on_duty", "已上岗", "success"
    RETRAINING = "retraining", "需重新培训", "danger"


class Trainee(Timestamped, Base):
    """A new hire's place on seed 004's track; agents without a row are on duty."""

    __tablename__ = "training_trainees"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    stage: Mapped[Stage] = mapped_column(enum_column(Stage, length=20), default=Stage.TRAINING)
    note: Mapped[str | None] = mapped_column(String(500))
    round_from: Mapped[datetime | None]  # sent to the exams: the attempts counted start here
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")


class RolePlay(Base):
    """An agent's role play against a scenario's scripted customer, and its scoring at the end."""

    __tablename__ = "training_roleplays"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scenario: Mapped[str] = mapped_column(String(32))  # a scenario code of the handbook
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # 两两配对: plays the customer
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("training_assignments.id", ondelete="SET NULL"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    state: Mapped[dict[str, Any]] = mapped_column(JSON)  # kefu.training.roleplay.Play
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the inspection and the key phrases
    trainer_score: Mapped[float | None]  # a pair role play, scored by a trainer (0–100)
    trainer_comment: Mapped[str | None] = mapped_column(Text)
    scored_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")
    partner: Mapped[User | None] = relationship(foreign_keys=[partner_id], lazy="joined")


class Practical(Base):
    """Seed 004's practical exam: 2–3 simulated calls with the trainer as the customer, five
    criteria scored by the trainer, each call's transcript inspected beside them."""

    __tablename__ = "training_practicals"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    held_at: Mapped[datetime]
    calls: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # scenario, turns, inspection
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)  # criterion → score 0–100 and comment
    total: Mapped[float]
    passed: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")
    trainer: Mapped[User] = relationship(foreign_keys=[trainer_id], lazy="joined")


class PracticeAssignment(Base):
    """Practice a trainer gave an agent (a scenario to role-play, an article to read), with the
    findings that called for it: the loop from inspection back to training."""

    __tablename__ = "training_assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scenario: Mapped[str | None] = mapped_column(String(32))
    article_id: Mapped[int | None] = mapped_column(ForeignKey("knowledge_articles.id", ondelete="SET NULL"))
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)  # the inspection rules it answers
    reason: Mapped[str] = mapped_column(String(500))
    assigned_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime]
    done_at: Mapped[datetime | None]

    agent: Mapped[User] = relationship(foreign_keys=[agent_id], lazy="joined")
