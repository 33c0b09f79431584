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


FRESH_SECONDS = 10
"""Under this age a live line says its data was read ``just now``."""


def since(moment: datetime, now: datetime) -> str:
    """How long ago a live line's data was read: ``just now`` under :data:`FRESH_SECONDS`,
    then in tens of seconds (``20s ago``), then as :func:`relative` (``5m ago``).

    So a line that says it changes at most every ten seconds while the data is fresh, not at
    every second: the live refresh (every 5 s by default) keeps it at ``just now``, and the
    app paints nothing between two polls. An older age (a slow poll) shows its tens. Offline,
    a line that counts down its retry every second says its last update with
    :func:`relative`."""
    seconds = (now - moment).total_seconds()
    if seconds < FRESH_SECONDS:
        return "just now"
    if seconds < 60:
        return f"{int(seconds // 10) * 10}s ago"
    return relative(moment, now)


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
