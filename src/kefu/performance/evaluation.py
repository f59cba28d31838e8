"""The monthly evaluation of seed 004 (绩效考核体系): five dimensions with their weights —
通话质量 30%, 客户满意度 25%, 工作效率 20%, 业务准确率 15%, 销售业绩 10% — each mapped to 0–100 by
a scale, the weighted total graded A / B+ / B / C / D.

The seed names the grades but gives no thresholds and no scales; the defaults below are ours,
and a centre sets its own in a YAML file named by ``KEFU_EVALUATION`` (``load_policy``; README
"Performance"). A dimension without data for an agent (no sales offered) is left out and the
others' weights are scaled up to 100%.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


@dataclass(frozen=True)
class Scale:
    """``worst`` maps to 0 and ``best`` to 100, linearly, clamped; ``best`` below ``worst`` means
    lower is better (handling time)."""

    worst: float
    best: float

    def score(self, raw: float) -> float:
        share = (raw - self.worst) / (self.best - self.worst)
        return round(100 * min(1.0, max(0.0, share)), 2)


@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    weight: float
    scale: Scale
    source: str  # where the raw figure comes from, for people


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("quality", "通话质量", 0.30, Scale(0, 100), "质检最终得分(复核、申诉之后)的平均分"),
    Dimension("satisfaction", "客户满意度", 0.25, Scale(0.60, 0.95), "满意度调查与回访中满意的比例"),
    # Seed 004 实战技巧: 一般信息咨询类通话应控制在3分钟内完成.
    Dimension("efficiency", "工作效率", 0.20, Scale(480, 180), "平均处理时长(秒):通话 + 保持 + 话后处理"),
    Dimension("accuracy", "业务准确率", 0.15, Scale(0.90, 1.00), "没有业务差错的通话比例"),
    Dimension("sales", "销售业绩", 0.10, Scale(0.0, 0.20), "推荐成功的比例(转化率)"),
)

# Lower bounds of the grades (the seed names them, without thresholds): 优秀, 良好, 达标, 需改进, 不合格.
GRADES: tuple[tuple[str, str, float], ...] = (
    ("A", "优秀", 90.0),
    ("B+", "良好", 80.0),
    ("B", "达标", 70.0),
    ("C", "需改进", 60.0),
    ("D", "不合格", 0.0),
)


@dataclass(frozen=True)
class EvaluationPolicy:
    dimensions: tuple[Dimension, ...] = DIMENSIONS
    grades: tuple[tuple[str, str, float], ...] = GRADES

    def grade(self, total: float) -> tuple[str, str]:
        for grade, label, lowest in self.grades:
            if total >= lowest:
                return grade, label
        return self.grades[-1][0], self.grades[-1][1]


@dataclass(frozen=True)
class Part:
    dimension: Dimension
    raw: float
    score: float  # 0–100
    weight: float  # the share it had in the total, after leaving out dimensions without data

    @property
    def points(self) -> float:
        return round(self.score * self.weight, 2)


@dataclass(frozen=True)
class Evaluation:
    total: float | None  # None: no dimension had data
    grade: str | None
    grade_label: str | None
    parts: list[Part] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # dimensions without data, by label


def evaluate(raw: dict[str, float | None], policy: EvaluationPolicy | None = None) -> Evaluation:
    """One agent's month from the raw figure of each dimension (``Dimension.key`` → value)."""
    policy = policy or current_policy()
    present = [d for d in policy.dimensions if raw.get(d.key) is not None]
    missing = [d.label for d in policy.dimensions if raw.get(d.key) is None]
    weights = sum(d.weight for d in present)
    if not present or weights <= 0:
        return Evaluation(None, None, None, [], missing)
    parts = [Part(d, float(raw[d.key]), d.scale.score(float(raw[d.key])), d.weight / weights) for d in present]  # type: ignore[arg-type]
    total = round(sum(p.score * p.weight for p in parts), 2)
    grade, label = policy.grade(total)
    return Evaluation(total, grade, label, parts, missing)


# ---------------------------------------------------------------- the centre's own policy


class _DimensionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float | None = Field(default=None, ge=0, le=1)
    worst: float | None = None
    best: float | None = None


class _GradeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grade: str = Field(min_length=1, max_length=4)
    label: str = Field(min_length=1, max_length=16)
    min: float = Field(ge=0, le=100)


class _PolicyIn(BaseModel):
    """What a centre may change: any dimension's weight and scale, and the grades."""

    model_config = ConfigDict(extra="forbid")
    dimensions: dict[str, _DimensionIn] = Field(default_factory=dict)
    grades: list[_GradeIn] | None = None

    @model_validator(mode="after")
    def _known(self) -> _PolicyIn:
        known = {d.key for d in DIMENSIONS}
        unknown = set(self.dimensions) - known
        if unknown:
            raise ValueError(f"未知的考核维度 {'、'.join(sorted(unknown))},可选:{'、'.join(d.key for d in DIMENSIONS)}")
        if self.grades is not None:
            lows = [g.min for g in self.grades]
            if not lows or lows != sorted(lows, reverse=True) or lows[-1] != 0:
                raise ValueError("等级应按最低分从高到低排列,最后一级的最低分为 0")
        return self


def load_policy(path: Path) -> EvaluationPolicy:
    """A YAML file over the defaults, e.g. ``{dimensions: {efficiency: {worst: 600, best: 240}},
    grades: [{grade: A, label: 优秀, min: 92}, …]}``. Weights must still add up to 100%; a
    problem is reported with the file and the entry."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        given = _PolicyIn.model_validate(data)
    except (OSError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: 无法读取考核配置:{err}") from None
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"{path}: {where}: {str(first['msg']).removeprefix('Value error, ')}") from None
    dimensions = []
    for d in DIMENSIONS:
        change = given.dimensions.get(d.key)
        if change is None:
            dimensions.append(d)
            continue
        scale = Scale(
            change.worst if change.worst is not None else d.scale.worst,
            change.best if change.best is not None else d.scale.best,
        )
        if scale.worst == scale.best:
            raise ValueError(f"{path}: dimensions.{d.key}: 0 分与 100 分的取值不能相同")
        dimensions.append(replace(d, weight=d.weight if change.weight is None else change.weight, scale=scale))
    total = sum(d.weight for d in dimensions)
    if abs(total - 1.0) > 0.001:
        raise ValueError(f"{path}: 各维度权重合计应为 100%,现在是 {total:.1%}")
    grades = tuple((g.grade, g.label, g.min) for g in given.grades) if given.grades else GRADES
    return EvaluationPolicy(tuple(dimensions), grades)


_current: EvaluationPolicy | None = None


def use_policy(policy: EvaluationPolicy | None) -> None:
    """Make ``policy`` the centre's (``None``: back to ``KEFU_EVALUATION`` or the defaults)."""
    global _current
    _current = policy


def current_policy() -> EvaluationPolicy:
    global _current
    if _current is None:
        path = os.environ.get("KEFU_EVALUATION")
        _current = load_policy(Path(path)) if path else EvaluationPolicy()
    return _current
