"""Key-help sections every screen shows the same way (``?``)."""

from __future__ import annotations

__all__ = ["APP_HELP", "LIVE_HELP", "HelpSection"]

HelpSection = tuple[str, list[tuple[str, str]]]

LIVE_HELP: HelpSection = (
    "Live refresh",
    [
        ("p", "Pause or resume"),
        ("ctrl+r", "Refresh now"),
    ],
)
"""The app-wide live refresh's keys."""

APP_HELP: HelpSection = (
    "App",
    [
        ("?", "These keys"),
        ("ctrl+p", "Every command, searchable"),
        ("q", "Quit"),
    ],
)
"""Keys that work on every screen."""
