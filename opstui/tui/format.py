"""How values look on screen: status words, relative times, untrusted text made safe.

Every string that came from a server is untrusted: it goes through :func:`safe_text` (no control
characters, no terminal escapes) and into a ``rich.text.Text`` (never parsed as markup).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from rich.text import Text

from opstui.api import PipelineStatus

__all__ = [
    "REPLACEMENT_CHARACTER",
    "STATUS_ORDER",
    "STATUS_STYLE",
    "duration",
    "plain",
    "relative",
    "safe_text",
    "status_text",
]

REPLACEMENT_CHARACTER = "\ufffd"
"""What :func:`safe_text` puts in place of a character that must not reach the terminal."""

# Cc: C0 and C1 controls, DEL, ESC. Cf: format characters (bidi overrides, zero-width). Cs: lone
# surrogates. Zl, Zp: line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

STATUS_STYLE: dict[PipelineStatus, str] = {
    PipelineStatus.AWAITING_APPROVAL: "bold yellow",
    PipelineStatus.RUNNING: "bold cyan",
    PipelineStatus.PAUSED: "magenta",
    PipelineStatus.FAILED: "bold red",
    PipelineStatus.SUCCESS: "green",
    PipelineStatus.STOPPED: "",
    PipelineStatus.IDLE: "dim",
    PipelineStatus.UNKNOWN: "dim",
}
"""Colours that survive 16-colour terminals; the word itself always carries the meaning."""

STATUS_ORDER: dict[PipelineStatus, int] = {
    status: index
    for index, status in enumerate(
        (
            PipelineStatus.AWAITING_APPROVAL,
            PipelineStatus.FAILED,
            PipelineStatus.RUNNING,
            PipelineStatus.PAUSED,
            PipelineStatus.STOPPED,
            PipelineStatus.SUCCESS,
            PipelineStatus.IDLE,
            PipelineStatus.UNKNOWN,
        )
    )
}
"""Most urgent first: the order of a sort by state."""


def safe_text(value: object, limit: int | None = None) -> str:
    """Untrusted text made safe for one line of a terminal; cut to ``limit`` characters if given.

    Every control or invisible formatting character becomes U+FFFD: C0 and C1 controls (ESC,
    BEL, tab, newline), DEL, Unicode format characters (bidi overrides, zero-width characters,
    which can make one name look like another), lone surrogates, line and paragraph separators.
    Markup-like brackets are kept: render the result as plain text (:func:`plain`), never markup.
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


def plain(value: object, style: str = "", limit: int | None = None) -> Text:
    """Untrusted text as a Rich ``Text`` that is never read as markup."""
    return Text(safe_text(value, limit), style=style, no_wrap=limit is not None)


def status_text(status: PipelineStatus) -> Text:
    """The status as a coloured word (the word carries the meaning without colour)."""
    return Text(status.value, style=STATUS_STYLE[status])


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


def relative(moment: datetime | None, now: datetime, *, never: str = "never") -> str:
    """``12s ago``, ``5m ago``, ``3h ago``, ``2d ago``; ``never`` for no time at all."""
    if moment is None:
        return never
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "just now" if seconds > -5 else "in the future"
    if seconds < 60:
        return f"{int(seconds)}s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    return f"{int(seconds // 86400)}d ago"
