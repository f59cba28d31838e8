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


_BITS: dict[int, list[int]] = {}


def bits(mask: int) -> list[int]:
    """The turn indices in a mask, ascending. The same few masks recur in every rule."""
    found = _BITS.get(mask)
    if found is None:
        if len(_BITS) > 65_536:
            _BITS.clear()
        found, rest = [], mask
        while rest:
            low = rest & -rest
            found.append(low.bit_length() - 1)
            rest ^= low
        _BITS[mask] = found
    return found


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
    _raw_hits: dict[str, list[tuple[int, int, int]]] = field(init=False, repr=False)
    set_masks: dict[str, int] = field(init=False)
    variables: dict[str, Any] = field(init=False)
    memo: dict[int, int] = field(init=False, default_factory=dict)
    needle_masks: dict[tuple[str, ...], int] = field(init=False, default_factory=dict)
    resolved: dict[int, list[str]] = field(init=False, default_factory=dict)  # filled-in phrases
    _norm_joined: str = field(init=False, repr=False)
    _starts: list[float] | None = field(init=False, repr=False)
    _ends: list[float] | None = field(init=False, repr=False)

    def __post_init__(self) -> None:
        turns = self.transcript.turns
        self.n = len(turns)
        self.full = (1 << self.n) - 1
        agent, texts, starts, ends = 0, [], [], []
        for i, turn in enumerate(turns):
            if turn.speaker is Speaker.AGENT:
                agent |= 1 << i
            texts.append(turn.text)
            starts.append(turn.start)
            ends.append(turn.end)
        self.agent, self.customer = agent, self.full & ~agent
        timed = None not in starts and None not in ends
        self._starts, self._ends = (starts, ends) if timed else (None, None)
        joined = SEPARATOR.join(texts)
        if joined.count(SEPARATOR) != self.n - 1:  # a turn holding the separator itself
            texts = [text.replace(SEPARATOR, " ") for text in texts]
            joined = SEPARATOR.join(texts)
        joined = simplify(joined)
        simple = joined.split(SEPARATOR)
        if len(simple) != self.n:
            simple = [simplify(t) for t in texts]
            joined = SEPARATOR.join(simple)
        self.simple = simple
        self._norm_joined = strip(joined)
        self.norm = self._norm_joined.split(SEPARATOR)
        self._scan()
        self.variables = dict(self.constants)

    def _scan(self) -> None:
        """One pass of the automaton over the whole call: which turns each phrase set hits.
        Where exactly (``hits_in``) is only worked out for the few turns that get a finding."""
        joined, offsets = self._joined_norm

        def crosses(start: int, end: int) -> bool:
            turn = bisect_right(offsets, start) - 1
            base = offsets[turn]
            _, where = strip_with_offsets(self.simple[turn])
            original = self.simple[turn][where[start - base] : where[end - 1 - base] + 1]
            return any(mark in CLAUSE_MARKS for mark in original)

        self._raw_hits = self.index.scan(joined, crosses)
        self.set_masks = {}
        for name, found in self._raw_hits.items():
            mask = 0
            for _, start, _ in found:
                mask |= 1 << (bisect_right(offsets, start) - 1)
            self.set_masks[name] = mask

    def hits_in(self, name: str, turn: int) -> list[Hit]:
        """Hits of a phrase set in one turn, in that turn's normalised text."""
        if not self.set_masks.get(name, 0) >> turn & 1:
            return []
        _, offsets = self._joined_norm
        base, end = offsets[turn], offsets[turn] + len(self.norm[turn])
        return [Hit(entry, s - base, e - base) for entry, s, e in self._raw_hits[name] if base <= s < end]

    @cached_property
    def lengths(self) -> list[int]:
        return [len(text) for text in self.norm]

    @cached_property
    def _joined_norm(self) -> tuple[str, list[int]]:
        offsets, position = [], 0
        for text in self.norm:
            offsets.append(position)
            position += len(text) + 1
        return self._norm_joined, offsets

    def needle_mask(self, needles: tuple[str, ...]) -> int:
        """Turns containing any of these normalised strings (placeholders filled in)."""
        if needles not in self.needle_masks:
            joined, offsets = self._joined_norm
            mask = 0
            for needle in needles:
                at = joined.find(needle)
                while at >= 0:
                    mask |= 1 << (bisect_right(offsets, at) - 1)
                    at = joined.find(needle, at + 1)
            self.needle_masks[needles] = mask
        return self.needle_masks[needles]

    def speaker_mask(self, speaker: Speaker) -> int:
        return self.agent if speaker is Speaker.AGENT else self.customer

    # ------------------------------------------------------------ timing

    def times(self) -> tuple[list[float], list[float]]:
        if self._starts is None:
            raise MissingInput("逐句时间戳")
        return self._starts, self._ends  # type: ignore[return-value]

    @cached_property
    def gaps(self) -> list[float]:
        """Silence before each turn: from the end of all earlier speech (or the answer)."""
        starts, ends = self.times()
        out, latest = [], 0.0
        for start, end in zip(starts, ends, strict=True):
            out.append(start - latest if start > latest else 0.0)
            if end > latest:
                latest = end
        return out

    @cached_property
    def overlaps(self) -> list[float]:
        """How long each turn runs over speech of the other party that started earlier."""
        starts, ends = self.times()
        agent_mask = self.agent
        agent_end = customer_end = -1.0
        out = []
        for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
            if agent_mask >> i & 1:
                other_end = customer_end
                agent_end = max(agent_end, end)
            else:
                other_end = agent_end
                customer_end = max(customer_end, end)
            overlap = min(other_end, end) - start
            out.append(overlap if overlap > 0 else 0.0)
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
