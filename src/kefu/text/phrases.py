"""Many named phrase sets matched in one pass with an Aho-Corasick automaton.

Each entry may list polite forms (``except``) that contain it and are fine to say:
「请问您有什么事」 contains 「有什么事」, yet only the bare question is forbidden. A hit whose
span lies inside a hit of one of its entry's exceptions is dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick

from kefu.text.normalize import normalize


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str
    suggestion: str | None = None
    source: str | None = None
    quote: str | None = None
    exceptions: tuple[str, ...] = ()


class Hit(NamedTuple):
    entry: int
    start: int
    end: int  # exclusive, in the normalised text


@dataclass
class PhraseIndex:
    sets: dict[str, list[Phrase]]
    _automaton: ahocorasick.Automaton = field(init=False, repr=False)
    _empty: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keyed: dict[str, list[tuple[str, int, bool]]] = defaultdict(list)
        for name, entries in self.sets.items():
            for index, entry in enumerate(entries):
                key = normalize(entry.text)
                if not key:
                    raise ValueError(f"phrase set {name!r}: {entry.text!r} is empty once normalised")
                keyed[key].append((name, index, False))
                for polite in entry.exceptions:
                    keyed[normalize(polite)].append((name, index, True))
        automaton = ahocorasick.Automaton()
        for key, payload in keyed.items():
            hits = tuple((name, index) for name, index, polite in payload if not polite)
            polite_forms = tuple((name, index) for name, index, polite in payload if polite)
            automaton.add_word(key, (len(key), hits, polite_forms))
        self._empty = not keyed
        if keyed:
            automaton.make_automaton()
        self._automaton = automaton

    def scan(
        self, norm: str, crosses: Callable[[int, int], bool] | None = None
    ) -> dict[str, list[tuple[int, int, int]]]:
        """All hits in a normalised text as (entry, start, end), grouped by set name.

        ``crosses(start, end)`` tells whether a span ran over a clause boundary in the
        original text: a polite form only excuses a hit within one clause, so that
        「不知道,你问我我问谁」 is not taken for 「不知道您…」.
        """
        if self._empty or not norm:
            return {}
        grouped: dict[str, list[tuple[int, int, int]]] = {}
        excepted: dict[tuple[str, int], list[tuple[int, int]]] = {}
        for last, (length, hits, polite_forms) in self._automaton.iter(norm):
            start, end = last + 1 - length, last + 1
            for name, index in hits:
                if name in grouped:
                    grouped[name].append((index, start, end))
                else:
                    grouped[name] = [(index, start, end)]
            for key in polite_forms:
                excepted.setdefault(key, []).append((start, end))
        if excepted:
            for name, hits in grouped.items():
                grouped[name] = [
                    hit
                    for hit in hits
                    if not any(
                        s <= hit[1] and hit[2] <= e and not (crosses and crosses(s, e))
                        for s, e in excepted.get((name, hit[0]), ())
                    )
                ]
        return grouped
