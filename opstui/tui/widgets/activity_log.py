"""A pipeline's activity log, newest first: time, run, step, what happened, and the message.

Wide enough (``WIDE`` columns), each entry is one table row; narrower (80 columns), the message
goes on its own line under the step and action, so it wraps across the whole width instead of in a
thin column. Every field is server text: it goes through ``safe_text`` into ``Text``, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from opstui.api import ActivityEntry, PipelineStatus
from opstui.tui.format import STATUS_STYLE, plain, safe_text

__all__ = ["MAX_ENTRIES", "WIDE", "ActivityLog", "ActivityTable", "entry_time"]

WIDE = 110
"""From this width on, the message gets a column of its own."""

MAX_ENTRIES = 100
"""Entries shown; older ones are counted, not drawn."""

_STATUS_STYLE: dict[str, str] = {
    "success": STATUS_STYLE[PipelineStatus.SUCCESS],
    "failed": STATUS_STYLE[PipelineStatus.FAILED],
    "running": STATUS_STYLE[PipelineStatus.RUNNING],
    "pending": STATUS_STYLE[PipelineStatus.AWAITING_APPROVAL],
    "stopped": STATUS_STYLE[PipelineStatus.STOPPED],
}


def entry_time(moment: datetime | None, now: datetime) -> str:
    """``14:03:27`` for today (in ``now``'s time zone), ``Nov 26 21:03`` for other days."""
    if moment is None:
        return "?"
    local = moment.astimezone(now.tzinfo)
    if local.date() == now.date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%b %d %H:%M")


def _what(entry: ActivityEntry) -> Text:
    """The action (or the status, when the action is blank), coloured by the status."""
    word = entry.action or entry.status or "?"
    return plain(word, style=_STATUS_STYLE.get(entry.status.lower(), ""), limit=24)


def _sort_key(entry: ActivityEntry) -> float:
    return entry.created_at.timestamp() if entry.created_at is not None else float("-inf")


class ActivityTable:
    """A Rich renderable of activity entries that picks its layout from the width it gets."""

    def __init__(self, entries: Sequence[ActivityEntry], now: datetime) -> None:
        self.entries = list(entries)
        self.now = now

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.entries:
            yield Text("No activity recorded.", style="dim")
            return
        shown = self.entries[:MAX_ENTRIES]
        wide = options.max_width >= WIDE
        table = Table.grid(padding=(0, 1), expand=True)
        table.add_column(no_wrap=True, style="dim")
        table.add_column(justify="right", no_wrap=True)
        if wide:
            table.add_column(max_width=26, no_wrap=True, overflow="ellipsis")
            table.add_column(max_width=20, no_wrap=True, overflow="ellipsis")
            table.add_column(ratio=1, overflow="fold")
        else:
            table.add_column(ratio=1, overflow="fold")
        for entry in shown:
            when = Text(entry_time(entry.created_at, self.now))
            run = Text("" if entry.run_count is None else f"#{entry.run_count}", style="dim")
            step = plain(entry.step_name or "(run)", limit=40)
            message = Text(safe_text(entry.message, 1000))
            if wide:
                table.add_row(when, run, step, _what(entry), message)
            else:
                heading = Text.assemble(
                    step, " · ", _what(entry), no_wrap=True, overflow="ellipsis"
                )
                body = Text("\n").join([heading, message]) if entry.message else heading
                table.add_row(when, run, body)
        yield table
        hidden = len(self.entries) - len(shown)
        if hidden > 0:
            yield Text(f"… and {hidden} older entries", style="dim")


class ActivityLog(Static):
    """The activity log of one pipeline, newest first."""

    DEFAULT_CSS = """
    ActivityLog {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(Text("Loading activity…", style="dim"), id=id, classes=classes)
        self.entries: list[ActivityEntry] = []
        """The entries last shown, newest first."""

    def show(self, entries: Sequence[ActivityEntry], now: datetime) -> None:
        """Render ``entries``, newest first, with times in ``now``'s day and zone.

        The server sends them newest first already; a stable sort keeps that promise even if it
        does not (entries without a time go last, in the order they came).
        """
        self.entries = sorted(entries, key=_sort_key, reverse=True)
        self.update(ActivityTable(self.entries, now))
