"""How values look on screen: status words, relative times, untrusted text made safe.

Every string that came from a server is untrusted: it goes through :func:`safe_text` (no control
characters, no terminal escapes) and into a ``rich.text.Text`` (never parsed as markup).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from opstui.api import PipelineStatus
from opstui.api.text import REPLACEMENT_CHARACTER, duration, safe_text

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


def plain(value: object, style: str = "", limit: int | None = None) -> Text:
    """Untrusted text as a Rich ``Text`` that is never read as markup."""
    return Text(safe_text(value, limit), style=style, no_wrap=limit is not None)


def status_text(status: PipelineStatus) -> Text:
    """The status as a coloured word (the word carries the meaning without colour)."""
    return Text(status.value, style=STATUS_STYLE[status])


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
