"""Transcript turns as stored on a call, read defensively.

What is stored was checked when it was saved (kefu.calls.schemas), but an older version, a
direct database edit or a restored backup may have left odd values behind. Every reader of
stored turns (the pages, the API, the export) goes through ``stored_turn``, so that one odd
value shows as well as it can instead of failing the list or the export for everyone.
"""

from __future__ import annotations

import math
from typing import Any


def stored_turn(turn: Any) -> dict[str, Any]:
    """Speaker and text as text, start and end as finite seconds or None; other keys dropped."""
    if not isinstance(turn, dict):
        turn = {"text": turn}
    text = turn.get("text")
    out: dict[str, Any] = {"speaker": str(turn.get("speaker") or ""), "text": "" if text is None else str(text)}
    for key in ("start", "end"):
        value = turn.get(key)
        try:
            seconds = None if isinstance(value, bool) or value is None else float(value)
        except (TypeError, ValueError, OverflowError):
            seconds = None
        out[key] = seconds if seconds is not None and math.isfinite(seconds) else None
    return out
