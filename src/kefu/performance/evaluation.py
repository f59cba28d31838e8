"""The monthly evaluation of seed 004 (绩效考核体系): five dimensions with their weights —
通话质量 30%, 客户满意度 25%, 工作效率 20%, 业务准确率 15%, 销售业绩 10% — each mapped to 0–100 by
a scale, the weighted total graded A / B+ / B / C / D.

The seed names the grades but gives no thresholds and no scales; the defaults below are ours,
configurable (``EvaluationPolicy``), and the README says so. A dimension without data for an
agent (no sales offered) is left out and the others' weights are scaled up to 100%.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    policy = policy or EvaluationPolicy()
    present = [d for d in policy.dimensions if raw.get(d.key) is not None]
    missing = [d.label for d in policy.dimensions if raw.get(d.key) is None]
    weights = sum(d.weight for d in present)
    if not present or weights <= 0:
        return Evaluation(None, None, None, [], missing)
    parts = [Part(d, float(raw[d.key]), d.scale.score(float(raw[d.key])), d.weight / weights) for d in present]  # type: ignore[arg-type]
    total = round(sum(p.score * p.weight for p in parts), 2)
    grade, label = policy.grade(total)
    return Evaluation(total, grade, label, parts, missing)
