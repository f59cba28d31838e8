"""Practice (SPEC §9): the simulation handbook's scripted customers (branching on what the agent
says, in any wording, traditional characters too), the role play scored by the centre's rules and
the key phrases, the practical exam beside its inspected calls, and the loop from an agent's
findings to assigned practice and back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from conftest import GOOD_TURNS, RUDE_TURNS, call_at_nine
from kefu.accounts import service as accounts
from kefu.accounts.models import User
from kefu.core.db import transaction, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.security import Role
from kefu.flows import intake
from kefu.training import practice, roleplay, service
from kefu.training.models import PracticeAssignment, Stage
from kefu.training.schemas import StageIn


def test_the_handbook_has_every_chapter_and_its_key_phrases_say_themselves() -> None:
    handbook = roleplay.scenarios()
    for chapter in roleplay.CHAPTERS:
        assert sum(1 for s in handbook.values() if s.chapter == chapter) >= 3, chapter
    for s in handbook.values():
        assert any(k.required for k in s.key_phrases) and 3 <= len(s.script) <= 6
        for k in s.key_phrases:
            assert k.said_in(k.text), (s.code, k.text)  # the model wording counts as said


def test_the_scripted_customer_follows_what_the_agent_says() -> None:
    scenario = roleplay.scenarios()["basic-01"]
    play = roleplay.start(scenario)
    assert play.turns == [{"speaker": "customer", "text": scenario.script[0].customer}]
    play = roleplay.reply(scenario, play, "嗯嗯")  # not what the step wants: the customer reacts, waits
    assert play.step == 0 and play.turns[-1]["text"] == scenario.script[0].otherwise
    play = roleplay.reply(scenario, play, "您好,這裡是智能科技客服中心,工號12345,很高興為您服務")  # traditional
    assert play.step == 1 and play.turns[-1]["text"] == scenario.script[1].customer
    for _ in range(roleplay.MISSES_ALLOWED):
        play = roleplay.reply(scenario, play, "哦")
    assert play.missed == [1] and play.step == 2  # two misses: the step is given up, the script goes on
    with pytest.raises(ValueError, match="请输入"):
        roleplay.reply(scenario, play, "   ")


PEOPLE = {
    "agent": ("93001", "练习甲", Role.AGENT, "甲组"),
    "peer": ("93002", "练习乙", Role.AGENT, "乙组"),
    "trainer": ("40019", "培训师", Role.TRAINER, None),
    "lead": ("93000", "甲组长", Role.TEAM_LEAD, "甲组"),
}


@pytest.fixture
def floor(sessions):  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        u = {
            key: accounts.do_create_user(session, None, agent_no=no, name=name, role=role, password="kefu2026", team=t)
            for key, (no, name, role, t) in PEOPLE.items()
        }
        ids = {k: v.id for k, v in u.items()}
    return sessions, ids


def who(session: Any, ids: dict[str, int], key: str) -> User:
    return session.get(User, ids[key])


def play_through(session: Any, agent: User, code: str, replies: list[str]) -> Any:
    play = practice.do_start_roleplay(session, agent, code)
    for text in replies:
        if play.finished_at is None:
            play = practice.do_roleplay_reply(session, agent, play.id, text)
    while play.finished_at is None:  # whatever is left: give up politely
        play = practice.do_roleplay_reply(session, agent, play.id, "好的")
    return play


def test_a_role_play_is_scored_by_the_rules_and_the_key_phrases(floor) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = floor
    with transaction(sessions) as session:
        agent = who(session, ids, "agent")
        good = play_through(session, agent, "basic-01", [
            "您好,感谢致电智能科技客服中心,我是客服小李,工号12345,很高兴为您服务。",
            "张先生您好,为了保障您的账户安全,请您提供一下手机号码最后四位进行身份验证。",
            "谢谢您的配合,验证通过。我们目前有基础版、标准版和高级版三种套餐,价格分别是1999元、3999元和5999元。",
            "张先生,请问您对哪个套餐更感兴趣呢?",
            "请问还有其他可以帮到您的吗?感谢您的来电,祝您生活愉快,再见。",
        ])  # fmt: skip
        rude = play_through(session, agent, "basic-01", ["喂", "干嘛", "不知道,你自己看官网", "我不负责这个", "挂了"])
        assert good.result["key_said"] > rude.result["key_said"]
        assert not good.result["required_missing"] and rude.result["required_missing"]
        assert rude.result["score"] is not None and good.result["score"] > rude.result["score"]
        rules = {f["rule"] for f in rude.result["findings"]}
        assert "forbidden_phrase" in rules  # 「不知道」「我不负责这个」, with the better wording suggested
        assert any(f["suggestion"] for f in rude.result["findings"] if f["rule"] == "forbidden_phrase")
        with pytest.raises(Forbidden):
            practice.do_roleplay_reply(session, who(session, ids, "peer"), good.id, "你好")
        with pytest.raises(Invalid, match="没有场景"):
            practice.do_start_roleplay(session, agent, "no-such")
    with sessions() as session:
        with pytest.raises(Forbidden):
            practice.roleplay_of(session, who(session, ids, "peer"), good.id)
        assert practice.roleplay_of(session, who(session, ids, "lead"), good.id).id == good.id  # the team lead


def test_the_practical_exam_beside_its_inspected_calls_puts_a_passed_trainee_on_duty(floor) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = floor
    scores = {"基础知识": 85, "系统操作": 80, "问题解决": 90, "沟通技巧": 85, "综合表现": 80}
    calls = [
        practice.SimulatedCall(
            "basic-01", "客户:你好,我想问一下价格\n客服:您好,感谢致电,我是客服小李,工号12345,很高兴为您服务"
        ),
        practice.SimulatedCall("complaint-01", "客户:你们怎么回事!\n客服:不知道,你找别人吧"),
    ]
    with transaction(sessions) as session:
        trainer, agent = who(session, ids, "trainer"), who(session, ids, "agent")
        service.do_set_stage(session, trainer, StageIn(agent_id=agent.id, stage=Stage.AWAITING_EXAM))
        with pytest.raises(Forbidden):
            practice.do_record_practical(session, who(session, ids, "lead"), agent.id, calls, scores, {}, None)
        with pytest.raises(Invalid, match="2–3"):
            practice.do_record_practical(session, trainer, agent.id, calls[:1], scores, {}, None)
        with pytest.raises(Invalid, match="第 1 行"):
            bad = [calls[0], practice.SimulatedCall("complaint-01", "你好")]
            practice.do_record_practical(session, trainer, agent.id, bad, scores, {}, None)
        done = practice.do_record_practical(session, trainer, agent.id, calls, scores, {"沟通技巧": "语气好"}, "良好")
        assert done.total == pytest.approx(85 * 0.2 + 80 * 0.2 + 90 * 0.25 + 85 * 0.25 + 80 * 0.1)
        assert done.passed
        second = done.calls[1]
        assert "negative_wording" in {f["rule"] for f in second["findings"]}  # 「不知道」, beside the trainer's scores
        assert service.stage_of(session, agent.id) is Stage.AWAITING_EXAM  # the theory exam is still to pass


def test_findings_propose_practice_and_the_weeks_after_are_shown_beside_the_weeks_before(floor) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = floor
    with transaction(sessions) as session:
        agent = who(session, ids, "agent")
        at = utcnow() - timedelta(days=2)  # calls of the last four weeks, whenever the test runs
        when = {"ring_at": at, "answered_at": at + timedelta(seconds=4), "ended_at": at + timedelta(seconds=50)}
        for _ in range(3):
            intake.do_record_call(session, None, call_at_nine(agent.id, RUDE_TURNS, **when))
        intake.do_record_call(session, None, call_at_nine(agent.id, GOOD_TURNS, **when))
    with transaction(sessions) as session:
        trainer, agent = who(session, ids, "trainer"), who(session, ids, "agent")
        with pytest.raises(Forbidden):
            practice.proposals(session, who(session, ids, "lead"), agent.id)
        found, _ = practice.proposals(session, trainer, agent.id)
        assert found, "rude calls call for practice"
        top = found[0]
        assert top.count >= 3 and top.scenarios
        assignment = practice.do_assign(
            session, trainer, agent.id, top.scenarios[0].code, None, [top.rule], f"近四周{top.rule_name} {top.count} 次"
        )
    with transaction(sessions) as session:
        agent = who(session, ids, "agent")
        play_through(session, agent, assignment.scenario, [])
        play = practice.do_start_roleplay(session, agent, assignment.scenario, assignment.id)
        while play.finished_at is None:
            play = practice.do_roleplay_reply(session, agent, play.id, "好的")
        stored = session.get(PracticeAssignment, assignment.id)
        assert stored.done_at is not None  # done by the role play it asked for
        effects = practice.assignments(session, who(session, ids, "trainer"), agent.id)
        assert effects[0].before >= 3 and effects[0].after == 0
        assert [e.assignment.id for e in practice.assignments(session, who(session, ids, "peer"))] == []
        assert session.scalars(select(PracticeAssignment)).one().rules == [top.rule]


def test_two_trainees_role_play_each_other_and_the_trainer_scores(floor) -> None:  # type: ignore[no-untyped-def]
    sessions, ids = floor
    with transaction(sessions) as session:
        agent, peer = who(session, ids, "agent"), who(session, ids, "peer")
        play = practice.do_start_pair(session, agent, "complaint-01", peer.id)
        practice.do_roleplay_reply(session, peer, play.id, "你们的设备又坏了,怎么回事!")  # the customer's part
        practice.do_roleplay_reply(session, agent, play.id, "非常抱歉给您带来不便,我理解您的心情,我马上为您处理。")
        assert [t["speaker"] for t in play.state["turns"]] == ["customer", "agent"]
        with pytest.raises(Forbidden):
            practice.do_roleplay_reply(session, who(session, ids, "lead"), play.id, "插一句")
        with pytest.raises(Forbidden):
            practice.do_score_pair(session, peer, play.id, 90, None)
        with pytest.raises(Conflict, match="已结束"):
            practice.do_score_pair(session, who(session, ids, "trainer"), play.id, 90, None)
        practice.do_finish_pair(session, peer, play.id)
        assert play.result["key_total"] >= 1 and play.result["score"] is not None
        practice.do_score_pair(session, who(session, ids, "trainer"), play.id, 86, "道歉及时")
    with sessions() as session:
        seen = practice.roleplay_of(session, who(session, ids, "peer"), play.id)  # the partner (another team) too
        assert seen.trainer_score == 86 and seen.trainer_comment == "道歉及时"
        assert [p.id for p in practice.pair_plays(session, who(session, ids, "peer"))] == [play.id]
