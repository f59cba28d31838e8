"""The dashboards' SVG charts: service level per interval against a target, trend lines with
control limits. Every chart must be well-formed XML with its numbers readable from attributes
and hovers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from kefu.inspection.charts import interval_columns, trend_lines

NS = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(str(markup))
    assert root.tag == f"{NS}svg"
    return root


def classes(node: ET.Element) -> set[str]:
    return set((node.get("class") or "").split())


def find(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [node for node in root.iter(f"{NS}{tag}") if cls in classes(node)]


def title(node: ET.Element) -> str:
    found = node.find(f"{NS}title")
    assert found is not None
    return found.text or ""


def texts(root: ET.Element) -> list[str]:
    return ["".join(node.itertext()) for node in root.iter(f"{NS}text")]


SERVICE_LEVEL = [
    ("08:00", 0.95, "08:00–08:30:接通 19/20,服务水平 95%"),
    ("08:30", 0.911, "08:30–09:00:接通 41/45,服务水平 91.1%"),
    ("09:00", 0.85, "09:00–09:30:接通 34/40,服务水平 85%"),
    ("09:30", 0.6, "09:30–10:00:接通 30/50,服务水平 60%"),
    ("10:00", None, "10:00–10:30"),
    ("10:30", 0.0, "10:30–11:00:接通 0/3,服务水平 0%"),
]


def test_interval_columns_one_group_per_point_with_its_value():
    root = parse(interval_columns(SERVICE_LEVEL, 0.85, label="今日服务水平"))
    groups = find(root, "g", "interval")
    assert [g.get("data-label") for g in groups] == ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30"]
    assert [g.get("data-value") for g in groups] == ["0.95", "0.911", "0.85", "0.6", "", "0"]
    assert root.get("aria-label") == "今日服务水平"


def test_columns_under_the_target_are_bad_at_or_above_good():
    root = parse(interval_columns(SERVICE_LEVEL, 0.85, label="今日服务水平"))
    tones = {}
    for group in find(root, "g", "interval"):
        bars = find(group, "rect", "bar")
        tones[group.get("data-label")] = (classes(bars[0]) - {"bar"}) if bars else None
    assert tones == {
        "08:00": {"good"},
        "08:30": {"good"},
        "09:00": {"good"},  # exactly on target meets it
        "09:30": {"bad"},
        "10:00": None,
        "10:30": {"bad"},
    }
    zero = find(find(root, "g", "interval")[-1], "rect", "bar")[0]
    assert float(zero.get("height") or 0) > 0  # 0% answered still shows as a red sliver


def test_interval_without_calls_is_a_gap_that_says_so():
    root = parse(interval_columns(SERVICE_LEVEL, 0.85, label="今日服务水平"))
    empty = next(g for g in find(root, "g", "interval") if g.get("data-label") == "10:00")
    assert "empty" in classes(empty)
    assert not find(empty, "rect", "bar")
    assert "无来电" in title(empty)
    assert "10:00" in texts(root)  # its x label stays


def test_target_line_and_hovers():
    root = parse(interval_columns(SERVICE_LEVEL, 0.85, label="今日服务水平"))
    target = find(root, "g", "target-line")
    assert len(target) == 1
    assert target[0].get("data-target") == "0.85"
    assert "目标 85%" in texts(target[0])
    assert "100%" in texts(root) and "0%" in texts(root)
    hovers = [title(g) for g in find(root, "g", "interval")]
    assert hovers[1] == "08:30–09:00:接通 41/45,服务水平 91.1%"


def test_no_target_no_line_and_neutral_columns():
    root = parse(interval_columns(SERVICE_LEVEL[:2], None, label="x"))
    assert not find(root, "g", "target-line")
    assert {frozenset(classes(bar)) for bar in find(root, "rect", "bar")} == {frozenset({"bar", "neutral"})}


def test_a_full_day_of_half_hours_thins_the_x_labels():
    points = [(f"{h:02d}:{m:02d}", 0.9, "") for h in range(24) for m in (0, 30)]
    root = parse(interval_columns(points, 0.85, label="全天"))
    assert len(find(root, "g", "interval")) == 48
    shown = [t for t in texts(root) if ":" in t]
    assert shown[0] == "00:00"
    assert 6 <= len(shown) <= 24  # every 2nd or 4th, not all 48 on top of each other


def test_interval_columns_on_a_count_scale():
    root = parse(interval_columns([("08:00", 12, "12 通"), ("08:30", 30, "30 通")], 20, label="来电量", percent=False))
    assert "目标 20" in texts(find(root, "g", "target-line")[0])
    assert not any(t.endswith("%") for t in texts(root))


def test_empty_interval_chart_is_valid():
    root = parse(interval_columns([], 0.85, label="无"))
    assert "无数据" in texts(root)


DAYS = ["11-01", "11-02", "11-03", "11-04", "11-05"]


def test_trend_lines_series_groups_markers_and_hovers():
    root = parse(
        trend_lines(
            DAYS,
            [
                ("质检得分", [84, 88.25, 86.5, None, 90], "series-agent"),
                ("班组平均", [85, 85, 86, 86, 87], "series-team"),
            ],
            label="每日质检得分",
        )
    )
    groups = find(root, "g", "series")
    assert [g.get("data-series") for g in groups] == ["质检得分", "班组平均"]
    assert "series-agent" in classes(groups[0]) and "series-team" in classes(groups[1])
    points = find(groups[0], "circle", "point")
    assert [p.get("data-label") for p in points] == ["11-01", "11-02", "11-03", "11-05"]
    assert [p.get("data-value") for p in points] == ["84", "88.25", "86.5", "90"]
    assert title(points[2]) == "11-03 质检得分 86.5"


def test_a_missing_value_breaks_the_line():
    root = parse(trend_lines(DAYS, [("张三", [84, 88, None, 86, 90], "series-agent")], label="x"))
    lines = find(root, "polyline", "line")
    assert [len((line.get("points") or "").split()) for line in lines] == [2, 2]
    lone = parse(trend_lines(DAYS, [("张三", [84, None, 88, None, 90], "series-agent")], label="x"))
    assert not find(lone, "polyline", "line")  # lone values are markers only
    assert len(find(find(lone, "g", "series")[0], "circle", "point")) == 3


def test_legend_names_every_series_and_the_limits():
    root = parse(
        trend_lines(
            DAYS,
            [("张三", [0.8, 0.9, 0.85, 0.9, 0.95], "series-agent"), ("班组", [0.8] * 5, "series-team")],
            label="合格率",
            lower=[0.7, 0.72, None, 0.7, 0.7],
            upper=[0.95, 0.96, None, 0.95, 0.95],
            percent=True,
        )
    )
    legend = find(root, "g", "legend")[0]
    assert texts(legend) == ["张三", "班组", "控制限"]
    limits = find(root, "g", "limits")[0]
    assert len(find(limits, "polyline", "limit")) == 4  # lower and upper, each broken at 11-03
    assert len(find(limits, "polygon", "limit-band")) == 2
    assert "100%" in texts(root)
    assert title(find(find(root, "g", "series")[0], "circle", "point")[1]) == "11-02 张三 90%"


def test_y_range_follows_the_data_with_round_ticks():
    root = parse(trend_lines(DAYS, [("得分", [81, 84, 86.5, 88, 92], "series-agent")], label="x"))
    ticks = [float(t) for t in texts(root) if t.replace(".", "").isdigit() and "-" not in t]
    assert ticks[0] <= 81 and ticks[-1] >= 92
    assert ticks[0] > 50  # not stretched down to 0
    steps = {round(b - a, 6) for a, b in pairwise(ticks)}
    assert len(steps) == 1 and steps.pop() in {1, 2, 2.5, 5, 10}


def test_names_and_labels_are_escaped():
    name = 'A<&>"组'
    markup = trend_lines(["<1>"], [(name, [3.0], 'series-agent"x')], label="<b>&")
    root = parse(markup)
    assert find(root, "g", "series")[0].get("data-series") == name
    assert name in texts(find(root, "g", "legend")[0])
    assert root.get("aria-label") == "<b>&"
    columns = parse(interval_columns([("<x>", 0.5, "a<&>b")], 0.8, label="&"))
    assert title(find(columns, "g", "interval")[0]) == "a<&>b"
    assert find(columns, "g", "interval")[0].get("data-label") == "<x>"


def test_values_not_aligned_with_labels_are_refused():
    with pytest.raises(ValueError):
        trend_lines(DAYS, [("张三", [1, 2], "series-agent")], label="x")
    with pytest.raises(ValueError):
        trend_lines(DAYS, [("张三", [1, 2, 3, 4, 5], "series-agent")], label="x", lower=[1])


def test_trend_without_data_is_valid():
    root = parse(trend_lines(DAYS, [("张三", [None] * 5, "series-agent")], label="x"))
    assert "无数据" in texts(root)
    assert not find(find(root, "g", "series")[0], "circle", "point")
