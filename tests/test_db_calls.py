"""Calls: every call has a reason, times in order, night service derived from the time, transcripts
checked with the position of a problem, filters, optimistic locking, work-order draft, demo data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from conftest import reader
from kefu.accounts import service as accounts
from kefu.calls import service as calls
from kefu.calls.demo import DEMOS, seed_demo
from kefu.calls.models import Direction, is_night_service
from kefu.calls.reasons import DEFAULT_REASONS, UNANSWERED, CallReason, current_reasons, load_reasons, use_reasons
from kefu.calls.schemas import CallCreate, CallFilter, CallUpdate
from kefu.core import audit
from kefu.core.clock import centre_tz
from kefu.core.db import transaction
from kefu.core.errors import Conflict, Invalid
from kefu.core.security import Role
from kefu.customers import service as customers
from kefu.customers.schemas import CustomerCreate


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment on the centre's clock in November 2026."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=centre_tz())


def new_call(**fields: object) -> CallCreate:
    values: dict[str, object] = {
        "direction": "inbound",
        "ring_at": at(22, 8, 15),
        "answered_at": at(22, 8, 15, 6),
        "ended_at": at(22, 8, 18, 10),
        "reason": "consult.tariff",
    }
    values.update(fields)
    return CallCreate.model_validate(values)


@pytest.fixture
def world(sessions):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        li = accounts.do_create_user(session, None, agent_no="12345", name="小李", role=Role.AGENT, password="kefu2026")
        wang = accounts.do_create_user(
            session, None, agent_no="20718", name="小王", role=Role.AGENT, password="kefu2026"
        )
        zhang = customers.do_create_customer(
            session, li.id, CustomerCreate(name="张伟", phone="13812345678", account_id="A1001")
        )
        lin = customers.do_create_customer(session, li.id, CustomerCreate(name="林静", phone="13900001111"))
    return sessions, li.id, wang.id, zhang.id, lin.id


# ---------------------------------------------------------------------------- reasons


def test_the_default_reasons_come_from_the_seeds() -> None:
    labels = [r.label for r in DEFAULT_REASONS]
    for label in (
        "咨询-资费",
        "咨询-业务办理",
        "投诉",
        "故障申告",
        "建议",
        "查询",
        "跨区业务",
        "超范围咨询",
        "无声电话",
        "其他",
    ):
        assert label in labels
    assert all(r.source for r in DEFAULT_REASONS)
    assert "002" in DEFAULT_REASONS.get("cross_region").source  # type: ignore[union-attr]
    assert "002" in DEFAULT_REASONS.get("out_of_scope").source  # type: ignore[union-attr]


def test_every_call_needs_a_known_reason() -> None:
    for missing in ({"reason": None}, {"reason": ""}, {"reason": "  "}):
        with pytest.raises(ValidationError, match="每个来电都要选择来电原因"):
            new_call(**missing)
    without = {"direction": "inbound", "ring_at": at(22, 8), "answered_at": at(22, 8, 5)}
    with pytest.raises(ValidationError, match="来电原因"):
        CallCreate.model_validate(without)
    # Nobody answered: nothing to click; stored as 未接通 (the abandoned calls of SPEC §7).
    abandoned = CallCreate.model_validate({"direction": "inbound", "ring_at": at(22, 8)})
    assert abandoned.reason == UNANSWERED and current_reasons().label(UNANSWERED) == "未接通"
    with pytest.raises(ValidationError, match=r"未知的来电原因“天气”.*咨询-资费"):
        new_call(reason="天气")
    assert new_call(reason="故障申告").reason == "fault"  # the label an agent clicks …
    assert new_call(reason="fault").reason == "fault"  # … or the code
    with pytest.raises(ValidationError, match="来电原因不能为空"):
        CallUpdate(version=1, reason=None)


def test_a_centre_can_configure_its_own_reasons(tmp_path: Path, world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        old = calls.do_create_call(session, agent, new_call(reason="咨询-资费"))
    path = tmp_path / "reasons.yaml"
    path.write_text(
        "- {code: consult.tariff, label: 咨询-资费, active: false}\n"
        "- {code: roaming, label: 国际漫游, group: 咨询, source: 本中心}\n",
        encoding="utf-8",
    )
    try:
        use_reasons(load_reasons(path))
        assert new_call(reason="国际漫游").reason == "roaming"
        with pytest.raises(ValidationError, match="已停用"):
            new_call(reason="咨询-资费")
        with sessions() as session:  # an old call keeps its reason and label
            assert calls.present(calls.get_call(session, old.id), reader()).reason_label == "咨询-资费"
        path.write_text("- {code: a, label: 重复}\n- {code: b, label: 重复}\n", encoding="utf-8")
        with pytest.raises(ValueError, match="重复"):
            load_reasons(path)
    finally:
        use_reasons(None)
    assert new_call(reason="咨询-资费").reason == "consult.tariff"


def test_reason_codes_are_checked() -> None:
    with pytest.raises(ValidationError):
        CallReason(code="有中文", label="x")


# ---------------------------------------------------------------------------- times


def test_times_must_be_in_order() -> None:
    with pytest.raises(ValidationError, match="接听时间不能早于振铃时间") as caught:
        new_call(answered_at=at(22, 8, 14))
    assert caught.value.errors()[0]["loc"] == ("answered_at",)  # points at the later field
    with pytest.raises(ValidationError, match="结束时间不能早于接听时间"):
        new_call(ended_at=at(22, 8, 15, 5))
    with pytest.raises(ValidationError, match="结束时间不能早于振铃时间"):
        new_call(answered_at=None, ended_at=at(22, 8, 0))
    # equal is fine; an unanswered call has no answer time
    assert new_call(answered_at=at(22, 8, 15), ended_at=at(22, 8, 15)).answered_at is not None
    assert new_call(answered_at=None, ended_at=at(22, 8, 16)).answered_at is None


def test_times_as_people_type_them_are_on_the_centres_clock() -> None:
    for typed in ("2026-11-22 08:15:00", "2026/11/22 08:15", "2026年11月22日 08:15", "2026-11-22T00:15:00Z"):
        call = new_call(ring_at=typed, answered_at=None, ended_at=None)
        assert call.ring_at == at(22, 8, 15), typed
    with pytest.raises(ValidationError):
        new_call(ring_at="昨天下午")


def test_durations(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        answered = calls.do_create_call(session, agent, new_call())
        missed = calls.do_create_call(session, agent, new_call(answered_at=None, ended_at=at(22, 8, 15, 30)))
    with sessions() as session:
        answered = calls.get_call(session, answered.id)
        assert answered.ring_seconds == 6 and answered.talk_seconds == 184
        missed = calls.get_call(session, missed.id)
        assert missed.ring_seconds is None and missed.talk_seconds is None and not missed.answered


def test_an_update_keeps_the_times_in_order(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        call = calls.do_create_call(session, agent, new_call())
    with pytest.raises(Invalid, match="结束时间不能早于接听时间"), transaction(sessions) as session:
        calls.do_update_call(session, agent, call.id, CallUpdate(version=1, ended_at=at(22, 8, 15)))
    with pytest.raises(Invalid, match="接听时间不能早于振铃时间"), transaction(sessions) as session:
        calls.do_update_call(session, agent, call.id, CallUpdate(version=1, ring_at=at(22, 8, 16)))


# ---------------------------------------------------------------------------- night service


@pytest.mark.parametrize(
    ("hour", "minute", "night"),
    [(23, 29, False), (23, 30, True), (0, 0, True), (3, 0, True), (7, 29, True), (7, 30, False), (12, 0, False)],
)
def test_night_service_is_23_30_to_07_30(hour: int, minute: int, night: bool) -> None:
    moment = at(22, hour, minute)
    assert is_night_service(moment) is night
    assert is_night_service(moment.replace(tzinfo=None)) is night  # a zone-less time is the centre's
    assert is_night_service(moment.astimezone(UTC)) is night  # UTC is read on the centre's clock
    assert is_night_service(at(22, hour, minute, 59)) is night  # the whole minute


def test_the_night_flag_is_stored_and_follows_the_ring_time(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        late = calls.do_create_call(session, agent, new_call(ring_at=at(22, 23, 30), answered_at=None, ended_at=None))
        early = calls.do_create_call(session, agent, new_call(ring_at=at(22, 7, 30), answered_at=None, ended_at=None))
    assert late.night_service and not early.night_service
    with transaction(sessions) as session:
        calls.do_update_call(session, agent, late.id, CallUpdate(version=1, ring_at="2026-11-22 23:29"))
    with sessions() as session:
        assert not calls.get_call(session, late.id).night_service
        assert calls.count_calls(session, CallFilter(night_service=True)) == 0


# ---------------------------------------------------------------------------- transcripts


def test_a_transcript_is_checked_and_a_problem_says_where() -> None:
    good = new_call(transcript="[00:00.0-00:04.1] 客服: 您好,很高兴为您服务\n[00:04.5-00:06.0] 客户: 我想问资费")
    assert good.transcript == [
        {"speaker": "agent", "text": "您好,很高兴为您服务", "start": 0.0, "end": 4.1},
        {"speaker": "customer", "text": "我想问资费", "start": 4.5, "end": 6.0},
    ]
    as_json = new_call(
        transcript='{"turns": [{"speaker": "坐席", "text": "您好"}, {"speaker": "用户", "text": "在吗"}]}'
    )
    assert [t["speaker"] for t in as_json.transcript] == ["agent", "customer"]  # type: ignore[union-attr]
    as_list = new_call(transcript=[{"speaker": "agent", "text": "您好"}])
    assert as_list.transcript == [{"speaker": "agent", "text": "您好"}]

    with pytest.raises(ValidationError, match="转写第 1 行:这一行没有说话人"):
        new_call(transcript="你好\n客服: 您好")
    with pytest.raises(ValidationError, match="转写第 3 行:未知的说话人 '路人'"):
        new_call(transcript="客服: 您好\n客户: 你好\n[00:05.0-00:06.0] 路人: 插一句")
    with pytest.raises(ValidationError, match="转写第 2 句的 speaker:未知的说话人 'x'"):
        new_call(transcript=[{"speaker": "agent", "text": "您好"}, {"speaker": "x", "text": "?"}])
    with pytest.raises(ValidationError, match=r"转写第 1 行第 12 列:JSON 格式错误\(此处应有一个值\)"):
        new_call(transcript='{"turns": [}')
    with pytest.raises(ValidationError, match=r"转写第 2 句:结束时间 1\.0 秒早于开始时间 2\.0 秒"):
        new_call(
            transcript=[{"speaker": "agent", "text": "a"}, {"speaker": "agent", "text": "b", "start": 2, "end": 1}]
        )
    with pytest.raises(ValidationError, match="只包含一通电话"):
        new_call(transcript='[{"turns": [{"speaker": "agent", "text": "a"}]}, {"turns": [{"speaker": "agent"}]}]')


def test_a_stored_transcript_can_be_inspected(world, inspector) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        call = calls.do_create_call(
            session, agent, new_call(agent_id=agent, transcript="客服: 不知道,你问我我问谁啊。\n客户: 你这是什么态度?")
        )
    with sessions() as session:
        transcript = calls.get_call(session, call.id).to_transcript()
    assert transcript is not None and transcript.agent_id == "12345"
    assert transcript.ring_at == at(22, 8, 15) and transcript.direction == "inbound"
    report = inspector.inspect(transcript)
    assert any(f.rule == "forbidden_phrase" for f in report.findings)


# ---------------------------------------------------------------------------- references, audit


def test_customer_agent_and_call_number_are_checked(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, _, zhang, _ = world
    with pytest.raises(Invalid, match="客户 999 不存在"), transaction(sessions) as session:
        calls.do_create_call(session, agent, new_call(customer_id=999))
    with pytest.raises(Invalid, match="用户 999"), transaction(sessions) as session:
        calls.do_create_call(session, agent, new_call(agent_id=999))
    with transaction(sessions) as session:
        first = calls.do_create_call(session, agent, new_call(external_id="20261122-0001", customer_id=zhang))
    with pytest.raises(Conflict, match="通话编号 20261122-0001 已存在"), transaction(sessions) as session:
        calls.do_create_call(session, agent, new_call(external_id="20261122-0001"))
    with sessions() as session:
        [entry] = [e for e in audit.entries(session, entity="call") if e.action == "create"]
    assert entry.entity_id == str(first.id) and entry.actor_id == agent
    assert entry.changes["reason"] == [None, "consult.tariff"]
    assert entry.changes["ring_at"] == [None, "2026-11-22T08:15:00+08:00"]


def test_the_audit_shows_a_transcript_by_its_length_not_its_words(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        call = calls.do_create_call(session, agent, new_call(transcript="客服: 您好\n客户: 我的身份证号是……"))
    with sessions() as session:
        [entry] = audit.entries(session, entity="call", entity_id=call.id)
    assert entry.changes["transcript"] == [None, "2 句"]


# ---------------------------------------------------------------------------- lists


@pytest.fixture
def day_of_calls(world):  # type: ignore[no-untyped-def]
    sessions, li, wang, zhang, lin = world
    plan = [
        (at(20, 9), li, zhang, "投诉", "inbound"),
        (at(21, 0, 10), li, None, "无声电话", "inbound"),  # night
        (at(21, 10), wang, lin, "咨询-资费", "inbound"),
        (at(22, 8), li, zhang, "回访", "outbound"),
        (at(22, 9), wang, zhang, "咨询-资费", "inbound"),
        (at(22, 23, 45), wang, lin, "故障申告", "inbound"),  # night
    ]
    ids = []
    with transaction(sessions) as session:
        for ring_at, agent, customer, reason, direction in plan:
            data = new_call(
                ring_at=ring_at,
                answered_at=ring_at + timedelta(seconds=5),
                ended_at=ring_at + timedelta(seconds=125),
                agent_id=agent,
                customer_id=customer,
                reason=reason,
                direction=direction,
            )
            ids.append(calls.do_create_call(session, agent, data).id)
    return world, ids


def test_lists_filter_by_time_agent_customer_reason_and_direction(day_of_calls) -> None:  # type: ignore[no-untyped-def]
    (sessions, li, wang, zhang, _lin), ids = day_of_calls

    def found(**filters: object) -> list[int]:
        with sessions() as session:
            return [c.id for c in calls.list_calls(session, CallFilter.model_validate(filters))]

    assert found() == ids[::-1]  # newest first
    assert found(start="2026-11-21 00:00", end="2026-11-22 00:00") == [ids[2], ids[1]]
    assert found(start=at(22, 9)) == [ids[5], ids[4]]  # the start is included …
    assert found(end=at(22, 9)) == ids[3::-1]  # … the end is not
    assert found(agent_id=wang) == [ids[5], ids[4], ids[2]]
    assert found(customer_id=zhang) == [ids[4], ids[3], ids[0]]
    assert found(reason="咨询-资费") == found(reason="consult.tariff") == [ids[4], ids[2]]
    assert found(direction="呼出") == [ids[3]]
    assert found(night_service=True) == [ids[5], ids[1]]
    assert found(agent_id=li, direction="inbound", start=at(21, 0)) == [ids[1]]
    with sessions() as session:
        assert calls.count_calls(session, CallFilter(agent_id=li)) == 3
        assert [c.id for c in calls.list_calls(session, limit=2, offset=1)] == [ids[4], ids[3]]
    with pytest.raises(ValidationError, match="结束时间不能早于开始时间"):
        CallFilter(start=at(22, 0), end=at(21, 0))
    with pytest.raises(ValidationError, match="未知的来电原因"):
        CallFilter(reason="天气")


def test_contact_history_and_reason_statistics(day_of_calls) -> None:  # type: ignore[no-untyped-def]
    (sessions, _, _, zhang, _), ids = day_of_calls
    with sessions() as session:
        history = calls.contact_history(session, zhang)
        assert [c.id for c in history] == [ids[4], ids[3], ids[0]]
        assert [c.id for c in calls.contact_history(session, zhang, start=at(22, 0))] == [ids[4], ids[3]]
        assert [c.id for c in calls.contact_history(session, zhang, reason="投诉")] == [ids[0]]
        stats = {s.label: s.count for s in calls.reason_statistics(session)}
        assert stats["咨询-资费"] == 2 and stats["投诉"] == 1 and stats["建议"] == 0
        assert sum(stats.values()) == 6
        night = {s.code: s.count for s in calls.reason_statistics(session, CallFilter(night_service=True)) if s.count}
        assert night == {"fault": 1, "silent": 1}


def test_an_agents_numbers_for_today(day_of_calls) -> None:  # type: ignore[no-untyped-def]
    (sessions, li, wang, _, _), _ = day_of_calls
    with sessions() as session:
        today = calls.agent_today(session, wang, now=at(22, 23, 50))
        assert (today.calls, today.answered, today.inbound, today.outbound) == (2, 2, 2, 0)
        assert today.night_service == 1 and today.talk_seconds == 240
        assert today.average_handling_seconds == 120 and today.average_ring_seconds == 5
        # the day is the centre's: 00:10 on the 21st (16:10 UTC on the 20th) belongs to the 21st
        assert calls.agent_today(session, li, now=at(21, 12)).calls == 1
        empty = calls.agent_today(session, li, now=at(25, 12))
        assert empty.calls == 0 and empty.average_handling_seconds is None


# ---------------------------------------------------------------------------- changes


def test_a_stale_save_is_refused_and_loses_nothing(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        call = calls.do_create_call(session, agent, new_call(summary="原小结"))
    with transaction(sessions) as session:
        updated = calls.do_update_call(session, agent, call.id, CallUpdate(version=1, summary="第一位", reason="投诉"))
        assert updated.version == 2
    with pytest.raises(Conflict, match="已被他人修改"), transaction(sessions) as session:
        calls.do_update_call(session, agent, call.id, CallUpdate(version=1, summary="第二位"))
    with pytest.raises(Invalid, match="没有需要保存的修改"), transaction(sessions) as session:
        calls.do_update_call(session, agent, call.id, CallUpdate(version=2, summary="第一位"))
    with sessions() as session:
        assert calls.get_call(session, call.id).summary == "第一位"
        [entry] = [e for e in audit.entries(session, entity="call", entity_id=call.id) if e.action == "update"]
    assert entry.changes == {"summary": ["原小结", "第一位"], "reason": ["consult.tariff", "complaint"]}


def test_two_saves_racing_on_the_same_version(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        call_id = calls.do_create_call(session, agent, new_call()).id
    first, second = sessions(), sessions()
    with first.begin(), second.begin():
        calls.get_call(first, call_id)
        calls.get_call(second, call_id)
        calls.do_update_call(first, agent, call_id, CallUpdate(version=1, summary="甲"))
        first.commit()
        with pytest.raises(Conflict):
            calls.do_update_call(second, agent, call_id, CallUpdate(version=1, summary="乙"))
    with sessions() as session:
        assert calls.get_call(session, call_id).summary == "甲"


def test_an_update_can_clear_optional_fields_and_unchanged_times_are_no_change(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, _, zhang, _ = world
    with transaction(sessions) as session:
        call = calls.do_create_call(session, agent, new_call(customer_id=zhang, summary="有小结"))
    with transaction(sessions) as session:  # the same time typed differently is not a change
        change = CallUpdate(version=1, ring_at="2026-11-22 08:15:00", summary=None, customer_id=None)
        updated = calls.do_update_call(session, agent, call.id, change)
        assert updated.summary is None and updated.customer_id is None
    with sessions() as session:
        [entry] = [e for e in audit.entries(session, entity="call", entity_id=call.id) if e.action == "update"]
    assert set(entry.changes) == {"summary", "customer_id"}


# ---------------------------------------------------------------------------- work order, demo


def test_a_work_order_from_a_call_needs_no_retyping(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, _, zhang, _ = world
    with transaction(sessions) as session:
        call = calls.do_create_call(
            session,
            agent,
            new_call(customer_id=zhang, caller_number="13812345678", reason="投诉", summary="账单多扣50元,要求退还"),
        )
        anonymous = calls.do_create_call(session, agent, new_call(reason="跨区业务", caller_number="0769-81234567"))
    with sessions() as session:
        draft = calls.work_order_draft(calls.get_call(session, call.id), reader())
        other = calls.work_order_draft(calls.get_call(session, anonymous.id), reader())
        # without a caller number, the customer's own number is the contact
        no_number = calls.do_create_call(session, agent, new_call(customer_id=zhang))
        assert calls.work_order_draft(no_number, reader()).contact == "13812345678"
    assert draft.call_id == call.id and draft.customer_id == zhang
    assert draft.contact == "13812345678" and draft.contact_name == "张伟"
    assert draft.description == "账单多扣50元,要求退还"
    assert draft.type_hint == "complaint" and draft.reason_label == "投诉"
    assert "2026-11-22 08:15" in draft.note and "呼入" in draft.note
    assert other.customer_id is None and other.contact == "0769-81234567" and other.type_hint is None


def test_present_shows_labels_and_the_centres_clock(world) -> None:  # type: ignore[no-untyped-def]
    sessions, agent, *_ = world
    with transaction(sessions) as session:
        call = calls.do_create_call(session, agent, new_call(agent_id=agent, hangup_by="客户", direction="呼出"))
    with sessions() as session:
        out = calls.present(calls.get_call(session, call.id), reader())
    assert out.direction == Direction.OUTBOUND and out.direction_label == "呼出"
    assert out.hangup_by_label == "客户" and out.channel_label == "语音" and out.reason_label == "咨询-资费"
    assert out.agent_no == "12345" and out.agent_name == "小李"
    assert out.ring_at.isoformat() == "2026-11-22T08:15:00+08:00" and out.talk_seconds == 184


def test_demo_calls(world) -> None:  # type: ignore[no-untyped-def]
    sessions, li, wang, zhang, lin = world
    now = at(23, 10)
    with transaction(sessions) as session:
        agents = [accounts.get_user(session, li), accounts.get_user(session, wang)]
        people = [customers.get_customer(session, zhang), customers.get_customer(session, lin)]
        made = seed_demo(session, agents, people, now=now)
        assert seed_demo(session, agents, people, now=now) == []  # only once
    assert len(made) == len(DEMOS) >= 18
    assert {c.reason for c in made} >= {"complaint", "fault", "cross_region", "out_of_scope", "silent", "callback"}
    assert sum(c.night_service for c in made) >= 3
    assert all(c.summary and c.transcript and c.ring_at <= now for c in made)
    with sessions() as session:
        assert calls.count_calls(session) == len(DEMOS)
        assert calls.agent_today(session, li, now=now).calls + calls.agent_today(session, wang, now=now).calls >= 3
        assert calls.count_calls(session, CallFilter(direction="outbound")) >= 2
