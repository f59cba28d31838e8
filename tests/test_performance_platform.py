"""Performance in the platform (SPEC §7): the KPIs of stored records against a hand-computed
month, who sees and changes whose figures, freezing a published month and correcting it by a
revision, and the HTTP side (API, HR export)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy import func, select

from conftest import GOOD_TURNS, RUDE_TURNS, AppFactory, client_for
from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.calls.schemas import CallCreate
from kefu.core.audit import AuditEntry
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.security import Role
from kefu.flows import intake
from kefu.performance import service
from kefu.performance.evaluation import EvaluationPolicy, use_policy
from kefu.performance.models import AgentEvaluation, PublishedMonth
from kefu.performance.schemas import AttendanceIn, ErrorIn, SaleIn, SurveyIn
from kefu.performance.summary import By
from kefu.quality.models import Inspection

MONTH = "2026-10"
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))
PEOPLE = {
    "a1": ("71001", "甲一", Role.AGENT, "甲组"),
    "a2": ("71002", "甲二", Role.AGENT, "甲组"),
    "b1": ("72001", "乙一", Role.AGENT, "乙组"),
    "lead": ("70001", "甲组长", Role.TEAM_LEAD, "甲组"),
    "boss": ("50009", "主管", Role.SUPERVISOR, None),
    "qa": ("30009", "质检", Role.QA, None),
}


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=centre_tz())


def call(
    agent: int | None, ring: datetime, wait: float, talk: float | None, number: str, reason: str, **more: Any
) -> CallCreate:
    """``talk`` None: the caller gave up after ``wait`` seconds."""
    answered = ring + timedelta(seconds=wait) if talk is not None else None
    ended = (
        answered + timedelta(seconds=talk)
        if answered is not None and talk is not None
        else ring + timedelta(seconds=wait)
    )
    return CallCreate(
        direction="inbound", agent_id=agent if talk is not None else None, ring_at=ring, answered_at=answered,
        ended_at=ended, caller_number=number, reason=reason if talk is not None else None, **more,
    )  # fmt: skip


@pytest.fixture
def month(sessions):  # type: ignore[no-untyped-def]
    """October 2026 of three agents, by hand:

    a1: call1 10-12 09:00 wait 10 talk 290 hold 20 wrap 30 (handling 340), 13900000001 资费 — repeated
        by call3 on 10-14 (wait 5, talk 95) → not resolved at first contact; call2 wait 30 talk 170.
    a2: call4 wait 8 talk 200; call9 10-30 wait 5 talk 120, repeated by an abandoned call on 11-02.
    b1: call7 10-13 wait 15 talk 300.
    Queue: call5 abandoned after 40 s (a failure), call6 after 3 s (a short abandon, left out).
    An abandoned call has no reason: it repeats whatever the customer called about before."""
    with transaction(sessions) as session:
        u = {
            key: accounts.do_create_user(
                session, None, agent_no=no, name=name, role=role, password="kefu2026", team=team
            )
            for key, (no, name, role, team) in PEOPLE.items()
        }
        ids = {k: v.id for k, v in u.items()}
        c = {
            1: intake.do_record_call(session, None, call(ids["a1"], at(12, 9), 10, 290, "13900000001", "consult.tariff",
                                                        hold_seconds=20, wrap_seconds=30, transcript=GOOD_TURNS)),
            2: intake.do_record_call(session, None, call(ids["a1"], at(12, 10), 30, 170, "13900000002", "query",
                                                        transcript=RUDE_TURNS)),
            3: intake.do_record_call(session, None, call(ids["a1"], at(14, 9), 5, 95, "13900000001", "consult.tariff")),
            4: intake.do_record_call(session, None, call(ids["a2"], at(12, 11), 8, 200, "13900000004", "payment",
                                                        transcript=GOOD_TURNS)),
            5: intake.do_record_call(session, None, call(None, at(12, 11, 30), 40, None, "13900000005", "query")),
            6: intake.do_record_call(session, None, call(None, at(12, 11, 31), 3, None, "13900000006", "query")),
            7: intake.do_record_call(session, None, call(ids["b1"], at(13, 9), 15, 300, "13900000007", "fault")),
            9: intake.do_record_call(session, None, call(ids["a2"], at(30, 15), 5, 120, "13900000009", "payment")),
            10: intake.do_record_call(session, None, call(None, at(2, 9, month=11), 20, None, "13900000009", "")),
        }  # fmt: skip
        boss = u["boss"]
        for number, answer in ((1, "满意"), (2, "2"), (4, "5"), (7, "一般")):
            service.do_record_survey(session, boss, SurveyIn(call_id=c[number].id, answer=answer))
        service.do_record_sale(session, boss, SaleIn(call_id=c[1].id, product="云存储年包", converted=True, amount=399))
        service.do_record_sale(session, boss, SaleIn(call_id=c[2].id, product="云存储年包", converted=False))
        service.do_record_error(
            session,
            u["lead"],
            ErrorIn(agent_id=ids["a1"], call_id=c[2].id, occurred_at=at(12, 10, 5), note="资费解释错误"),
        )
        for day, present in ((12, 450), (14, 480)):
            worked = AttendanceIn(
                agent_id=ids["a1"], day=date(2026, 10, day), scheduled_minutes=480, present_minutes=present
            )
            service.do_record_attendance(session, boss, worked)
        calls = {k: v.id for k, v in c.items()}
    return sessions, ids, calls


def user(session: Any, ids: dict[str, int], key: str) -> User:
    return session.get(User, ids[key])


def qa_scores(session: Any, call_ids: list[int]) -> list[float]:
    query = select(Inspection.final_score).where(Inspection.call_id.in_(call_ids), Inspection.current.is_(True))
    return list(session.scalars(query))


def test_the_centre_and_each_agent_against_the_hand_computed_month(month) -> None:  # type: ignore[no-untyped-def]
    sessions, ids, calls = month
    with sessions() as session:
        boss = user(session, ids, "boss")
        (centre,) = service.kpis(session, boss, *OCTOBER, By.CENTRE)
        # Offered: 8 rang in October; the 3-second abandon is left out of the service level.
        assert (centre.offered, centre.answered) == (8, 6)
        assert (centre.service_level.numerator, centre.service_level.denominator) == (5, 7)  # 10,5,8,15,5 s ≤ 20
        assert (centre.abandonment.numerator, centre.abandonment.denominator) == (1, 7)
        assert centre.asa.value == pytest.approx((10 + 30 + 5 + 8 + 15 + 5) / 6)
        # call1 (repeated on 10-14) and call9 (repeated on 11-02, after the month) are not resolved.
        assert (centre.fcr.numerator, centre.fcr.denominator) == (4, 6)

        a1 = next(k for k in service.kpis(session, boss, *OCTOBER, By.AGENT) if k.key == "71001")
        assert a1.handling.value == pytest.approx((340 + 170 + 95) / 3)
        assert (a1.csat.numerator, a1.csat.denominator) == (1, 2)
        assert (a1.conversion.numerator, a1.conversion.denominator, a1.sales_amount) == (1, 2, 399)
        assert (a1.accuracy.numerator, a1.accuracy.denominator) == (2, 3)
        assert (a1.attendance.numerator, a1.attendance.denominator) == (930, 960)
        assert a1.occupancy is not None and (a1.occupancy.numerator, a1.occupancy.denominator) == (605, 930 * 60)
        scores = qa_scores(session, [calls[1], calls[2]])
        assert a1.quality.count == 2 and a1.quality.value == pytest.approx(sum(scores) / 2)

        row = service.agent_month(session, boss, MONTH, ids["a1"])
        parts = {p.key: p for p in row.parts}
        # 满意度 50% is under the scale's 60% → 0; 准确率 2/3 under 90% → 0; 转化率 50% over 20% → 100;
        # handling 201.67 s on the 480 → 180 s scale → 92.78.
        assert (parts["satisfaction"].score, parts["accuracy"].score, parts["sales"].score) == (0, 0, 100)
        assert parts["efficiency"].score == pytest.approx(92.78, abs=0.01)
        expected = 0.30 * round(sum(scores) / 2, 2) + 0.20 * parts["efficiency"].score + 0.10 * 100
        assert row.total == pytest.approx(expected, abs=0.02)


def test_each_role_sees_and_changes_only_its_own_people(month) -> None:  # type: ignore[no-untyped-def]
    sessions, ids, _ = month
    with transaction(sessions) as session:
        a1, lead, qa, boss = (user(session, ids, k) for k in ("a1", "lead", "qa", "boss"))
        assert [r.agent_no for r in service.month_view(session, a1, MONTH).rows] == ["71001"]
        assert [r.agent_no for r in service.month_view(session, lead, MONTH).rows] == ["71001", "71002"]
        assert [r.agent_no for r in service.month_view(session, boss, MONTH).rows] == ["71001", "71002", "72001"]
        with pytest.raises(Forbidden, match="质检员无权查看绩效"):
            service.month_view(session, qa, MONTH)
        with pytest.raises(Forbidden):
            service.agent_month(session, a1, MONTH, ids["a2"])
        with pytest.raises(Forbidden, match="话务员无权修改绩效"):
            service.do_comment(session, a1, MONTH, ids["a1"], "我很好")
        with pytest.raises(Forbidden, match="只能修改本班组的绩效"):
            service.do_comment(session, lead, MONTH, ids["b1"], "不错")
        with pytest.raises(Forbidden, match="班组长无权发布月度考核"):
            service.do_publish_month(session, lead, MONTH)
        with pytest.raises(Forbidden):
            service.do_record_error(session, lead, ErrorIn(agent_id=ids["b1"], occurred_at=at(13, 9), note="x"))


def test_a_published_month_is_frozen_and_corrected_by_an_audited_revision(month) -> None:  # type: ignore[no-untyped-def]
    sessions, ids, calls = month
    with transaction(sessions) as session:
        lead, boss = user(session, ids, "lead"), user(session, ids, "boss")
        service.do_comment(session, lead, MONTH, ids["a1"], "服务热情,资费解释需加强。")
        with pytest.raises(Conflict, match="还不能发布:一次解决率要看月后 7 天的来电"):
            service.do_publish_month(session, boss, service.today().strftime("%Y-%m"))
        service.do_publish_month(session, boss, MONTH)
    with transaction(sessions) as session:
        boss, lead = user(session, ids, "boss"), user(session, ids, "lead")
        first = service.month_view(session, boss, MONTH)
        assert first.published and first.revision == 1
        a2 = next(r for r in first.rows if r.agent_no == "71002")
        assert (a2.kpis.csat.numerator, a2.kpis.csat.denominator) == (1, 1)
        assert next(r for r in first.rows if r.agent_no == "71001").comment == "服务热情,资费解释需加强。"
        # Later data do not change the published month …
        service.do_record_survey(session, boss, SurveyIn(call_id=calls[9], answer="不满意"))
    with transaction(sessions) as session:
        boss, lead = user(session, ids, "boss"), user(session, ids, "lead")
        again = next(r for r in service.month_view(session, boss, MONTH).rows if r.agent_no == "71002")
        assert again == a2
        # … nor does a changed comment (it waits for the next revision), a new grade scale, or an
        # agent moving to another team.
        service.do_comment(session, lead, MONTH, ids["a1"], "服务热情,资费解释已改进。")
        session.get(User, ids["a1"]).team = "乙组"
        use_policy(EvaluationPolicy(grades=(("甲", "很好", 50.0), ("乙", "一般", 0.0))))
    with transaction(sessions) as session:
        boss, lead = user(session, ids, "boss"), user(session, ids, "lead")
        view = service.month_view(session, lead, MONTH)
        a1 = next(r for r in view.rows if r.agent_no == "71001")  # published for 甲组: still the lead's
        assert a1.comment == "服务热情,资费解释需加强。" and a1.grade_label == first.rows[0].grade_label
        assert [g.grade for g in view.policy.grades] == ["A", "B+", "B", "C", "D"]
        use_policy(None)
        # … a correction is a new revision, with its reason.
        with pytest.raises(Invalid, match="须填写修订原因"):
            service.do_publish_month(session, boss, MONTH)
        service.do_publish_month(session, boss, MONTH, "补录 10-30 的满意度调查")
    with sessions() as session:
        boss = user(session, ids, "boss")
        second = service.month_view(session, boss, MONTH)
        assert (second.revision, second.reason) == (2, "补录 10-30 的满意度调查")
        a2 = next(r for r in second.rows if r.agent_no == "71002")
        assert (a2.kpis.csat.numerator, a2.kpis.csat.denominator) == (1, 2)
        assert next(r for r in second.rows if r.agent_no == "71001").comment == "服务热情,资费解释已改进。"
        assert session.scalar(select(func.count(PublishedMonth.id))) == 2  # the first stays
        assert session.scalar(select(func.count(AgentEvaluation.id))) == 6
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "evaluation")))
        assert actions.count("publish") == 1 and actions.count("revise") == 1
        revise = session.scalars(select(AuditEntry).where(AuditEntry.action == "revise")).one()
        assert "补录" in (revise.detail or "") and "71002" in (revise.changes or {})


def test_bad_records_are_refused_with_a_reason(month) -> None:  # type: ignore[no-untyped-def]
    sessions, ids, calls = month
    with transaction(sessions) as session:
        boss = user(session, ids, "boss")
        with pytest.raises(Invalid, match="满意度「还行吧」无法识别"):
            service.do_record_survey(session, boss, SurveyIn(call_id=calls[3], answer="还行吧"))
        with pytest.raises(Conflict, match="已有满意度调查"):
            service.do_record_survey(session, boss, SurveyIn(call_id=calls[1], answer="5"))
        with pytest.raises(Invalid, match="没有接听的话务员"):
            service.do_record_sale(session, boss, SaleIn(call_id=calls[5], product="x", converted=True))
        with pytest.raises(Invalid, match="不是 甲一 接听的"):
            service.do_record_error(
                session, boss, ErrorIn(agent_id=ids["a1"], call_id=calls[4], occurred_at=at(12, 11), note="x")
            )
        for month_text in ("2026-13", "１２３４-01", "2026-1"):
            with pytest.raises(Invalid, match="月份应为 年-月"):
                service.month_view(session, boss, month_text)
        with pytest.raises(Invalid, match="日期应在 2000–2099 年之间"):
            service.month_view(session, boss, "9999-12")
        with pytest.raises(Invalid, match="日期应在 2000–2099 年之间"):
            service.kpis(session, boss, date(1, 1, 1), date(1, 1, 2), By.CENTRE)
        lead, a1 = user(session, ids, "lead"), user(session, ids, "a1")
        with pytest.raises(Invalid, match="时间范围最长 93 天"):
            service.kpis(session, a1, date(2026, 1, 1), date(2026, 10, 31), By.AGENT)
        with pytest.raises(ValidationError, match="时间超出范围"):
            ErrorIn(agent_id=ids["a1"], occurred_at="0001-01-01", note="x")
        # Nobody writes their own performance records, a team lead included.
        with pytest.raises(Forbidden, match="不能为自己录入或修改绩效记录"):
            service.do_comment(session, lead, MONTH, lead.id, "我很好")
        with pytest.raises(Invalid, match="不参加绩效考核"):
            service.do_comment(session, lead, MONTH, ids["qa"], "x")


# ---------------------------------------------------------------- over HTTP


def test_the_api_and_the_hr_workbook(app_factory: AppFactory) -> None:
    app = app_factory(activity=True)
    boss, agent = client_for(app, "50001"), client_for(app, "10001")
    month = datetime.now(centre_tz()).strftime("%Y-%m")
    view = boss.get(f"/api/performance/months/{month}")
    assert view.status_code == 200 and not view.json()["published"]
    rows = {r["agent_no"]: r for r in view.json()["rows"]}
    assert set(rows) >= {"10001", "10002"}
    mine = agent.get(f"/api/performance/months/{month}").json()["rows"]
    assert [r["agent_no"] for r in mine] == ["10001"]
    other = rows["10002"]["agent_id"]
    refused = agent.get(f"/api/performance/months/{month}/agents/{other}")
    assert refused.status_code == 403 and "只能查看自己的绩效" in refused.json()["detail"]
    assert agent.put(f"/api/performance/months/{month}/comments/{other}", json={"text": "x"}).status_code == 403
    early = boss.post(f"/api/performance/months/{month}/publish", json={})
    assert early.status_code == 409 and "还不能发布" in early.json()["detail"]

    export = boss.get(f"/api/performance/months/{month}/export")
    assert export.status_code == 200 and "performance-" in export.headers["content-disposition"]
    book = load_workbook(io.BytesIO(export.content))
    sheet = book["月度绩效"]
    header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
    assert header[:4] == ["工号", "姓名", "班组", "接听量"] and "总分" in header and "班组长评语" in header
    agents = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "10001" in agents
    assert book["计算说明"]["A3"].value == "状态" and "未发布" in book["计算说明"]["B3"].value
    with app.state.sessions() as session:
        assert session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "export")) == 1


def test_kefu_kpi_on_the_exported_records_gives_the_platforms_figures(month, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A centre whose calls live elsewhere computes the same month from files: the platform's own
    call export (with 质检得分, 保持时长, 话后处理时长) and the other records as CSV."""
    import csv
    import json

    from typer.testing import CliRunner

    from kefu.cli import app
    from kefu.core.privacy import Reader
    from kefu.dataio.calls import export_calls

    sessions, ids, _ = month
    with transaction(sessions) as session:
        boss = user(session, ids, "boss")
        (tmp_path / "calls.csv").write_bytes(export_calls(session, Reader(session, boss)))
        platform = {r.agent_no: r for r in service.month_view(session, boss, MONTH).rows}
        records = service.load_month_records(session, MONTH)

    def write(name: str, header: list[str], rows: list[list[object]]) -> None:
        with (tmp_path / name).open("w", newline="", encoding="utf-8") as out:
            csv.writer(out).writerows([header, *rows])

    write(
        "满意度.csv",
        ["工号", "时间", "满意度", "通话编号"],
        [[s.agent, s.at.isoformat(), s.answer, s.call_id] for s in records.surveys],
    )
    write(
        "销售.csv",
        ["工号", "时间", "是否成交", "金额"],
        [[s.agent, s.at.isoformat(), "是" if s.converted else "否", s.amount] for s in records.sales],
    )
    write(
        "差错.csv",
        ["工号", "时间", "通话编号", "说明"],
        [[e.agent, e.at.isoformat(), e.call_id, e.note] for e in records.errors],
    )
    write(
        "出勤.csv",
        ["工号", "日期", "排班分钟", "出勤分钟"],
        [[a.agent, a.day.isoformat(), a.scheduled_minutes, a.present_minutes] for a in records.attendance],
    )
    names = ["calls.csv", "满意度.csv", "销售.csv", "差错.csv", "出勤.csv"]
    result = CliRunner().invoke(app, ["kpi", *[str(tmp_path / n) for n in names], "--month", MONTH, "--format", "json"])
    assert result.exit_code == 0, result.output
    files = {r["agent_no"]: r for r in json.loads(result.stdout)}
    assert set(files) == set(platform)
    for agent, row in platform.items():
        assert files[agent]["parts"] == [p.model_dump() for p in row.parts], agent
        assert (files[agent]["total"], files[agent]["grade"]) == (row.total, row.grade), agent
        assert files[agent]["kpis"]["fcr"] == row.kpis.fcr.model_dump()


@pytest.fixture
def centre_settings(monkeypatch):  # type: ignore[no-untyped-def]
    """Set KEFU_* variables for one test (the settings are read once per process otherwise)."""
    from kefu.core.settings import get_settings

    def use(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"KEFU_{name.upper()}", value)
        get_settings.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(("policy", "counted"), [("short_ignored", (5, 7)), ("failures", (5, 8)), ("ignored", (5, 6))])
def test_the_centre_chooses_how_abandoned_calls_count(
    month, centre_settings, policy: str, counted: tuple[int, int]
) -> None:  # type: ignore[no-untyped-def]
    """KEFU_ABANDON_POLICY: the 40-second abandon always fails unless abandons are ignored; the
    3-second one counts only as a failure under ``failures``."""
    sessions, ids, _ = month
    centre_settings(abandon_policy=policy)
    with sessions() as session:
        (centre,) = service.kpis(session, user(session, ids, "boss"), *OCTOBER, By.CENTRE)
    assert (centre.service_level.numerator, centre.service_level.denominator) == counted
    centre_settings(service_level_seconds="8")  # 5, 8, 5 s within; 10, 15, 30 s not
    with sessions() as session:
        (centre,) = service.kpis(session, user(session, ids, "boss"), *OCTOBER, By.CENTRE)
    assert centre.service_level.numerator == 3
