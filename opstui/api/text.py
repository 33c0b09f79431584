"""Untrusted server text made safe for a terminal, and short human durations.

Shared by the client's error messages, the command line and the app, so that all three clean
text the same way.
"""

from __future__ import annotations

import unicodedata

__all__ = ["REPLACEMENT_CHARACTER", "duration", "one_line", "safe_text"]

REPLACEMENT_CHARACTER = "\ufffd"
"""What :func:`safe_text` puts in place of a character that must not reach the terminal."""

# Cc: C0 and C1 controls, DEL, ESC. Cf: format characters (bidi overrides and isolates,
# zero-width characters), which make a terminal show text out of order or one name look like
# another. Cs: lone surrogates. Zl, Zp: line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def safe_text(value: object, limit: int | None = None) -> str:
    """Untrusted text with every control or invisible formatting character replaced by U+FFFD.

    Markup-like brackets are kept: a caller renders the result as plain text, never as markup.
    With ``limit``, the text is cut to that many characters, ending in ``…``.
    """
    text = "" if value is None else str(value)
    if not text.isprintable():
        text = "".join(
            REPLACEMENT_CHARACTER if unicodedata.category(char) in _UNSAFE_CATEGORIES else char
            for char in text
        )
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def one_line(text: object, limit: int = 300) -> str:
    """Untrusted text folded to one printable line: controls become spaces, runs of space one."""
    raw = "" if text is None else str(text)
    if not raw.isprintable():
        raw = "".join(
            " " if unicodedata.category(char) in _UNSAFE_CATEGORIES else char for char in raw
        )
    folded = " ".join(raw.split())
    if len(folded) > limit:
        folded = folded[: limit - 1].rstrip() + "…"
    return folded


def duration(seconds: float) -> str:
    """A short human duration: ``42s``, ``5m 03s``, ``2h 10m``, ``3d 4h``."""
    total = max(0, int(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
