"""Adherence → attendance: the minutes each agent was scheduled (the published roster) and was
working (logins and calls) on the days of a week that are over, written as the attendance
figure of the performance evaluation — each day through performance's own ``do_record_attendance``
(its scope check and audit entry), so a day entered again is corrected, not doubled."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from kefu.accounts.models import User
from kefu.performance import service as performance
from kefu.performance.schemas import AttendanceIn
from kefu.workforce import service as workforce
from kefu.workforce.schemas import AttendanceFed


def do_feed_attendance(session: Session, actor: User, week_start: date) -> AttendanceFed:
    """The week's adherence of the agents ``actor`` may record attendance for (team lead: the
    team; supervisor: all); days without a shift are left alone."""
    rows = workforce.adherence(session, actor, week_start)
    days, agents, through = 0, 0, None
    for row in rows:
        agent = session.get(User, row.agent_id)
        if agent is None or not performance.may_write(actor, agent):
            continue
        worked = [d for d in row.days if d.scheduled_minutes]
        for day in worked:
            performance.do_record_attendance(
                session, actor,
                AttendanceIn(agent_id=row.agent_id, day=day.day, scheduled_minutes=day.scheduled_minutes,
                             present_minutes=day.present_minutes),
            )  # fmt: skip
            through = max(through or day.day, day.day)
        days += len(worked)
        agents += bool(worked)
    return AttendanceFed(days=days, agents=agents, through=through)
