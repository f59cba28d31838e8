"""Practice (SPEC §9, seed 004): role play against the handbook's scripted customers, scored by
the centre's inspection rules and the scenario's key phrases; the practical exam (2–3 simulated
calls, five criteria scored by the trainer, each transcript inspected beside them); and the loop
from inspection back to training — what an agent's findings of the last four weeks call for,
the practice a trainer assigns, and the findings of the weeks after it beside those before."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.calls.models import CallRecord
from kefu.core import access
from kefu.core.access import Record
from kefu.core.audit import AuditAction, AuditEntity, record
from kefu.core.db import get_or_404, utcnow
from kefu.core.errors import Conflict, Forbidden, Invalid
from kefu.core.security import Role
from kefu.inspection.transcript import Transcript
from kefu.knowledge.models import Article
from kefu.knowledge.queries import search
from kefu.knowledge.schemas import SearchQuery
from kefu.performance.models import CoachingPlan, CoachingStatus
from kefu.quality.models import Finding, FindingReview, Inspection
from kefu.quality.service import active_rulebook
from kefu.training import models as m
from kefu.training import roleplay
from kefu.training.service import may_manage, on_duty_if_both_passed

LOOKBACK = timedelta(weeks=4)
# Seed 004's practical exam: the criteria and their weights.
CRITERIA = {"基础知识": 0.20, "系统操作": 0.20, "问题解决": 0.25, "沟通技巧": 0.25, "综合表现": 0.10}
PRACTICAL_PASS = 80.0
# Which scenarios practise what an inspection rule found: words of the scenario (its notes, its
# key phrases) that show it trains that skill.
RULE_TOPICS = {
    "opening": r"开场|问候|工号",
    "closing": r"结束语|道别|再见|祝您",
    "identity_verification": r"身份验证|核实身份|验证",
    "privacy": r"隐私|身份验证",
    "forbidden_phrase": r"禁用|情绪|投诉|耐心",
    "negative_wording": r"不知道|不可能|负面|否定",
    "empathy": r"理解|歉|安抚|情绪",
    "transfer_etiquette": r"转接",
    "commitment_time": r"时限|预计|小时|答复",
    "read_back": r"复述|确认",
    "customer_name": r"先生|女士|称呼",
    "dead_air": r"稍等|请不要挂断|等待",
    "interruption": r"倾听|打断",
    "abuse": r"情绪|冷静",
}


# ---------------------------------------------------------------- role play


def _scenario(code: str) -> roleplay.Scenario:
    found = roleplay.scenarios().get(code)
    if found is None:
        raise Invalid(f"话务模拟手册里没有场景「{code}」")
    return found


def do_start_roleplay(session: Session, actor: User, scenario: str, assignment_id: int | None = None) -> m.RolePlay:
    """An agent (or a trainee) starts practising a scenario; the scripted customer speaks first."""
    if actor.role is not Role.AGENT:
        raise Forbidden("情景演练由话务员本人进行")
    chosen = _scenario(scenario)
    if assignment_id is not None:
        assignment = get_or_404(session, m.PracticeAssignment, assignment_id, "练习任务")
        if assignment.agent_id != actor.id or assignment.scenario != scenario:
            raise Forbidden("这不是您的练习任务")
    play = m.RolePlay(
        agent_id=actor.id, scenario=chosen.code, assignment_id=assignment_id, started_at=utcnow(),
        state=roleplay.start(chosen).as_dict(),
    )  # fmt: skip
    session.add(play)
    session.flush()
    record(
        session, actor.id, AuditAction.START, AuditEntity.ROLEPLAY, play.id, detail=f"{chosen.chapter}·{chosen.title}"
    )
    return play


def do_roleplay_reply(session: Session, actor: User, play_id: int, text: str) -> m.RolePlay:
    """The agent's reply; the scripted customer answers, and at the end the transcript is scored.
    In a pair role play: a line of whichever part the actor plays."""
    play = get_or_404(session, m.RolePlay, play_id, "情景演练")
    if play.partner_id is not None:  # in pairs: said as the part the actor plays
        return do_pair_say(session, actor, play_id, text)
    if play.agent_id != actor.id:
        raise Forbidden("只能继续自己的情景演练")
    if play.finished_at is not None:
        raise Conflict("这次演练已经结束")
    if len(text) > 1000:
        raise Invalid("一次最多说 1000 字")
    scenario = _scenario(play.scenario)
    try:
        state = roleplay.reply(scenario, roleplay.Play.of(play.state), text)
    except ValueError as error:
        raise Invalid(str(error)) from None
    play.state = state.as_dict()
    record(session, actor.id, AuditAction.UPDATE, AuditEntity.ROLEPLAY, play.id, detail=f"第 {len(state.turns)} 句")
    if state.finished:
        play.finished_at = utcnow()
        play.result = _score(session, scenario, state.turns, play.started_at, play.agent)
        play.result["missed_steps"] = [scenario.script[i].customer for i in state.missed]
        if play.assignment_id is not None:
            assignment = session.get(m.PracticeAssignment, play.assignment_id)
            if assignment is not None and assignment.done_at is None:
                assignment.done_at = play.finished_at
        said = f"关键话术 {play.result['key_said']}/{play.result['key_total']}"
        detail = f"{scenario.title}:质检 {play.result['score']} 分,{said}"
        record(session, actor.id, AuditAction.COMPLETE, AuditEntity.ROLEPLAY, play.id, detail=detail)
    return play


def _score(
    session: Session, scenario: roleplay.Scenario, turns: list[dict[str, Any]], started: datetime, agent: User
) -> dict[str, Any]:
    """The transcript through the centre's published rules, and the scenario's key phrases."""
    active = active_rulebook(session)
    findings: list[dict[str, Any]] = []
    score: float | None = None
    passed: bool | None = None
    if active is not None:
        transcript = Transcript.model_validate(
            {"id": f"roleplay-{scenario.code}", "channel": "voice", "direction": "inbound", "agent_id": agent.agent_no,
             "agent_name": agent.name, "ring_at": started, "answered_at": started, "turns": turns}
        )  # fmt: skip
        report = active.inspector.inspect(transcript)
        score, passed = report.score, report.passed
        findings = [
            {"rule": f.rule, "rule_name": f.rule_name, "message": f.message, "evidence": f.evidence,
             "suggestion": f.suggestion, "deduction": f.deduction, "turn": f.turn}
            for f in report.findings
        ]  # fmt: skip
    phrases = roleplay.key_phrases(scenario, turns)
    return {
        "score": score, "passed": passed, "findings": findings,
        "key_phrases": [{"text": k.text, "required": k.required, "said": said} for k, said in phrases],
        "key_said": sum(1 for _, said in phrases if said), "key_total": len(phrases),
        "required_missing": [k.text for k, said in phrases if k.required and not said],
    }  # fmt: skip


def scenario_of(code: str) -> roleplay.Scenario:
    """The scenario of a stored play; one since removed from the handbook keeps a plain title."""
    return roleplay.scenarios().get(code) or roleplay.Scenario(
        code, "", f"场景 {code}(已从手册删除)", "", "", "", (), ()
    )


def roleplay_of(session: Session, user: User, play_id: int) -> m.RolePlay:
    play = get_or_404(session, m.RolePlay, play_id, "情景演练")
    if user.id != play.partner_id:  # the colleague playing the customer sees the play too
        access.check(user, Record.TRAINING, [play.agent], what=f"{play.agent.name}的情景演练")
    return play


def pair_plays(session: Session, user: User) -> list[m.RolePlay]:
    """Pair role plays the user takes part in (either part), or may score (trainers: all)."""
    query = select(m.RolePlay).where(m.RolePlay.partner_id.is_not(None)).order_by(m.RolePlay.started_at.desc())
    if not may_manage(user):
        query = query.where((m.RolePlay.agent_id == user.id) | (m.RolePlay.partner_id == user.id))
    return list(session.scalars(query.limit(100)))


def roleplays(session: Session, user: User, agent_id: int | None = None) -> list[m.RolePlay]:
    scope = access.scope_of(user, Record.TRAINING)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看培训考核")
    query = select(m.RolePlay).order_by(m.RolePlay.started_at.desc()).limit(200)
    if agent_id is not None:
        query = query.where(m.RolePlay.agent_id == agent_id)
    return [p for p in session.scalars(query) if access.within(user, scope, [p.agent])]


# ---------------------------------------------------------------- the practical exam


@dataclass(frozen=True)
class SimulatedCall:
    scenario: str
    transcript: str  # one turn a line: 「客服:…」/「客户:…」


TURN = re.compile(r"^\s*(客服|坐席|agent|客户|customer)\s*[::]\s*(.*)$", re.IGNORECASE)


def _turns(text: str) -> list[dict[str, Any]]:
    turns = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        found = TURN.match(line)
        if found is None:
            raise Invalid(f"模拟通话记录第 {number} 行应以「客服:」或「客户:」开头")
        if not found.group(2).strip():
            raise Invalid(f"模拟通话记录第 {number} 行没有内容")
        speaker = "agent" if found.group(1).lower() in ("客服", "坐席", "agent") else "customer"
        turns.append({"speaker": speaker, "text": found.group(2).strip()})
    if not any(t["speaker"] == "agent" for t in turns):
        raise Invalid("模拟通话记录里没有客服说的话")
    return turns


def do_record_practical(
    session: Session, actor: User, agent_id: int, calls: list[SimulatedCall], scores: dict[str, float],
    comments: dict[str, str], comment: str | None,
) -> m.Practical:  # fmt: skip
    """The trainer's scores (0–100 per criterion, weighted as seed 004 says) and each simulated
    call inspected; passing (80) with the theory exam passed puts the agent on duty, into the two
    weeks of coached practice."""
    if not may_manage(actor):
        raise Forbidden(f"{actor.role.label}无权记录实操考核(培训师、主管可以)")
    agent = get_or_404(session, User, agent_id, "用户")
    if agent.role is not Role.AGENT:
        raise Invalid("实操考核针对话务员")
    if not 2 <= len(calls) <= 3:
        raise Invalid("实操考核为 2–3 个不同类型的模拟通话")
    if len({_scenario(c.scenario).chapter for c in calls}) != len(calls):
        raise Invalid("实操考核的模拟通话应是不同类型的场景(不同章节)")
    if set(scores) != set(CRITERIA):
        raise Invalid(f"请为五个维度评分:{'、'.join(CRITERIA)}")
    if any(not 0 <= v <= 100 for v in scores.values()):
        raise Invalid("每个维度的得分应在 0–100 之间")
    now = utcnow()
    inspected = []
    for call in calls:
        scenario = _scenario(call.scenario)
        turns = _turns(call.transcript)
        result = _score(session, scenario, turns, now, agent)
        inspected.append({"scenario": scenario.code, "title": scenario.title, "chapter": scenario.chapter,
                          "turns": turns, **result})  # fmt: skip
    total = round(sum(scores[k] * w for k, w in CRITERIA.items()), 2)
    practical = m.Practical(
        agent_id=agent.id, trainer_id=actor.id, held_at=now, calls=inspected,
        criteria={k: {"score": scores[k], "weight": w, "comment": comments.get(k)} for k, w in CRITERIA.items()},
        total=total, passed=total >= PRACTICAL_PASS, comment=comment,
    )  # fmt: skip
    session.add(practical)
    session.flush()
    trainee = session.scalars(select(m.Trainee).where(m.Trainee.agent_id == agent.id)).first()
    if trainee is not None and practical.passed:
        on_duty_if_both_passed(session, actor.id, trainee)
    record(
        session, actor.id, AuditAction.JUDGE, AuditEntity.PRACTICAL, practical.id,
        detail=f"{agent.name}({agent.agent_no})实操考核 {total:g} 分,{'通过' if practical.passed else '未通过'}",
    )  # fmt: skip
    return practical


def practical_of(session: Session, user: User, practical_id: int) -> m.Practical:
    found = get_or_404(session, m.Practical, practical_id, "实操考核")
    access.check(user, Record.TRAINING, [found.agent], what=f"{found.agent.name}的实操考核")
    return found


def practicals(session: Session, user: User) -> list[m.Practical]:
    scope = access.scope_of(user, Record.TRAINING)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看培训考核")
    rows = session.scalars(select(m.Practical).order_by(m.Practical.held_at.desc()).limit(200))
    return [p for p in rows if access.within(user, scope, [p.agent])]


# ---------------------------------------------------------------- the loop


@dataclass(frozen=True)
class Proposal:
    rule: str
    rule_name: str
    count: int  # findings in the last four weeks
    scenarios: list[roleplay.Scenario]
    articles: list[tuple[int, str]]  # (id, title)


def findings_by_rule(session: Session, agent_id: int, start: datetime, end: datetime) -> Counter[str]:
    """The agent's findings per rule on the calls that rang in [start, end) (each call's current
    inspection; an inspector's own findings included, overturned ones not)."""
    rows = session.execute(
        select(Finding.rule)
        .join(Inspection, Inspection.id == Finding.inspection_id)
        .join(CallRecord, CallRecord.id == Inspection.call_id)
        .where(Inspection.agent_id == agent_id, Inspection.current.is_(True),
               Finding.review != FindingReview.OVERTURNED, CallRecord.ring_at >= start, CallRecord.ring_at < end)
    )  # fmt: skip
    return Counter(rule for (rule,) in rows)


def _practising(rule: str) -> list[roleplay.Scenario]:
    topic = RULE_TOPICS.get(rule)
    if topic is None:
        return []
    pattern = re.compile(topic)
    ranked = []
    for s in roleplay.scenarios().values():
        text = " ".join([s.notes, s.description, *(k.text for k in s.key_phrases)])
        hits = len(pattern.findall(text))
        if hits:
            ranked.append((hits, s.code, s))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    return [s for _, _, s in ranked[:2]]


def proposals(session: Session, user: User, agent_id: int) -> tuple[list[Proposal], list[CoachingPlan]]:
    """What the agent's findings of the last four weeks call for (most frequent first), and
    their open coaching plans: the trainer picks from these."""
    if not may_manage(user):
        raise Forbidden(f"{user.role.label}无权安排练习(培训师、主管可以)")
    agent = get_or_404(session, User, agent_id, "用户")
    now = utcnow()
    counts = findings_by_rule(session, agent.id, now - LOOKBACK, now)
    names = dict(session.execute(select(Finding.rule, Finding.rule_name).where(Finding.rule.in_(list(counts)))).all())
    out = []
    for rule, count in counts.most_common():
        if rule not in RULE_TOPICS:
            continue
        hits = search(session, user, SearchQuery(q=names.get(rule, rule), limit=3)).hits
        articles = [(int(h.ref), h.title) for h in hits if h.kind == "article"]
        out.append(Proposal(rule, names.get(rule, rule), count, _practising(rule), articles))
    plans = list(
        session.scalars(
            select(CoachingPlan).where(CoachingPlan.agent_id == agent.id, CoachingPlan.status == CoachingStatus.OPEN)
        )
    )
    return out, plans


def do_assign(
    session: Session, actor: User, agent_id: int, scenario: str | None, article_id: int | None, rules: list[str],
    reason: str,
) -> m.PracticeAssignment:  # fmt: skip
    if not may_manage(actor):
        raise Forbidden(f"{actor.role.label}无权安排练习(培训师、主管可以)")
    agent = get_or_404(session, User, agent_id, "用户")
    if agent.role is not Role.AGENT:
        raise Invalid("练习任务针对话务员")
    if (scenario is None) == (article_id is None):
        raise Invalid("一项练习是一个演练场景或一篇知识文章")
    if scenario is not None:
        _scenario(scenario)
    if article_id is not None:
        get_or_404(session, Article, article_id, "知识文章")
    assignment = m.PracticeAssignment(
        agent_id=agent.id, scenario=scenario, article_id=article_id, rules=rules, reason=reason[:500],
        assigned_by=actor.id, assigned_at=utcnow(),
    )  # fmt: skip
    session.add(assignment)
    session.flush()
    record(session, actor.id, AuditAction.ASSIGN, AuditEntity.ASSIGNMENT, assignment.id,
           detail=f"{agent.name}({agent.agent_no}):{scenario or f'文章 {article_id}'}({reason[:100]})")  # fmt: skip
    return assignment


def do_finish_reading(session: Session, actor: User, assignment_id: int) -> m.PracticeAssignment:
    assignment = get_or_404(session, m.PracticeAssignment, assignment_id, "练习任务")
    if assignment.agent_id != actor.id:
        raise Forbidden("只能完成自己的练习任务")
    if assignment.article_id is None:
        raise Invalid("演练任务在完成情景演练时自动完成")
    if assignment.done_at is None:
        assignment.done_at = utcnow()
        record(session, actor.id, AuditAction.COMPLETE, AuditEntity.ASSIGNMENT, assignment.id, detail="已阅读")
    return assignment


@dataclass(frozen=True)
class Effect:
    assignment: m.PracticeAssignment
    before: int  # findings of its rules in the four weeks before it was assigned
    after: int  # … since it was assigned
    weeks_after: float  # how long that is


def assignments(session: Session, user: User, agent_id: int | None = None) -> list[Effect]:
    """Assigned practice with its completion, and the findings of its rules before and after."""
    scope = access.scope_of(user, Record.TRAINING)
    if scope is None:
        raise Forbidden(f"{user.role.label}无权查看培训考核")
    query = select(m.PracticeAssignment).order_by(m.PracticeAssignment.assigned_at.desc()).limit(200)
    if agent_id is not None:
        query = query.where(m.PracticeAssignment.agent_id == agent_id)
    now = utcnow()
    out = []
    for a in session.scalars(query):
        if not access.within(user, scope, [a.agent]):
            continue
        before = findings_by_rule(session, a.agent_id, a.assigned_at - LOOKBACK, a.assigned_at)
        after = findings_by_rule(session, a.agent_id, a.assigned_at, now)
        weeks = max((now - a.assigned_at).total_seconds() / (7 * 86400), 1 / 7)
        out.append(Effect(a, sum(before[r] for r in a.rules), sum(after[r] for r in a.rules), round(weeks, 1)))
    return out


# ---------------------------------------------------------------- role play in pairs (两两配对)


def do_start_pair(session: Session, actor: User, scenario: str, partner_id: int) -> m.RolePlay:
    """Seed 004's 两两配对: the actor takes the agent's part, a colleague plays the customer (the
    scenario's 客户特征 on their screen); at the end the transcript is scored as any role play,
    and a trainer adds their own score."""
    if actor.role is not Role.AGENT:
        raise Forbidden("情景演练由话务员本人进行")
    chosen = _scenario(scenario)
    partner = get_or_404(session, User, partner_id, "用户")
    if partner.id == actor.id or partner.role is not Role.AGENT or not partner.active:
        raise Invalid("配对演练的搭档应为另一位在岗的话务员")
    play = m.RolePlay(
        agent_id=actor.id, partner_id=partner.id, scenario=chosen.code, started_at=utcnow(),
        state=roleplay.Play().as_dict(),
    )  # fmt: skip
    session.add(play)
    session.flush()
    record(
        session, actor.id, AuditAction.START, AuditEntity.ROLEPLAY, play.id,
        detail=f"配对演练 {chosen.title}:{actor.name} 扮演客服,{partner.name} 扮演客户",
    )  # fmt: skip
    return play


def _pair(session: Session, actor: User, play_id: int) -> m.RolePlay:
    play = get_or_404(session, m.RolePlay, play_id, "情景演练")
    if play.partner_id is None:
        raise Invalid("这不是配对演练")
    if actor.id not in (play.agent_id, play.partner_id):
        raise Forbidden("只有配对的两位话务员可以在这次演练中发言")
    if play.finished_at is not None:
        raise Conflict("这次演练已经结束")
    return play


def do_pair_say(session: Session, actor: User, play_id: int, text: str) -> m.RolePlay:
    """One line, said as the part the actor plays (客服 or 客户)."""
    play = _pair(session, actor, play_id)
    text = text.strip()
    if not text:
        raise Invalid("请输入要说的话")
    if len(text) > 1000:
        raise Invalid("一次最多说 1000 字")
    speaker = "agent" if actor.id == play.agent_id else "customer"
    state = roleplay.Play.of(play.state)
    state.turns.append({"speaker": speaker, "text": text})
    play.state = state.as_dict()
    record(session, actor.id, AuditAction.UPDATE, AuditEntity.ROLEPLAY, play.id, detail=f"第 {len(state.turns)} 句")
    return play


def do_finish_pair(session: Session, actor: User, play_id: int) -> m.RolePlay:
    play = _pair(session, actor, play_id)
    state = roleplay.Play.of(play.state)
    if not any(t["speaker"] == "agent" for t in state.turns):
        raise Invalid("扮演客服的一方还没有说话,无法评分")
    state.finished = True
    play.state, play.finished_at = state.as_dict(), utcnow()
    play.result = _score(session, scenario_of(play.scenario), state.turns, play.started_at, play.agent)
    record(
        session, actor.id, AuditAction.COMPLETE, AuditEntity.ROLEPLAY, play.id,
        detail=f"配对演练结束:质检 {play.result['score']} 分",
    )  # fmt: skip
    return play


def do_score_pair(session: Session, actor: User, play_id: int, score: float, comment: str | None) -> m.RolePlay:
    """The trainer's score of a finished pair role play (0–100), beside the inspection's."""
    if not may_manage(actor):
        raise Forbidden(f"{actor.role.label}无权为演练评分(培训师、主管可以)")
    play = get_or_404(session, m.RolePlay, play_id, "情景演练")
    if play.partner_id is None or play.finished_at is None:
        raise Conflict("只能为已结束的配对演练评分")
    if not 0 <= score <= 100:
        raise Invalid("评分应在 0–100 之间")
    old = play.trainer_score
    play.trainer_score, play.trainer_comment, play.scored_by = score, comment, actor.id
    record(
        session, actor.id, AuditAction.JUDGE, AuditEntity.ROLEPLAY, play.id,
        changes={"trainer_score": [old, score]}, detail=comment,
    )  # fmt: skip
    return play
