"""Chinese text normalisation shared by phrase matching and search.

Two forms of a text are used:

* ``simplify``: traditional → simplified (OpenCC ``t2s``). Same length in practice, so
  spans found in it can quote the original text.
* ``normalize``: the simplified text with punctuation, white space and filler characters
  removed, 你 folded into 您 and ASCII lower-cased. Phrases and texts are both reduced to
  this form, so 「你问我,我问谁啊?」 and 「您问我我问谁」 match each other.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import opencc

FILLERS = "嗯啊呃额哦噢哈呀哎唉"
CLAUSE_MARKS = frozenset(",.!?;:\n\u2026\u3001\u3002\uff0c\uff01\uff1f\uff1b\uff1a")
# Kept by ``strip`` so that many turns can be normalised in one call and split again.
SEPARATOR = "\x1e"
_FOLD = {"你": "您"}


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplify(text: str) -> str:
    return _converter().convert(text) if text else text


def _is_dropped(char: str) -> bool:
    if char in FILLERS or char.isspace():
        return True
    return unicodedata.category(char)[0] in "PSZC"


class _StripTable(dict[int, str | None]):
    """``str.translate`` table filled lazily: only characters actually seen are classified."""

    def __missing__(self, code: int) -> str | None:
        char = chr(code)
        value: str | None
        if _is_dropped(char):
            value = None
        elif "A" <= char <= "Z":
            value = char.lower()
        elif code == 0x3000 or 0xFF01 <= code <= 0xFF5E:
            wide = unicodedata.normalize("NFKC", char).lower()
            value = None if any(_is_dropped(c) for c in wide) else wide
        else:
            value = char
        self[code] = value
        return value


_TABLE = _StripTable({ord(k): v for k, v in _FOLD.items()} | {ord(SEPARATOR): SEPARATOR})


def strip(simplified: str) -> str:
    """Reduce already simplified text to its matching form."""
    return simplified.translate(_TABLE)


def normalize(text: str) -> str:
    return strip(simplify(text))


def strip_with_offsets(simplified: str) -> tuple[str, list[int]]:
    """``strip`` plus, for each kept character, its index in ``simplified``.

    Only used on the slow path (a turn that has a finding), to quote evidence.
    """
    out: list[str] = []
    offsets: list[int] = []
    for index, char in enumerate(simplified):
        mapped = _TABLE[ord(char)]
        if mapped:
            out.append(mapped)
            offsets.extend([index] * len(mapped))
    return "".join(out), offsets
