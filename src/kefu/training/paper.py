"""The theory exam's rules as data (seed 004: 30 single choice for 30 points, 15 multiple choice
for 30, 10 true/false for 10, 5 short answers for 30; 90 minutes; pass 80), drawing a paper from
the bank, and grading the objective questions.

A paper is drawn per candidate: each part's questions spread as evenly as the bank allows over
the five areas, at random, never the same question twice — so every candidate gets a paper of
the same shape and weight, not the same questions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

QUESTION_TYPES = ("single", "multiple", "true_false", "short")
AREAS = ("product", "skills", "system", "policy", "service")
Scoring = Literal["all_or_nothing", "partial"]


@dataclass(frozen=True)
class Part:
    type: str
    count: int
    points: float  # per question


@dataclass(frozen=True)
class Blueprint:
    parts: tuple[Part, ...]
    minutes: int = 90
    pass_mark: float = 80.0
    multiple_scoring: Scoring = "all_or_nothing"
    retake_after_days: int = 7

    @property
    def full_marks(self) -> float:
        return sum(p.count * p.points for p in self.parts)


SEED_PARTS = (Part("single", 30, 1.0), Part("multiple", 15, 2.0), Part("true_false", 10, 1.0), Part("short", 5, 6.0))


def parse_parts(text: str) -> tuple[Part, ...]:
    """「single:30x1,multiple:15x2,true_false:10x1,short:5x6」 → the parts; a clear refusal otherwise."""
    parts = []
    for item in text.split(","):
        kind, _, rest = item.strip().partition(":")
        count, _, points = rest.partition("x")
        if kind not in QUESTION_TYPES or not count.isdigit() or int(count) < 1:
            raise ValueError(f"试卷结构「{item.strip()}」应为 题型:题数x每题分值,题型为 {'、'.join(QUESTION_TYPES)}")
        try:
            value = float(points)
        except ValueError:
            raise ValueError(f"试卷结构「{item.strip()}」的每题分值不是数字") from None
        if value <= 0:
            raise ValueError(f"试卷结构「{item.strip()}」的每题分值应大于 0")
        parts.append(Part(kind, int(count), value))
    if len({p.type for p in parts}) != len(parts):
        raise ValueError("试卷结构中同一题型只能出现一次")
    if abs(sum(p.count * p.points for p in parts) - 100) > 1e-6:
        raise ValueError(f"试卷总分应为 100 分,而不是 {sum(p.count * p.points for p in parts):g} 分")
    return tuple(parts)


@dataclass(frozen=True)
class Drawable:
    id: int
    type: str
    category: str


def draw(bank: Sequence[Drawable], blueprint: Blueprint, rng: random.Random) -> list[dict[str, Any]]:
    """A paper: per part, ``count`` questions of its type, spread evenly over the areas that have
    them (an area short of questions leaves its share to the others). Raises ValueError when the
    bank has too few questions of a type."""
    paper: list[dict[str, Any]] = []
    for part in blueprint.parts:
        pools = {area: [q for q in bank if q.type == part.type and q.category == area] for area in AREAS}
        available = sum(len(pool) for pool in pools.values())
        if available < part.count:
            raise ValueError(f"题库中可用的{_TYPE_LABELS[part.type]}只有 {available} 道,不够抽 {part.count} 道")
        for pool in pools.values():
            rng.shuffle(pool)
        chosen: list[Drawable] = []
        areas = list(AREAS)
        rng.shuffle(areas)
        while len(chosen) < part.count:
            for area in areas:
                if pools[area] and len(chosen) < part.count:
                    chosen.append(pools[area].pop())
        rng.shuffle(chosen)
        paper += [{"question_id": q.id, "type": part.type, "points": part.points} for q in chosen]
    return paper


_TYPE_LABELS = {"single": "单选题", "multiple": "多选题", "true_false": "判断题", "short": "简答题"}


def grade(kind: str, key: Any, given: Any, points: float, scoring: Scoring) -> float | None:
    """Points for an objective answer; None for a short answer (a person grades it). Multiple
    choice under ``partial``: a wrong option chosen scores 0, some of the right ones and no wrong
    one half the points (少选得一半分), all of them the full points."""
    if kind == "short":
        return None
    if given is None:
        return 0.0
    if kind == "true_false":
        return points if given is key else 0.0
    chosen = set(given) if isinstance(given, list) else {given}
    right = set(key)
    if chosen == right:
        return points
    if kind == "multiple" and scoring == "partial" and chosen and chosen < right:
        return points / 2
    return 0.0
