"""The theory exam's rules without the platform: drawing a paper against seed 004's blueprint,
grading objective answers under both multiple-choice rules, the item analysis on a case
computed by hand, the shipped bank, and ``kefu exam analyse``."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from kefu.training.analysis import Score, analyse
from kefu.training.paper import AREAS, SEED_PARTS, Blueprint, Drawable, draw, grade, parse_parts


def bank(per_area: dict[str, int]) -> list[Drawable]:
    out, n = [], 0
    for kind, count in per_area.items():
        for area in AREAS:
            for _ in range(count):
                n += 1
                out.append(Drawable(n, kind, area))
    return out


SEED = Blueprint(SEED_PARTS)


def test_a_paper_follows_the_blueprint_with_no_question_twice() -> None:
    questions = bank({"single": 14, "multiple": 7, "true_false": 5, "short": 2})
    paper = draw(questions, SEED, random.Random(1))
    kinds = Counter(p["type"] for p in paper)
    assert kinds == {"single": 30, "multiple": 15, "true_false": 10, "short": 5}
    assert sum(p["points"] for p in paper) == 100
    assert len({p["question_id"] for p in paper}) == len(paper) == 60
    by_id = {q.id: q for q in questions}
    singles = Counter(by_id[p["question_id"]].category for p in paper if p["type"] == "single")
    assert set(singles.values()) == {6}  # 30 single choice spread evenly over the five areas
    other = draw(questions, SEED, random.Random(2))
    assert {p["question_id"] for p in other} != {p["question_id"] for p in paper}  # another candidate, another paper


def test_an_area_short_of_questions_leaves_its_share_to_the_others_and_a_too_small_bank_is_named() -> None:
    questions = [q for q in bank({"single": 14, "multiple": 7, "true_false": 5, "short": 2})
                 if not (q.type == "single" and q.category == "system")]  # fmt: skip
    paper = draw(questions, SEED, random.Random(3))
    assert sum(1 for p in paper if p["type"] == "single") == 30
    with pytest.raises(ValueError, match="简答题只有 4 道,不够抽 5 道"):
        draw([q for q in questions if q.type != "short"] + bank({"short": 1})[:4], SEED, random.Random(4))


def test_the_blueprint_setting_must_add_up_to_100() -> None:
    assert parse_parts("single:30x1,multiple:15x2,true_false:10x1,short:5x6") == SEED_PARTS
    with pytest.raises(ValueError, match="总分应为 100 分"):
        parse_parts("single:30x1,short:5x6")
    with pytest.raises(ValueError, match="题型:题数x每题分值"):
        parse_parts("essay:5x20")


def test_objective_answers_under_both_multiple_choice_rules() -> None:
    assert grade("single", [2], [2], 1, "all_or_nothing") == 1
    assert grade("single", [2], [1], 1, "all_or_nothing") == 0
    assert grade("true_false", False, False, 1, "partial") == 1
    assert grade("true_false", False, None, 1, "partial") == 0
    assert grade("multiple", [0, 2, 3], [0, 2, 3], 2, "all_or_nothing") == 2
    assert grade("multiple", [0, 2, 3], [0, 2], 2, "all_or_nothing") == 0
    assert grade("multiple", [0, 2, 3], [0, 2], 2, "partial") == 1  # 少选得一半分
    assert grade("multiple", [0, 2, 3], [0, 1, 2], 2, "partial") == 0  # 错选不得分
    assert grade("short", None, "文字", 6, "partial") is None  # a person grades it


def test_item_analysis_on_a_case_computed_by_hand() -> None:
    rows = {"c1": (1, 1, 2), "c2": (1, 0, 2), "c3": (0, 1, 0), "c4": (0, 0, 0)}
    scores = [
        Score(c, q, points, 2 if q == "q3" else 1)
        for c, marks in rows.items()
        for q, points in zip(("q1", "q2", "q3"), marks, strict=True)
    ]
    items = {i.question: i for i in analyse(scores)}
    assert [items[q].facility for q in ("q1", "q2", "q3")] == [0.5, 0.5, 0.5]
    # q1 against the rest (3, 2, 1, 0): r = 2 / √5
    assert items["q1"].discrimination == pytest.approx(2 / math.sqrt(5))
    assert items["q2"].discrimination == pytest.approx(0.0)  # rest (3, 3, 0, 0): no relation
    assert items["q2"].advice and "区分度低" in items["q2"].advice
    everyone = analyse([Score("a", "q", 1, 1), Score("b", "q", 1, 1)])[0]
    assert everyone.facility == 1 and everyone.discrimination is None and "过易" in (everyone.advice or "")


def test_the_shipped_bank_draws_several_different_papers() -> None:
    from kefu.training.service import shipped_bank

    questions = shipped_bank()
    assert len(questions) >= 120
    assert len({q.code for q in questions}) == len(questions) and len({q.stem for q in questions}) == len(questions)
    drawable = [Drawable(i, q.type.value, q.category.value) for i, q in enumerate(questions)]
    papers = [{p["question_id"] for p in draw(drawable, SEED, random.Random(seed))} for seed in range(3)]
    assert all(len(p) == 60 for p in papers) and len({frozenset(p) for p in papers}) == 3
    for q in questions:
        assert q.source, q.code  # every question says where in the training material it comes from


def test_kefu_exam_analyse_reads_exported_results(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from kefu.cli import app

    lines = ["考生,题号,得分,满分"]
    for c, marks in {"c1": (1, 1, 2), "c2": (1, 0, 2), "c3": (0, 1, 0), "c4": (0, 0, 0)}.items():
        lines += [f"{c},{q},{m},{2 if q == 'Q3' else 1}" for q, m in zip(("Q1", "Q2", "Q3"), marks, strict=True)]
    (tmp_path / "成绩.csv").write_text("\n".join(lines), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["exam", "analyse", str(tmp_path / "成绩.csv"), "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    items = {i["question"]: i for i in json.loads(result.stdout)}
    assert items["Q1"]["discrimination"] == pytest.approx(0.8944, abs=1e-4) and items["Q1"]["facility"] == 0.5
    (tmp_path / "坏.csv").write_text("考生,题号,得分,满分\nc1,Q1,3,1\n", encoding="utf-8")
    bad = runner.invoke(app, ["exam", "analyse", str(tmp_path / "坏.csv")])
    assert bad.exit_code != 0 and "得分超过满分" in str(bad.exception)
