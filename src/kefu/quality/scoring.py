"""Scores from stored findings: the machine's, an inspector's (machine findings they kept plus
their own) and the final one after appeals — all on the scorecard of SPEC §2: each category
is worth what its applicable rules are worth, findings deduct from it, a fatal finding zeroes
the call, and the total is mapped onto 100 points."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol


class Deducting(Protocol):
    category: str
    deduction: float
    fatal: bool


@dataclass(frozen=True)
class Score:
    total: float
    categories: dict[str, float]  # {category key: points kept}
    fatal: bool

    def passed(self, pass_line: float) -> bool:
        return not self.fatal and self.total >= pass_line


def _tidy(value: float) -> float:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def score(categories: dict[str, Any], findings: Iterable[Deducting]) -> Score:
    """``categories`` as stored on an inspection ({key: {name, score, max}}); a finding in a
    category the rules did not cover (a manual one) counts against that category's maximum, or
    against the call as a whole when the category had no applicable rule."""
    maxima = {key: float(value["max"]) for key, value in categories.items()}
    lost = dict.fromkeys(maxima, 0.0)
    fatal = False
    for finding in findings:
        fatal = fatal or finding.fatal
        key = finding.category if finding.category in lost else None
        if key is None and maxima:  # spread over the call: charge the largest category
            key = max(maxima, key=lambda k: maxima[k])
        if key is not None:
            lost[key] += finding.deduction
    kept = {key: max(0.0, maxima[key] - lost[key]) for key in maxima}
    possible = sum(maxima.values())
    total = 0.0 if fatal or possible == 0 else 100 * sum(kept.values()) / possible
    return Score(_tidy(total), {key: _tidy(value) for key, value in kept.items()}, fatal)
