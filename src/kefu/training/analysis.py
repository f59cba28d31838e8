"""Item analysis after an exam, with the definitions of Moodle's quiz statistics, so trainers can
retire bad questions:

- **facility index**: the mean score on the question as a share of its maximum — how easy it is;
- **discrimination index**: the correlation (Pearson) between the score on the question and the
  score on the rest of the test (the total without this question) — whether those who do well
  overall do well on it. Below 0.2 the question says little about who knows the material; a
  negative value usually means a wrong key.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

FACILITY_RANGE = (0.2, 0.9)  # outside: too hard or too easy to tell candidates apart
LOW_DISCRIMINATION = 0.2


@dataclass(frozen=True)
class Score:
    candidate: str
    question: str
    points: float
    maximum: float


@dataclass(frozen=True)
class Item:
    question: str
    attempts: int
    facility: float | None
    discrimination: float | None

    @property
    def advice(self) -> str | None:
        """Why a trainer should look at the question again, if they should."""
        if self.discrimination is not None and self.discrimination < 0:
            return "区分度为负:答得好的考生反而失分,请检查答案是否设错"
        if self.facility is not None and self.facility < FACILITY_RANGE[0]:
            return "过难:多数考生答错"
        if self.facility is not None and self.facility > FACILITY_RANGE[1]:
            return "过易:几乎所有考生答对"
        if self.discrimination is not None and self.discrimination < LOW_DISCRIMINATION:
            return "区分度低:不能区分掌握与未掌握的考生"
        return None


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None  # everyone scored the same: no correlation to speak of
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy)


def analyse(scores: Iterable[Score]) -> list[Item]:
    """One item per question, in the order the questions first appear. A candidate who did not
    get a question (papers differ) is left out of its figures."""
    by_candidate: dict[str, dict[str, Score]] = defaultdict(dict)
    order: list[str] = []
    for s in scores:
        if s.question not in order:
            order.append(s.question)
        by_candidate[s.candidate][s.question] = s
    totals = {c: sum(s.points for s in qs.values()) for c, qs in by_candidate.items()}
    items = []
    for question in order:
        took = [(c, qs[question]) for c, qs in by_candidate.items() if question in qs]
        maximum = max(s.maximum for _, s in took)
        mean = sum(s.points for _, s in took) / len(took)
        item_scores = [s.points for _, s in took]
        rest = [totals[c] - s.points for c, s in took]
        items.append(
            Item(
                question=question,
                attempts=len(took),
                facility=mean / maximum if maximum > 0 else None,
                discrimination=_pearson(item_scores, rest),
            )
        )
    return items
