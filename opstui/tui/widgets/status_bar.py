"""StatusBar: the server, the counts that matter at night, and whether the data is live.

``prod · 2 awaiting approval · 5 running · 1 failed          updated 3s ago``

The right side says ``updated 3s ago``, ``paused · updated 2m ago``, ``offline · retrying in 8s``
or ``token refused · retrying in 60s``: always words, so it reads without colour.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.widget import Widget

from opstui.api import PipelineStatus
from opstui.tui.format import STATUS_STYLE, relative, safe_text
from opstui.tui.store import LivePhase, LiveState, PipelinesChanged, PipelineStore

__all__ = ["COUNTED", "StatusBar", "counts_text", "live_text", "skipped_text"]

COUNTED: tuple[PipelineStatus, ...] = (
    PipelineStatus.AWAITING_APPROVAL,
    PipelineStatus.RUNNING,
    PipelineStatus.FAILED,
)
"""The states always counted, in this order (others only when there are some)."""

ALSO_COUNTED: tuple[PipelineStatus, ...] = (PipelineStatus.PAUSED,)


def counts_text(counts: dict[PipelineStatus, int]) -> Text:
    """``2 awaiting approval · 5 running · 1 failed``; zero counts are plain, others coloured."""
    text = Text()
    shown = [*COUNTED, *(status for status in ALSO_COUNTED if counts.get(status))]
    for index, status in enumerate(shown):
        if index:
            text.append(" · ")
        count = counts.get(status, 0)
        text.append(f"{count} {status.value}", style=STATUS_STYLE[status] if count else "")
    return text


def skipped_text(count: int, noun: str) -> str:
    """``2 pipelines could not be read``: records a list left out, one by one."""
    return f"{count} {noun}{'' if count == 1 else 's'} could not be read"


def _seconds(seconds: float) -> str:
    seconds = max(0, math.ceil(seconds))
    return f"{seconds}s" if seconds < 120 else f"{seconds // 60}m"


def live_text(state: LiveState, now: datetime) -> str:
    """The live state in words."""
    updated = f"updated {relative(state.updated_at, now)}" if state.updated_at else ""
    retry = ""
    if state.retry_at is not None:
        left = (state.retry_at - now).total_seconds()
        retry = "retrying now" if left <= 0 else f"retrying in {_seconds(left)}"
    if state.phase is LivePhase.LOADING:
        return "paused · not loaded" if state.paused else "loading…"
    if state.phase is LivePhase.OFFLINE:
        parts = ["offline", "paused" if state.paused else retry]
    elif state.phase is LivePhase.REFUSED:
        parts = ["token refused", "paused" if state.paused else retry]
    elif state.phase is LivePhase.PAUSED:
        parts = ["paused", updated]
    else:
        parts = [updated]
    return " · ".join(part for part in parts if part)


class StatusBar(Widget):
    """One line: server and counts on the left, the live state on the right."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--server",
        "status-bar--live",
        "status-bar--warning",
        "status-bar--error",
    }

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        color: $foreground;
        & > .status-bar--server {
            text-style: bold;
        }
        & > .status-bar--live {
            color: $text-muted;
        }
        & > .status-bar--warning {
            color: $text-warning;
            text-style: bold;
        }
        & > .status-bar--error {
            color: $text-error;
            text-style: bold;
        }
    }
    """

    def __init__(
        self,
        store: PipelineStore,
        *,
        server: str,
        now: Callable[[], datetime],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.store = store
        self.server = safe_text(server, 40)
        self.now = now

    def on_mount(self) -> None:
        self.store.changed.subscribe(self, self._on_changed)
        self.store.live.subscribe(self, self._on_live)
        self.set_interval(1.0, self.refresh)

    def on_unmount(self) -> None:
        self.store.changed.unsubscribe(self)
        self.store.live.unsubscribe(self)

    def _on_changed(self, change: PipelinesChanged) -> None:
        self.refresh()

    def _on_live(self, state: LiveState) -> None:
        self.refresh()

    @property
    def left_text(self) -> Text:
        """The server and the counts, as shown."""
        text = Text(self.server, style=self.get_component_rich_style("status-bar--server"))
        if self.store.loaded:
            text.append(" · ")
            text.append_text(counts_text(self.store.counts()))
        return text

    @property
    def right_text(self) -> Text:
        """The live state, as shown (always whole); first, what the last list could not read."""
        state = self.store.state
        if state.phase is LivePhase.REFUSED:
            name = "status-bar--error"
        elif state.phase is LivePhase.OFFLINE or state.paused:
            name = "status-bar--warning"
        else:
            name = "status-bar--live"
        text = Text()
        if self.store.skipped:
            warning = self.get_component_rich_style("status-bar--warning")
            text.append(skipped_text(self.store.skipped, "pipeline"), style=warning)
            text.append(" · ")
        text.append(live_text(state, self.now()), style=self.get_component_rich_style(name))
        return text

    def render(self) -> RenderableType:
        grid = Table.grid(expand=True, padding=(0, 0, 0, 2))
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(justify="right", no_wrap=True)
        grid.add_row(self.left_text, self.right_text)
        return grid
