"""What a form, the API or an import may say about a call, checked before anything is saved."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from kefu.calls.models import Channel, Direction, HangupBy
from kefu.calls.reasons import UNANSWERED, UNANSWERED_LABEL, current_reasons
from kefu.core.clock import utc_for_storing
from kefu.core.fields import CentreTime, Id, Version, typed_time
from kefu.core.turns import stored_turn
from kefu.inspection.parsers import parse_text

NUMBER = re.compile(r"^\+?\d[\d-]{1,30}$")

# What one call's transcript may hold on the platform. The longest real calls (an hour of talk)
# have a few hundred turns and some 20,000 characters; ten times that is still one call, while
# more is a mistake (a whole file pasted, a runaway export) that would slow inspection, pages and
# exports for everyone. The offline ``kefu qa`` reads files of any size and has no such limit.
MAX_TURNS = 2_000
MAX_TRANSCRIPT_CHARS = 200_000
# The text sent (lines or JSON) is refused before parsing when it is far past that.
MAX_TRANSCRIPT_SOURCE = 4 * MAX_TRANSCRIPT_CHARS

_ALIASES: dict[str, dict[str, str]] = {
    "direction": {"呼入": "inbound", "来电": "inbound", "呼出": "outbound", "外呼": "outbound", "去电": "outbound"},
    "channel": {"语音": "voice", "电话": "voice", "热线": "voice", "在线": "chat", "文字": "chat", "在线客服": "chat"},
    "hangup_by": {
        "客服": "agent",
        "坐席": "agent",
        "座席": "agent",
        "话务员": "agent",
        "客户": "customer",
        "用户": "customer",
    },
}


def check_times(ring_at: datetime | None, answered_at: datetime | None, ended_at: datetime | None) -> None:
    """Ring, answer, end in this order (equal is fine); ``ValueError`` in Chinese otherwise."""
    if ring_at and answered_at and answered_at < ring_at:
        raise ValueError("接听时间不能早于振铃时间")
    if answered_at and ended_at and ended_at < answered_at:
        raise ValueError("结束时间不能早于接听时间")
    if ring_at and ended_at and ended_at < ring_at:
        raise ValueError("结束时间不能早于振铃时间")


# ---------------------------------------------------------------------------- transcripts


def parse_transcript(value: Any) -> list[dict[str, Any]] | None:
    """A SPEC §2 transcript — text lines 「客服: …」, JSON of a call or of its turns, or a list of
    turns — as the list of turns stored on the call. A problem says where it is."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    _check_size(value)
    if isinstance(value, list) and not _calls_list(value):
        value = {"turns": value}
    if isinstance(value, dict | list):
        try:
            text, fmt = json.dumps(value, ensure_ascii=False, default=str), "json"
        except (RecursionError, ValueError):
            raise ValueError("转写的 JSON 嵌套过深或无法读取") from None
    elif isinstance(value, str):
        text, fmt = value, None
        stripped = value.lstrip()
        if stripped.startswith("[{") or (stripped.startswith("[") and stripped.rstrip().endswith("]")):
            loaded = _json_list(stripped)
            if loaded is not None and not _calls_list(loaded):  # a bare list of turns
                text, fmt = json.dumps({"turns": loaded}, ensure_ascii=False), "json"
    else:
        raise ValueError("转写应为文本(「客服: …」行)或 JSON")
    items = parse_text(text, "<transcript>", fmt)
    if len(items) != 1:
        raise ValueError(f"转写应只包含一通电话,这里有 {len(items)} 通")
    item = items[0]
    if item.error is not None:
        where = item.error.position  # 「第 3 行」「第 2 句的 speaker」, or a key of the call: 「turns」
        if where and not where.startswith("第"):
            where = f"的 {where}"
        raise ValueError(f"转写{where + ':' if where else ''}{item.error.reason}")
    assert item.transcript is not None
    turns = item.transcript.turns
    if len(turns) > MAX_TURNS:
        raise ValueError(f"转写最多 {MAX_TURNS} 句(这里有 {len(turns)} 句),请只提交一通电话")
    chars = sum(len(turn.text) for turn in turns)
    if chars > MAX_TRANSCRIPT_CHARS:
        raise ValueError(f"转写最多 {MAX_TRANSCRIPT_CHARS} 字(这里有 {chars} 字),请只提交一通电话")
    return [turn.model_dump(mode="json", exclude_none=True) for turn in turns]


def _check_size(value: Any) -> None:
    """Far too big to be one call: refused before any parsing."""
    if isinstance(value, str) and len(value) > MAX_TRANSCRIPT_SOURCE:
        raise ValueError(f"转写过长({len(value)} 字),一通电话最多 {MAX_TRANSCRIPT_CHARS} 字")
    turns = value.get("turns") if isinstance(value, dict) else value
    if isinstance(turns, list) and len(turns) > MAX_TURNS:
        raise ValueError(f"转写最多 {MAX_TURNS} 句(这里有 {len(turns)} 句),请只提交一通电话")


def _calls_list(value: list[Any]) -> bool:
    """A list of calls (each with its turns) rather than the turns of one call."""
    return any(isinstance(item, dict) and "turns" in item for item in value)


def _json_list(text: str) -> list[Any] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, list) else None


# ---------------------------------------------------------------------------- calls


def _alias(field: str, value: object) -> object:
    if isinstance(value, str):
        key = value.strip()
        return _ALIASES[field].get(key, key.lower()) if key else None
    return value


class CallFields(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str | None = Field(default=None, max_length=64, description="通话编号")
    direction: Direction | None = None
    channel: Channel | None = None
    customer_id: Id | None = None
    agent_id: Id | None = None
    caller_number: str | None = Field(default=None, max_length=32)
    ring_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    hold_seconds: float | None = Field(default=None, ge=0, le=86_400, description="保持时长(秒),交换机提供时")
    wrap_seconds: float | None = Field(default=None, ge=0, le=86_400, description="话后处理时长(秒)")
    hangup_by: HangupBy | None = None
    reason: str | None = Field(default=None, description="来电原因: code or label")
    summary: str | None = Field(default=None, max_length=2000)
    transcript: list[dict[str, Any]] | None = None

    @field_validator("direction", "channel", "hangup_by", mode="before")
    @classmethod
    def _labels(cls, value: object, info: ValidationInfo) -> object:
        return _alias(info.field_name, value)

    @field_validator("ring_at", "answered_at", "ended_at", mode="before")
    @classmethod
    def _time_formats(cls, value: object) -> object:
        return typed_time(value)

    @field_validator("ring_at", "answered_at", "ended_at")
    @classmethod
    def _utc_in_order(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        """Ring, answer, end in this order; checked on the later field so the error points at it."""
        if value is None:
            return None
        value = utc_for_storing(value)
        earlier = {"answered_at": ("ring_at",), "ended_at": ("ring_at", "answered_at")}.get(info.field_name, ())
        times = {name: info.data.get(name) for name in earlier}
        times[info.field_name] = value
        check_times(times.get("ring_at"), times.get("answered_at"), times.get("ended_at"))
        return value

    @field_validator("caller_number")
    @classmethod
    def _number(cls, value: str | None) -> str | None:
        if not value:
            return None
        number = value.replace(" ", "")
        if not NUMBER.match(number):
            raise ValueError("号码只能包含数字、开头的 + 和 -")
        return number

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value:
            raise ValueError("每个来电都要选择来电原因")
        if value in (UNANSWERED, UNANSWERED_LABEL):  # as stored, or as exported
            if info.data.get("answered_at") is not None:
                raise ValueError("已接听的来电要选择来电原因")
            return UNANSWERED
        return current_reasons().resolve(value).code

    @field_validator("transcript", mode="before")
    @classmethod
    def _transcript(cls, value: object) -> object:
        return parse_transcript(value)

    @field_validator("external_id", "summary")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


class CallCreate(CallFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "direction": "inbound",
                    "ring_at": "2026-11-20T10:00:00+08:00",
                    "reason": "query",
                    "summary": "客户查询本月话费",
                    "transcript": [
                        {"speaker": "agent", "text": "您好,请问有什么可以帮您?", "start": 0, "end": 2.5},
                        {"speaker": "customer", "text": "我想查一下这个月的话费。", "start": 3, "end": 5.2},
                    ],
                }
            ]
        }
    )

    direction: Direction
    channel: Channel = Channel.VOICE
    ring_at: datetime
    # Always a code after validation; the default only lets a missing reason get the same message.
    reason: str | None = Field(default=None, validate_default=True, description="来电原因 (seed 002: every call)")

    @model_validator(mode="before")
    @classmethod
    def _unanswered(cls, data: Any) -> Any:
        """A call nobody answered has no reason to click (SPEC §7: abandoned calls count too)."""
        if isinstance(data, dict) and not data.get("answered_at") and not str(data.get("reason") or "").strip():
            return {**data, "reason": UNANSWERED}
        return data

    @field_validator("reason", mode="before")
    @classmethod
    def _reason_required(cls, value: object) -> object:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("每个来电都要选择来电原因(来电原因不能为空)")
        return value


class CallUpdate(CallFields):
    """Only the fields given are changed; ``None`` clears an optional field."""

    version: Version

    @model_validator(mode="after")
    def _not_clearable(self) -> CallUpdate:
        for field, label in (("direction", "呼叫方向"), ("channel", "渠道"), ("ring_at", "振铃时间")):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{label}不能为空")
        if "reason" in self.model_fields_set and self.reason is None:
            raise ValueError("每个来电都要选择来电原因(来电原因不能为空)")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude={"version"})


class CallFilter(BaseModel):
    """List filters; every one optional. Times without a zone are on the centre's clock."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    start: datetime | None = Field(default=None, description="rang at or after")
    end: datetime | None = Field(default=None, description="rang before")
    agent_id: Id | None = None
    customer_id: Id | None = None
    reason: str | None = None
    direction: Direction | None = None
    channel: Channel | None = None
    night_service: bool | None = None
    answered: bool | None = None

    @field_validator("direction", "channel", mode="before")
    @classmethod
    def _labels(cls, value: object, info: ValidationInfo) -> object:
        return _alias(info.field_name, value)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _time_formats(cls, value: object) -> object:
        return typed_time(value)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else utc_for_storing(value)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str | None) -> str | None:
        if not value:
            return None
        reasons = current_reasons()
        known = next((r.code for r in reasons if value in (r.code, r.label)), None)
        if known is None:  # filtering by a reason that was since deactivated is still fine
            reasons.resolve(value)
        return known

    @model_validator(mode="after")
    def _range(self) -> CallFilter:
        if self.start and self.end and self.end < self.start:
            raise ValueError("结束时间不能早于开始时间")
        return self


class TurnOut(BaseModel):
    speaker: str
    text: str
    start: float | None = None
    end: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _stored(cls, data: Any) -> Any:
        return stored_turn(data)


class CallOut(BaseModel):
    """What a page or the API shows; times on the centre's clock, labels in Chinese."""

    id: int
    version: int
    external_id: str | None
    direction: Direction
    direction_label: str
    channel: Channel
    channel_label: str
    customer_id: int | None
    agent_id: int | None
    agent_no: str | None
    agent_name: str | None
    caller_number: str | None
    ring_at: CentreTime
    answered_at: CentreTime | None
    ended_at: CentreTime | None
    hangup_by: HangupBy | None
    hangup_by_label: str | None
    reason: str
    reason_label: str
    summary: str | None
    transcript: list[TurnOut] | None
    night_service: bool
    ring_seconds: float | None
    talk_seconds: float | None
    hold_seconds: float | None = None
    wrap_seconds: float | None = None
    qa_score: float | None
    qa_passed: bool | None


class ReasonOut(BaseModel):
    """A 来电原因 an agent can choose."""

    code: str
    label: str
    group: str | None


class WorkOrderDraft(BaseModel):
    """What a work order created from a call starts with; personal data as the reader may see it."""

    call_id: int
    customer_id: int | None
    contact_name: str | None
    contact: str | None = Field(description="the number to call back, if the reader may see it whole")
    contact_hint: str | None = Field(description="the number as the reader may see it (possibly masked)")
    description: str
    reason: str
    reason_label: str
    type_hint: str | None = Field(description="the work-order type the reason suggests")
    note: str
