"""Chinese text normalisation shared by phrase matching and search.

Two forms of a text are used:

* ``simplify``: traditional → simplified (OpenCC ``t2s``). Same length in practice, so
  spans found in it can quote the original text.
* ``normalize``: the simplified text with punctuation, white space and filler characters
  removed, 你 folded into 您 and ASCII lower-cased. Phrases and texts are both reduced to
  this form, so 「你问我,我问谁啊?」 and 「您问我我问谁」 match each other.
"""

from __future__ import annotations

import re
from functools import cache

import opencc

FILLERS = "嗯啊呃额哦噢哈呀哎唉"
CLAUSE_MARKS = frozenset(",.!?;:\n\u2026\u3001\u3002\uff0c\uff01\uff1f\uff1b\uff1a")
# Kept by ``strip`` so that many turns can be normalised in one call and split again.
SEPARATOR = "\x1e"


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplify(text: str) -> str:
    try:
        text.encode("gb2312")  # simplified Chinese only (the usual case): nothing to convert
    except UnicodeEncodeError:
        return _converter().convert(text)
    return text


# What matching keeps: letters and digits but fillers (and the separator). Joining the runs
# is faster than deleting punctuation and spaces with re.sub.
_KEEP = re.compile(f"[^\\W_{FILLERS}]+|{SEPARATOR}")
_FULL_WIDTH = re.compile("[\uff10-\uff5a]")
_FULL_WIDTH_TABLE = str.maketrans({chr(c): chr(c - 0xFEE0) for c in range(0xFF10, 0xFF5B)})


def _fold(text: str) -> str:
    if _FULL_WIDTH.search(text):
        text = text.translate(_FULL_WIDTH_TABLE)
    lowered = text.replace("你", "您").lower()
    if len(lowered) != len(text):  # e.g. İ lowers to two characters: keep offsets one-to-one
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text.replace("你", "您"))
    return lowered


def strip(simplified: str) -> str:
    """Reduce already simplified text to its matching form."""
    return _fold("".join(_KEEP.findall(simplified)))


def normalize(text: str) -> str:
    return strip(simplify(text))


def strip_with_offsets(simplified: str) -> tuple[str, list[int]]:
    """``strip`` plus, for each kept character, its index in ``simplified``.

    Only used on the slow path (a turn that has a finding), to quote evidence.
    """
    out: list[str] = []
    offsets: list[int] = []
    for run in _KEEP.finditer(simplified):
        out.append(run.group())
        offsets.extend(range(run.start(), run.end()))
    return _fold("".join(out)), offsets
