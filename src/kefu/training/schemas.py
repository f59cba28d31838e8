"""Bodies and answers of the training API (and the pages, which post the same bodies)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from kefu.core.fields import CentreTime, Id, Version
from kefu.training.models import Category, QuestionType, SittingStatus, Stage

LETTERS = "ABCDEF"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QuestionIn(Body):
    """A question as a trainer writes it (the bank file, the Excel sheet, the form)."""

    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$", description="题号,如 Q0001")
    type: QuestionType
    category: Category
    difficulty: int = Field(default=1, ge=1, le=3)
    stem: str = Field(min_length=2, max_length=2000)
    options: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=6)
    answer: list[int] | bool | None = None
    reference: str | None = Field(default=None, max_length=2000)
    rubric: str | None = Field(default=None, max_length=2000)
    explanation: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(default=None, max_length=200)
    active: bool = True

    @model_validator(mode="after")
    def _fits_its_type(self) -> QuestionIn:
        kind = self.type
        if kind in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            if len(self.options) < (2 if kind is QuestionType.SINGLE else 3):
                raise ValueError(f"{kind.label}至少要有 {2 if kind is QuestionType.SINGLE else 3} 个选项")
            if any(not o.strip() for o in self.options):
                raise ValueError("选项不能为空")
            if not isinstance(self.answer, list) or not self.answer:
                raise ValueError(f"{kind.label}的答案应为选项字母,如 A 或 AC")
            if any(i < 0 or i >= len(self.options) for i in self.answer) or len(set(self.answer)) != len(self.answer):
                raise ValueError(f"答案只能是 {LETTERS[: len(self.options)]} 中不重复的字母")
            if kind is QuestionType.SINGLE and len(self.answer) != 1:
                raise ValueError("单选题只有一个正确答案")
            if kind is QuestionType.MULTIPLE and not 2 <= len(self.answer) < len(self.options):
                raise ValueError("多选题应有至少两个正确选项,且至少一个错误选项")
            self.answer = sorted(self.answer)
        elif kind is QuestionType.TRUE_FALSE:
            if self.options:
                raise ValueError("判断题没有选项")
            if not isinstance(self.answer, bool):
                raise ValueError("判断题的答案应为 对 或 错")
        else:
            if self.options or self.answer not in (None, []):
                raise ValueError("简答题没有选项和标准答案,请填写参考答案和评分要点")
            self.answer = None
            if not self.reference or not self.rubric:
                raise ValueError("简答题须有参考答案和评分要点(阅卷依据)")
        return self


class QuestionOut(QuestionIn):
    id: int
    version: int


class StageIn(Body):
    agent_id: Id
    stage: Stage
    note: str | None = Field(default=None, max_length=500)


class AnswerIn(Body):
    """One answer, saved as the candidate goes: option indexes, true/false, or text. Strict: 1 is
    no 对, true is no option index."""

    question_id: Id
    answer: (
        Annotated[list[StrictInt], Field(max_length=6)]
        | StrictBool
        | Annotated[StrictStr, Field(max_length=2000)]
        | None
    ) = None


class GradeIn(Body):
    question_id: Id
    points: float = Field(ge=0, le=100, allow_inf_nan=False)
    comment: str | None = Field(default=None, max_length=1000)


class GradesIn(Body):
    version: Version
    grades: list[GradeIn] = Field(min_length=1, max_length=50)


class PaperQuestion(BaseModel):
    """A question as the candidate sees it: never its key."""

    question_id: int
    number: int
    type: QuestionType
    category: Category
    points: float
    stem: str
    options: list[str]
    answer: Any = None  # what the candidate has saved


class SittingOut(BaseModel):
    id: int
    version: int
    agent_id: int
    agent_no: str
    agent_name: str
    attempt: int
    status: SittingStatus
    started_at: CentreTime
    deadline: CentreTime
    submitted_at: CentreTime | None
    seconds_left: int
    total: float | None
    pass_mark: float
    questions: list[PaperQuestion]


class ReviewedQuestion(PaperQuestion):
    """After the exam (for the trainer, and the candidate once it is final): the key and points."""

    key: Any = None
    reference: str | None = None
    rubric: str | None = None
    explanation: str | None = None
    scored: float | None = None
    comment: str | None = None


class ResultOut(BaseModel):
    id: int
    version: int
    agent_id: int
    agent_no: str
    agent_name: str
    attempt: int
    status: SittingStatus
    submitted_at: CentreTime | None
    total: float | None
    objective: float
    pass_mark: float
    questions: list[ReviewedQuestion]


class TraineeOut(BaseModel):
    agent_id: int
    agent_no: str
    name: str
    team: str | None
    stage: Stage
    note: str | None
    attempts: int
    last_total: float | None
    retake_from: Any = None  # the first day a retake may start


class ItemOut(BaseModel):
    question_id: int
    code: str
    stem: str
    type: QuestionType
    attempts: int
    facility: float | None
    discrimination: float | None
    advice: str | None


class RolePlayIn(Body):
    scenario: str = Field(min_length=1, max_length=32, description="话务模拟手册的场景代码,如 basic-01")
    assignment_id: Id | None = None


class PairIn(Body):
    scenario: str = Field(min_length=1, max_length=32)
    partner_id: Id


class PairScoreIn(Body):
    score: float = Field(ge=0, le=100, allow_inf_nan=False)
    comment: str | None = Field(default=None, max_length=1000)


class ReplyIn(Body):
    text: str = Field(min_length=1, max_length=1000)


class RolePlayOut(BaseModel):
    id: int
    agent_id: int
    scenario: str
    chapter: str
    title: str
    description: str
    customer: str
    notes: str
    turns: list[dict[str, Any]]
    finished: bool
    started_at: CentreTime
    finished_at: CentreTime | None
    result: dict[str, Any] | None
    partner_id: int | None = None
    trainer_score: float | None = None
    trainer_comment: str | None = None


class SimulatedCallIn(Body):
    scenario: str = Field(min_length=1, max_length=32)
    transcript: str = Field(min_length=1, max_length=20000, description="一行一句:「客服:…」「客户:…」")


class PracticalIn(Body):
    agent_id: Id
    calls: list[SimulatedCallIn] = Field(min_length=2, max_length=3)
    scores: dict[str, float] = Field(description="基础知识、系统操作、问题解决、沟通技巧、综合表现,各 0–100")
    comments: dict[str, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict, max_length=10)
    comment: str | None = Field(default=None, max_length=2000)


class AssignIn(Body):
    agent_id: Id
    scenario: str | None = Field(default=None, max_length=32)
    article_id: Id | None = None
    rules: list[Annotated[str, Field(max_length=64, pattern=r"^[a-z_]+$")]] = Field(default_factory=list, max_length=10)
    reason: str = Field(min_length=1, max_length=500)
