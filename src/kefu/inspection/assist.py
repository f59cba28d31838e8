"""Check one sentence while it is typed or said: forbidden phrases and negative wording
with the recommended wording (SPEC §10, ``kefu check``)."""

from __future__ import annotations

from dataclasses import dataclass

from kefu.inspection.engine import phrase_sets
from kefu.inspection.transcript import Speaker, Transcript, Turn
from kefu.inspection.view import CallView
from kefu.rulebook.schema import Rulebook
from kefu.text.normalize import strip_with_offsets
from kefu.text.phrases import PhraseIndex

CHECKED_SETS = ("forbidden", "negative", "abuse")


@dataclass(frozen=True)
class SentenceHit:
    set: str
    label: str
    evidence: str
    start: int
    end: int
    suggestion: str | None
    source: str | None
    quote: str | None


class SentenceChecker:
    """Built once per rulebook, then cheap per sentence (it runs on every keystroke)."""

    def __init__(self, rulebook: Rulebook):
        self.rulebook = rulebook
        sets = phrase_sets(rulebook)
        self.index = PhraseIndex({name: sets[name] for name in CHECKED_SETS if name in sets})

    def check(self, text: str) -> list[SentenceHit]:
        transcript = Transcript(turns=[Turn(speaker=Speaker.AGENT, text=text)])
        view = CallView(transcript, self.index, {})
        _, offsets = strip_with_offsets(view.simple[0])
        hits = []
        for name in CHECKED_SETS:
            for hit in view.hits_in(name, 0):
                entry = self.index.sets[name][hit.entry]
                start, end = offsets[hit.start], offsets[hit.end - 1] + 1
                hits.append(
                    SentenceHit(
                        set=name,
                        label=self.rulebook.phrase_sets[name].label or name,
                        evidence=text[start:end],
                        start=start,
                        end=end,
                        suggestion=entry.suggestion,
                        source=entry.source,
                        quote=entry.quote,
                    )
                )
        return sorted(hits, key=lambda h: h.start)
