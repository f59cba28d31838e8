"""The words of a call that rules, transcripts and call records share: who speaks, over which
channel, in which direction, who hung up."""

from __future__ import annotations

from kefu.core.choices import ChoiceSet


class Speaker(ChoiceSet, title="说话人"):
    AGENT = "agent", "客服"
    CUSTOMER = "customer", "客户"


# Every spelling a centre's exports use for the two parties, simplified and traditional.
SPEAKER_ALIASES: dict[str, Speaker] = {
    **dict.fromkeys(
        ["agent", "客服", "坐席", "座席", "话务员", "話務員", "客服代表", "客户代表", "客戶代表"],
        Speaker.AGENT,
    ),
    **dict.fromkeys(["customer", "客户", "客戶", "用户", "用戶", "顾客", "顧客"], Speaker.CUSTOMER),
}


SPEAKERS_EXPECTED = "应为 客服/坐席/话务员/agent 或 客户/用户/customer"


def parse_speaker(value: str) -> Speaker:
    key = value.strip().lower()
    try:
        return SPEAKER_ALIASES[key]
    except KeyError:
        raise ValueError(f"未知的说话人 {value!r},{SPEAKERS_EXPECTED}") from None


class Channel(ChoiceSet, title="渠道"):
    VOICE = "voice", "语音"
    CHAT = "chat", "在线"


class Direction(ChoiceSet, title="呼叫方向"):
    INBOUND = "inbound", "呼入"
    OUTBOUND = "outbound", "呼出"


class HangupBy(ChoiceSet, title="挂机方"):
    AGENT = "agent", "客服"
    CUSTOMER = "customer", "客户"
