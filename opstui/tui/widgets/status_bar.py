"""StatusBar: the server, the counts that matter at night, and whether the data is live.

``prod · 2 awaiting approval · 5 running · 1 failed        updated just now``

The server is the profile's name (or the host); a read-only profile adds ``read-only``, and a
profile that does not verify TLS adds ``TLS not verified``, for as long as the app runs.

The right side says ``updated just now`` (``updated 20s ago`` once older: ages in tens of
seconds, :func:`~opstui.tui.format.since`), ``paused · updated 2m ago``, ``offline · retrying in 8s``
or ``token refused · retrying in 60s``: always words, so it reads without colour. While the first
list lands page by page it says ``loading 3,000 / 10,000`` (``loading 3,000…`` when the server
gives no total). The counts are the store's, kept as refreshes land: a repaint counts nothing.

The line is painted again only when what it says changed: a poll that brought nothing new, or a
second that leaves ``updated 2m ago`` as it was, costs no frame. It is drawn through the Line
API, the two sides laid out by :func:`status_line` (the Rich table grid it replaced measured
both sides at every paint, 2 ms a frame), and the once-a-second look compares the right side's
words alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from opstui.api import PipelineStatus
from opstui.tui.format import STATUS_STYLE, safe_text, since
from opstui.tui.store import LivePhase, LiveState, Loading, PipelinesChanged, PipelineStore

__all__ = [
    "COUNTED",
    "READ_ONLY_MARK",
    "TLS_UNVERIFIED",
    "StatusBar",
    "Tenant",
    "counts_text",
    "live_text",
    "loading_text",
    "skipped_text",
    "status_line",
    "tenant_text",
]

READ_ONLY_MARK = "read-only"
"""What the header says under a read-only profile."""

TLS_UNVERIFIED = "TLS not verified"
"""What the header says, for as long as the app runs, when the server's certificate is not checked."""

COUNTED: tuple[PipelineStatus, ...] = (
    PipelineStatus.AWAITING_APPROVAL,
    PipelineStatus.RUNNING,
    PipelineStatus.FAILED,
)
"""The states always counted, in this order (others only when there are some)."""

ALSO_COUNTED: tuple[PipelineStatus, ...] = (PipelineStatus.PAUSED,)


@dataclass(frozen=True)
class Tenant:
    """Which server the app talks to, and how: what every screen's header names."""

    label: str
    """The profile's name, or the host."""
    read_only: bool = False
    """Nothing that changes anything is sent."""
    tls_unverified: bool = False
    """The server's TLS certificate is not checked (``verify_tls = false``)."""


def tenant_text(
    tenant: Tenant, *, server_style: Style | str = "bold", warning_style: Style | str = "bold"
) -> Text:
    """``prod``, ``prod · read-only``, ``staging · TLS not verified``: always words."""
    text = Text(safe_text(tenant.label, 40), style=server_style)
    for shown, words in (
        (tenant.read_only, READ_ONLY_MARK),
        (tenant.tls_unverified, TLS_UNVERIFIED),
    ):
        if shown:
            text.append(" · ")
            text.append(words, style=warning_style)
    return text


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


def loading_text(progress: Loading) -> str:
    """``loading 3,000 / 10,000``, or ``loading 3,000…`` without a total from the server."""
    if progress.total:
        return f"loading {progress.count:,} / {progress.total:,}"
    return f"loading {progress.count:,}…"


def live_text(state: LiveState, now: datetime) -> str:
    """The live state in words."""
    if state.loading is not None and state.phase not in (LivePhase.OFFLINE, LivePhase.REFUSED):
        return loading_text(state.loading)
    updated = f"updated {since(state.updated_at, now)}" if state.updated_at else ""
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


GAP = 2
"""Cells between the two sides, at the least."""


def status_line(left: Text, right: Text, width: int) -> Text:
    """``left`` and ``right`` on one line of ``width`` cells, ``right`` flush right and always
    whole; ``left`` is cut first, with an ellipsis (and ``right`` only when it alone is wider)."""
    right_width = right.cell_len
    if right_width >= width:
        line = right.copy()
        line.truncate(width, overflow="ellipsis")
        return line
    left_width = width - right_width - GAP
    line = Text(end="", no_wrap=True)
    if left_width > 0:
        shown = left.copy()
        shown.truncate(left_width, overflow="ellipsis", pad=True)
        line.append_text(shown)
    line.append(" " * (width - line.cell_len - right_width))
    line.append_text(right)
    return line


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
        server: str | Tenant,
        now: Callable[[], datetime],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.store = store
        self.tenant = server if isinstance(server, Tenant) else Tenant(server)
        self.server = safe_text(self.tenant.label, 40)
        self.now = now
        self._shown: tuple[Text, Text] | None = None
        """What the last paint said (left, right): a refresh that would say the same is skipped."""
        self._shown_live = ""
        """The live state's words in the last paint (what the once-a-second look compares)."""

    def on_mount(self) -> None:
        self.store.changed.subscribe(self, self._on_changed)
        self.store.live.subscribe(self, self._on_live)
        # The finest step of what the right side says (``retrying in 8s``; ages move in tens).
        self.set_interval(1.0, self._tick, name="status-tick")

    def on_unmount(self) -> None:
        self.store.changed.unsubscribe(self)
        self.store.live.unsubscribe(self)

    def _on_changed(self, change: PipelinesChanged) -> None:
        self.refresh_if_changed()

    def _on_live(self, state: LiveState) -> None:
        self.refresh_if_changed()

    def _tick(self) -> None:
        """A second passed: only the live state's words can have changed (the counts and the
        rest change with the store, which says so)."""
        if live_text(self.store.state, self.now()) != self._shown_live:
            self.refresh_if_changed()

    def refresh_if_changed(self) -> bool:
        """Paint the line again if it would say something else now; True if it will."""
        if self._shown == (self.left_text, self.right_text):
            return False
        self.refresh()
        return True

    @property
    def left_text(self) -> Text:
        """The server and the counts, as shown."""
        text = tenant_text(
            self.tenant,
            server_style=self.get_component_rich_style("status-bar--server"),
            warning_style=self.get_component_rich_style("status-bar--warning"),
        )
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

    def render_line(self, y: int) -> Strip:
        """Server and counts left, the live state right (cut on the left first)."""
        width = self.content_size.width
        style = self.rich_style
        if y or width <= 0:
            return Strip.blank(width, style)
        left, right = self.left_text, self.right_text
        self._shown = (left, right)
        self._shown_live = live_text(self.store.state, self.now())
        line = status_line(left, right, width)
        return Strip(line.render(self.app.console), line.cell_len).apply_style(style)
