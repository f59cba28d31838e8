"""Call records (SPEC §5): who called whom, when, why, what was said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kefu.accounts.models import User
from kefu.core.clock import centre_tz
from kefu.core.db import Base, Timestamped, Versioned
from kefu.customers.models import Customer

# A time given without a zone (a form, a spreadsheet cell) is on the centre's clock
# (``kefu.core.clock.centre_tz``, KEFU_TIMEZONE); the database holds UTC.


class CallDirection(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"

    @property
    def label(self) -> str:
        return {"inbound": "呼入", "outbound": "呼出"}[self.value]


class CallChannel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"

    @property
    def label(self) -> str:
        return {"voice": "语音", "chat": "在线"}[self.value]


class HangupBy(StrEnum):
    AGENT = "agent"
    CUSTOMER = "customer"

    @property
    def label(self) -> str:
        return {"agent": "客服", "customer": "客户"}[self.value]


@dataclass(frozen=True)
class NightWindow:
    """Night service hours on the centre's clock; ``start`` included, ``end`` excluded."""

    start: time = time(23, 30)
    end: time = time(7, 30)

    def contains(self, moment: datetime) -> bool:
        clock = local_time(moment).time()
        if self.start <= self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end


# Seed 002 6.1(2): 夜间服务时间:23:30-次日7:30.
NIGHT_SERVICE = NightWindow()


def as_utc(moment: datetime) -> datetime:
    """For storing: a zone-less time is on the centre's clock."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=centre_tz())
    return moment.astimezone(UTC)


def stored(moment: datetime) -> datetime:
    """As read back: SQLite drops the zone of the UTC value we stored."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def local_time(moment: datetime) -> datetime:
    """On the centre's clock (a zone-less time is taken as already on it)."""
    return moment if moment.tzinfo is None else moment.astimezone(centre_tz())


def is_night_service(moment: datetime, window: NightWindow | None = None) -> bool:
    return (window or NIGHT_SERVICE).contains(moment)


def _enum(cls: type[StrEnum], length: int = 16) -> Enum:
    return Enum(cls, native_enum=False, length=length, values_callable=lambda members: [m.value for m in members])


class CallRecord(Versioned, Timestamped, Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # 通话编号 from the switch / chat system
    direction: Mapped[CallDirection] = mapped_column(_enum(CallDirection), index=True)
    channel: Mapped[CallChannel] = mapped_column(_enum(CallChannel), default=CallChannel.VOICE)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # The customer's number: the caller's on an inbound call, the one dialled on an outbound call.
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    ring_at: Mapped[datetime] = mapped_column(index=True)  # the call came in / was dialled / chat opened
    answered_at: Mapped[datetime | None]  # None: never answered (abandoned)
    ended_at: Mapped[datetime | None]
    hangup_by: Mapped[HangupBy | None] = mapped_column(_enum(HangupBy))
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

    @property
    def ring_seconds(self) -> float | None:
        """Ring → answer: how long the customer waited."""
        if self.answered_at is None:
            return None
        return (stored(self.answered_at) - stored(self.ring_at)).total_seconds()

    @property
    def talk_seconds(self) -> float | None:
        """Answer → end: the handling time of the call."""
        if self.answered_at is None or self.ended_at is None:
            return None
        return (stored(self.ended_at) - stored(self.answered_at)).total_seconds()

    @property
    def callback_number(self) -> str | None:
        """The number to call the customer back on: the call's own, else the customer's."""
        return self.caller_number or (self.customer.phone if self.customer else None)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    def __repr__(self) -> str:
        return f"<CallRecord {self.id} {self.direction} {self.reason} {self.ring_at:%Y-%m-%d %H:%M}>"
