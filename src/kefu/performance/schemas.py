"""What the performance API takes and gives."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kefu.core.fields import CentreTime, Id, IncomingTime
from kefu.performance.evaluation import Evaluation, EvaluationPolicy
from kefu.performance.kpi import Mean, Ratio
from kefu.performance.summary import AgentMonth, Kpis

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")  # ASCII digits only (\d takes ４ too)


class RatioOut(BaseModel):
    numerator: int
    denominator: int
    value: float | None

    @classmethod
    def of(cls, ratio: Ratio) -> RatioOut:
        return cls(numerator=ratio.numerator, denominator=ratio.denominator, value=ratio.value)


class MeanOut(BaseModel):
    total: float
    count: int
    value: float | None

    @classmethod
    def of(cls, mean: Mean) -> MeanOut:
        return cls(total=round(mean.total, 3), count=mean.count, value=mean.value)


class KpiOut(BaseModel):
    """Every KPI with what it was computed from (README "Performance" has the formulas)."""

    key: str = Field(description="工号、班组或“全中心”")
    name: str | None = None
    team: str | None = None
    offered: int = Field(description="呼入来电")
    answered: int
    service_level: RatioOut | None = Field(description="队列指标:只对全中心(或交换机按班组分的队列)有意义,其余为空")
    abandonment: RatioOut | None = Field(description="队列指标,同上")
    asa: MeanOut = Field(description="平均应答速度(秒)")
    handling: MeanOut = Field(description="平均处理时长(秒):通话 + 保持 + 话后处理")
    fcr: RatioOut = Field(description="一次解决率")
    quality: MeanOut = Field(description="质检最终得分")
    csat: RatioOut = Field(description="满意度")
    conversion: RatioOut
    sales_amount: float
    accuracy: RatioOut
    attendance: RatioOut
    occupancy: RatioOut | None

    @classmethod
    def of(cls, k: Kpis, *, queue: bool = True) -> KpiOut:
        """``queue`` False: an agent's or a team's figures, without the queue's service level and
        abandonment (the calls nobody answered belong to no agent and no team)."""
        c = k.calls
        return cls(
            key=k.key,
            name=k.name,
            team=k.team,
            offered=c.offered,
            answered=c.answered,
            service_level=RatioOut.of(c.service_level) if queue else None,
            abandonment=RatioOut.of(c.abandonment) if queue else None,
            asa=MeanOut.of(c.asa),
            handling=MeanOut.of(c.handling),
            fcr=RatioOut.of(c.fcr),
            quality=MeanOut.of(k.quality),
            csat=RatioOut.of(k.csat),
            conversion=RatioOut.of(k.conversion),
            sales_amount=k.sales_amount,
            accuracy=RatioOut.of(k.accuracy),
            attendance=RatioOut.of(k.attendance),
            occupancy=RatioOut.of(k.occupancy) if k.occupancy else None,
        )


class PartOut(BaseModel):
    key: str
    label: str
    source: str
    raw: float
    score: float = Field(description="0–100")
    weight: float = Field(description="在总分中的权重(缺数据的维度不计,其余按比例放大)")
    points: float


class EvaluationRow(BaseModel):
    """One agent's month: live until published, then as published."""

    agent_id: int | None = Field(description="平台里的用户编号(kefu kpi 从文件计算时为空)")
    agent_no: str
    name: str
    team: str | None
    calls: int = Field(description="接听量:考核所依据的通话数")
    total: float | None
    grade: str | None
    grade_label: str | None
    parts: list[PartOut]
    missing: list[str] = Field(default_factory=list, description="没有数据、不计入的维度")
    kpis: KpiOut
    comment: str | None = None
    coaching: str | None = Field(default=None, description="建议专项辅导的原因")

    @classmethod
    def of(
        cls, result: AgentMonth, *, agent_id: int | None, name: str | None, team: str | None, comment: str | None = None
    ) -> EvaluationRow:
        e = result.evaluation
        return cls(
            agent_id=agent_id,
            agent_no=result.agent,
            name=name or result.agent,
            team=team,
            calls=result.calls,
            total=e.total,
            grade=e.grade,
            grade_label=e.grade_label,
            parts=cls.parts_of(e),
            missing=e.missing,
            kpis=KpiOut.of(result.kpis, queue=False),
            comment=comment,
        )

    @staticmethod
    def parts_of(evaluation: Evaluation) -> list[PartOut]:
        return [
            PartOut(
                key=p.dimension.key,
                label=p.dimension.label,
                source=p.dimension.source,
                raw=round(p.raw, 4),
                score=p.score,
                weight=round(p.weight, 4),
                points=p.points,
            )
            for p in evaluation.parts
        ]


class DimensionOut(BaseModel):
    key: str
    label: str
    weight: float
    worst: float = Field(description="记 0 分的实际值")
    best: float = Field(description="记 100 分的实际值")
    source: str


class GradeOut(BaseModel):
    grade: str
    label: str
    min: float


class PolicyOut(BaseModel):
    """The weights, scales and grades a month is evaluated with (a published month: the ones
    it was published with)."""

    dimensions: list[DimensionOut]
    grades: list[GradeOut]

    @classmethod
    def of(cls, policy: EvaluationPolicy) -> PolicyOut:
        return cls(
            dimensions=[
                DimensionOut(
                    key=d.key, label=d.label, weight=d.weight, worst=d.scale.worst, best=d.scale.best, source=d.source
                )
                for d in policy.dimensions
            ],
            grades=[GradeOut(grade=g, label=label, min=low) for g, label, low in policy.grades],
        )


class CandidateOut(BaseModel):
    agent_no: str
    name: str | None
    team: str | None
    total: float
    adjusted: float = Field(description="按接听量向班组平均收缩后的总分")
    calls: int


class MonthOut(BaseModel):
    month: str
    published: bool
    revision: int | None
    published_at: CentreTime | None = None
    published_by: str | None = None
    reason: str | None = None
    basis: dict[str, str] = Field(description="计算口径")
    policy: PolicyOut
    rows: list[EvaluationRow]
    stars: list[CandidateOut] = Field(description="月度之星候选(接听量达到门槛,按收缩后总分排序)")
    stars_among: str | None = Field(description="候选的范围:全中心或本班组;话务员不看排名")
    min_calls: int


class CommentIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    text: str = Field(min_length=1, max_length=2000, description="班组长对本月表现的定性评价")


class PublishIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    reason: str | None = Field(default=None, max_length=500, description="更正已发布月份时必填:修订原因")


class SurveyIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    call_id: Id
    answer: str = Field(min_length=1, max_length=16, description="1–5 或 满意/一般/不满意")
    answered_at: IncomingTime | None = None


class SaleIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    call_id: Id
    product: str = Field(min_length=1, max_length=64)
    converted: bool
    amount: float = Field(default=0.0, ge=0, le=10_000_000)


class ErrorIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    agent_id: Id
    call_id: Id | None = None
    occurred_at: IncomingTime
    note: str = Field(min_length=1, max_length=500, description="差错内容")


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agent_id: Id
    day: date
    scheduled_minutes: float = Field(ge=0, le=1440)
    present_minutes: float = Field(ge=0, le=1440)


class CoachingIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    agent_id: Id
    month: str | None = None
    reason: str | None = Field(default=None, max_length=200)
    goals: str = Field(min_length=1, max_length=2000, description="改进目标")
    actions: str = Field(min_length=1, max_length=2000, description="辅导措施")
    review_on: date = Field(description="复查日期")

    @field_validator("month")
    @classmethod
    def _month(cls, value: str | None) -> str | None:
        if value is not None and not MONTH.match(value):
            raise ValueError("月份应为 年-月,如 2026-11")
        return value


class CoachingCloseIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    outcome: str = Field(min_length=1, max_length=2000, description="辅导结果")
    version: int | None = None


class CoachingOut(BaseModel):
    id: int
    agent_id: Id
    agent_no: str
    agent_name: str
    month: str | None
    reason: str | None
    goals: str
    actions: str
    review_on: date
    status: str
    status_label: str
    outcome: str | None
    created_by: str
    created_at: CentreTime
    version: int
