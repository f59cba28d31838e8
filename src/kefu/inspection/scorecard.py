"""The scorecard of one call (SPEC §2 "Report output") and how it is scored.

Each rule in scope for the call (``rules``: enabled, and of the call's direction and
channel) is worth ``points``; its findings deduct up to that. A rule that cannot be
checked on this call (missing input) is left out of the denominator, so the score is
``100 × earned / possible`` over the rules that apply. A fatal finding makes it 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from kefu.rulebook.schema import Rule, Rulebook

# Plain dataclasses: a report is built for every call (thousands a second), and validation
# would only re-check what the engine just computed. ``Report.public()`` is the JSON form.


@dataclass(slots=True)
class Finding:
    rule: str
    rule_name: str
    category: str
    deduction: float
    message: str
    standard: str
    source: str
    fatal: bool = False
    turn: int | None = None  # index into the transcript's turns (0-based)
    speaker: str | None = None
    start: float | None = None
    end: float | None = None
    evidence: str | None = None
    evidence_span: tuple[int, int] | None = None  # character span of the evidence in the turn's text
    suggestion: str | None = None


@dataclass(slots=True)
class CategoryScore:
    name: str
    score: float
    max: float


@dataclass(slots=True)
class NotApplicable:
    rule: str
    rule_name: str
    missing: str


@dataclass(slots=True)
class Report:
    id: str
    score: float
    passed: bool
    fatal: bool
    pass_line: float
    rulebook_version: str
    categories: dict[str, CategoryScore]
    findings: list[Finding]
    not_applicable: list[str]
    not_applicable_reasons: list[NotApplicable] = field(default_factory=list)
    agent_id: str | None = None
    agent_name: str | None = None

    def public(self) -> dict[str, object]:
        """The SPEC §2 report format (plus a few helpful extras), ready for JSON."""
        data = asdict(self)
        for finding in data["findings"]:
            if finding["evidence_span"] is not None:
                finding["evidence_span"] = list(finding["evidence_span"])
        return data


def _tidy(value: float) -> float:
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def score_call(
    rulebook: Rulebook,
    rules: Sequence[Rule],
    call_id: str,
    findings: list[Finding],
    not_applicable: list[NotApplicable],
    *,
    agent_id: str | None = None,
    agent_name: str | None = None,
) -> Report:
    skipped = {na.rule for na in not_applicable}
    possible: dict[str, float] = dict.fromkeys(rulebook.categories, 0.0)
    lost: dict[str, float] = dict.fromkeys(rulebook.categories, 0.0)
    for rule in rules:
        if rule.id not in skipped:
            possible[rule.category] += rule.points
    for finding in findings:
        lost[finding.category] += finding.deduction
    categories = {
        key: CategoryScore(
            name=category.name,
            score=_tidy(max(0.0, possible[key] - lost[key])),
            max=_tidy(possible[key]),
        )
        for key, category in rulebook.categories.items()
        if possible[key] > 0
    }
    total_possible = sum(possible.values())
    earned = sum(max(0.0, possible[k] - lost[k]) for k in possible)
    fatal = any(f.fatal for f in findings)
    score = 0.0 if fatal or total_possible == 0 else round(100 * earned / total_possible, 1)
    return Report(
        id=call_id,
        agent_id=agent_id,
        agent_name=agent_name,
        score=_tidy(score),
        passed=not fatal and score >= rulebook.pass_line,
        fatal=fatal,
        pass_line=rulebook.pass_line,
        rulebook_version=rulebook.version,
        categories=categories,
        findings=findings,
        not_applicable=[na.rule for na in not_applicable],
        not_applicable_reasons=not_applicable,
    )
