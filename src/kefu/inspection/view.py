"""Everything the rules ask of one call, computed once.

Sets of turns are Python ints used as bit masks (bit i = turn i), so combining conditions
costs a few integer operations instead of a loop over turns.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kefu.inspection.transcript import Channel, Speaker, Transcript
from kefu.text.normalize import CLAUSE_MARKS, SEPARATOR, simplify, strip, strip_with_offsets
from kefu.text.phrases import Hit, PhraseIndex


class MissingInput(Exception):
    """A rule needs something this call does not have: it is not applicable, not guessed."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(what)


def bits(mask: int) -> list[int]:
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


@dataclass
class CallView:
    transcript: Transcript
    index: PhraseIndex
    constants: dict[str, str | None]
    n: int = field(init=False)
    full: int = field(init=False)
    agent: int = field(init=False)
    customer: int = field(init=False)
    simple: list[str] = field(init=False)
    norm: list[str] = field(init=False)
    hits: dict[str, dict[int, list[Hit]]] = field(init=False)
    set_masks: dict[str, int] = field(init=False)
    variables: dict[str, Any] = field(init=False)
    memo: dict[int, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        turns = self.transcript.turns
        self.n = len(turns)
        self.full = (1 << self.n) - 1
        self.agent = sum(1 << i for i, t in enumerate(turns) if t.speaker is Speaker.AGENT)
        self.customer = self.full & ~self.agent
        texts = [t.text.replace(SEPARATOR, " ") for t in turns]
        joined = simplify(SEPARATOR.join(texts))
        simple = joined.split(SEPARATOR)
        if len(simple) != self.n:
            simple = [simplify(t) for t in texts]
            joined = SEPARATOR.join(simple)
        self.simple = simple
        self.norm = strip(joined).split(SEPARATOR)
        self._scan()
        self.variables = dict(self.constants)

    def _scan(self) -> None:
        offsets, position = [], 0
        for text in self.norm:
            offsets.append(position)
            position += len(text) + 1

        def crosses(start: int, end: int) -> bool:
            turn = bisect_right(offsets, start) - 1
            base = offsets[turn]
            _, where = strip_with_offsets(self.simple[turn])
            original = self.simple[turn][where[start - base] : where[end - 1 - base] + 1]
            return any(mark in CLAUSE_MARKS for mark in original)

        grouped = self.index.scan(SEPARATOR.join(self.norm), crosses)
        self.hits, self.set_masks = {}, {}
        for name, found in grouped.items():
            per_turn: dict[int, list[Hit]] = {}
            mask = 0
            for entry, start, end in found:
                turn = bisect_right(offsets, start) - 1
                base = offsets[turn]
                per_turn.setdefault(turn, []).append(Hit(entry, start - base, end - base))
                mask |= 1 << turn
            self.hits[name] = per_turn
            self.set_masks[name] = mask

    def speaker_mask(self, speaker: Speaker) -> int:
        return self.agent if speaker is Speaker.AGENT else self.customer

    # ------------------------------------------------------------ timing

    @cached_property
    def _times(self) -> tuple[list[float], list[float]] | None:
        turns = self.transcript.turns
        if not self.transcript.has_timestamps:
            return None
        return [t.start for t in turns], [t.end for t in turns]  # type: ignore[misc]

    def times(self) -> tuple[list[float], list[float]]:
        if self._times is None:
            raise MissingInput("逐句时间戳")
        return self._times

    @cached_property
    def gaps(self) -> list[float]:
        """Silence before each turn: from the end of all earlier speech (or the answer)."""
        starts, ends = self.times()
        out, latest = [], 0.0
        for start, end in zip(starts, ends, strict=True):
            out.append(max(0.0, start - latest))
            latest = max(latest, end)
        return out

    @cached_property
    def overlaps(self) -> list[float]:
        """How long each turn runs over speech of the other party that started earlier."""
        starts, ends = self.times()
        latest_end = {Speaker.AGENT: -1.0, Speaker.CUSTOMER: -1.0}
        out = []
        for turn, start, end in zip(self.transcript.turns, starts, ends, strict=True):
            other = Speaker.CUSTOMER if turn.speaker is Speaker.AGENT else Speaker.AGENT
            out.append(max(0.0, min(latest_end[other], end) - start))
            latest_end[turn.speaker] = max(latest_end[turn.speaker], end)
        return out

    # ------------------------------------------------------------ call metrics

    def metric(self, name: str) -> float:
        t = self.transcript
        if name == "answer_delay":
            if t.ring_at is None or t.answered_at is None:
                raise MissingInput("振铃时间和接听时间")
            return (t.answered_at - t.ring_at).total_seconds()
        if name == "duration":
            if t.answered_at is not None and t.ended_at is not None:
                return (t.ended_at - t.answered_at).total_seconds()
            _, ends = self.times()
            return max(ends)
        if name == "speech_rate":
            if t.channel is Channel.CHAT:
                raise MissingInput("语音通话(文字会话没有语速)")
            starts, ends = self.times()
            seconds = sum(ends[i] - starts[i] for i in bits(self.agent))
            if seconds < 10:
                raise MissingInput("至少 10 秒的客服语音")
            chars = sum(len(self.norm[i]) for i in bits(self.agent))
            return chars / seconds * 60
        if name == "agent_talk_share":
            starts, ends = self.times()
            total = sum(e - s for s, e in zip(starts, ends, strict=True))
            if total <= 0:
                raise MissingInput("通话语音时长")
            return sum(ends[i] - starts[i] for i in bits(self.agent)) / total
        raise ValueError(f"unknown metric {name}")

    def field_value(self, name: str) -> str | None:
        if name == "direction":
            value = self.transcript.direction
            return value.value if value is not None else "inbound"  # a hotline call comes in
        if name == "company":
            return self.variables.get("company")
        value = getattr(self.transcript, name)
        return getattr(value, "value", value)
