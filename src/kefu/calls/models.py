"""Call records (SPEC §5): who called whom, when, why, what was said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.core.choices import enum_column
from kefu.core.clock import centre_tz
from kefu.core.db import Base, Timestamped, Versioned
from kefu.customers.models import Customer
from kefu.inspection.transcript import Channel, Direction, HangupBy, Transcript

# A time given without a zone (a form, a spreadsheet cell) is on the centre's clock
# (``kefu.core.clock.centre_tz``, KEFU_TIMEZONE); the database holds UTC.


@dataclass(frozen=True)
class NightWindow:
    """Night service hours on the centre's clock; ``start`` included, ``end`` excluded."""

    start: time = time(23, 30)
    end: time = time(7, 30)

    def contains(self, moment: datetime) -> bool:
        clock = (moment if moment.tzinfo is None else moment.astimezone(centre_tz())).time()
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end


# Seed 002 6.1(2): 夜间服务时间:23:30-次日7:30.
NIGHT_SERVICE = NightWindow()


def is_night_service(moment: datetime, window: NightWindow | None = None) -> bool:
    return (window or NIGHT_SERVICE).contains(moment)


class CallRecord(Versioned, Timestamped, Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # 通话编号 from the switch / chat system
    direction: Mapped[Direction] = mapped_column(enum_column(Direction), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), default=Channel.VOICE)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The customer's number: the caller's on an inbound call, the one dialled on an outbound call.
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    ring_at: Mapped[datetime] = mapped_column(index=True)  # the call came in / was dialled / chat opened
    answered_at: Mapped[datetime | None]  # None: never answered (abandoned)
    ended_at: Mapped[datetime | None]
    hold_seconds: Mapped[float | None]  # from the switch, when it reports them
    wrap_seconds: Mapped[float | None]  # after-call work (话后处理)
    hangup_by: Mapped[HangupBy | None] = mapped_column(enum_column(HangupBy))
    reason: Mapped[str] = mapped_column(String(32), index=True)  # 来电原因 code, see kefu.calls.reasons
    summary: Mapped[str | None] = mapped_column(Text)
    transcript: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # SPEC §2 turns
    night_service: Mapped[bool] = mapped_column(default=False, index=True)  # derived from ring_at
    # Copied from the current inspection (kefu.quality) for lists and exports.
    qa_score: Mapped[float | None]  # the final QA score (after review and appeals)
    qa_passed: Mapped[bool | None]
    inspected_at: Mapped[datetime | None]

    customer: Mapped[Customer | None] = relationship(lazy="joined")
    agent: Mapped[User | None] = relationship(lazy="joined")

    def to_transcript(self) -> Transcript | None:
        """The call as the inspection engine reads it (SPEC §2), or None without a transcript."""
        if not self.transcript:
            return None
        return Transcript.model_validate(
            {
                "id": self.external_id or str(self.id),
                "channel": self.channel.value,
                "direction": self.direction.value,
                "agent_id": self.agent.agent_no if self.agent else None,
                "agent_name": self.agent.name if self.agent else None,
                "ring_at": self.ring_at,
                "answered_at": self.answered_at,
                "ended_at": self.ended_at,
                "hangup_by": self.hangup_by.value if self.hangup_by else None,
                "turns": self.transcript,
            }
        )

    @property
    def ring_seconds(self) -> float | None:
        """Ring → answer: how long the customer waited."""
        if self.answered_at is None:
            return None
        return (self.answered_at - self.ring_at).total_seconds()

    @property
    def talk_seconds(self) -> float | None:
        """Answer → end: the handling time of the call."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()

    @property
    def callback_number(self) -> str | None:
        """The number to call the customer back on: the call's own, else the customer's."""
        return self.caller_number or (self.customer.phone if self.customer else None)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def __repr__(self) -> str:
        return f"<CallRecord {self.id} {self.direction} {self.reason} {self.ring_at:%Y-%m-%d %H:%M}>"
