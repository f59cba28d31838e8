"""One call or chat as the inspection engine sees it (SPEC §2 "Transcript input").

The words it is made of (speakers, channels, directions) are the rulebook's (kefu.rulebook.vocabulary)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kefu.rulebook.vocabulary import SPEAKER_ALIASES, Channel, Direction, HangupBy, Speaker, parse_speaker


class Turn(BaseModel):
    """One utterance. ``start``/``end`` are seconds from ``answered_at``."""

    model_config = ConfigDict(extra="forbid")

    speaker: Speaker
    text: str = ""
    # Finite: 1e400 parses as infinity, and an infinite time breaks every report made of it.
    start: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    end: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("speaker", mode="before")
    @classmethod
    def _speaker_alias(cls, value: object) -> object:
        return parse_speaker(value) if isinstance(value, str) else value

    @field_validator("text", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        return "" if value is None else value

    @field_validator("text")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        if "\x00" in value:  # never text: a binary file, or UTF-16 read as UTF-8 (and PostgreSQL refuses it)
            raise ValueError("内容含有空字符(NUL)")
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> Turn:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"结束时间 {self.end} 秒早于开始时间 {self.start} 秒")
        return self


class Transcript(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ""
    channel: Channel | None = None
    direction: Direction | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    company: str | None = None
    ring_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hangup_by: HangupBy | None = None
    turns: list[Turn] = Field(min_length=1)

    @field_validator("hangup_by", mode="before")
    @classmethod
    def _hangup_alias(cls, value: object) -> object:
        return parse_speaker(value).value if isinstance(value, str) else value

    @field_validator("id", "agent_id", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @property
    def has_timestamps(self) -> bool:
        return all(t.start is not None and t.end is not None for t in self.turns)

    @property
    def call_time(self) -> datetime | None:
        """The moment the greeting should fit: when the call was answered (or rang)."""
        return self.answered_at or self.ring_at


__all__ = ["SPEAKER_ALIASES", "Channel", "Direction", "HangupBy", "Speaker", "Transcript", "Turn", "parse_speaker"]
