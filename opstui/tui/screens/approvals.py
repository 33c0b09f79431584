"""ApprovalsScreen: the on-call inbox, only the gates that wait for a person, longest waiting first.

Made for someone paged at night on a laptop or a phone's SSH client: each row says how long the
pipeline has waited, at which gate, in which run, and what the gate asks (its message and
approvers). The cursor starts on the longest wait, so ``a`` then ``y`` approves it; ``x`` rejects
with a reason; ``space`` marks several for one batch. ``A`` or ``escape`` goes back to the
pipelines.

Like the pipelines screen, it never talks to the network: it shows what the
:class:`~opstui.tui.store.PipelineStore` publishes (the app's one poll) and hands every action to
``app.perform_action`` (dialog, status re-check, one request, outcome, audit).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from opstui.api import Pipeline
from opstui.tui.format import relative, safe_text
from opstui.tui.keymap import Bound
from opstui.tui.screens._acting import (
    CURSOR_BINDINGS,
    CURSOR_KEYS,
    TOP_BOTTOM_KEYS,
    ActingScreen,
    StoreRows,
)
from opstui.tui.screens._hosting import status_bar
from opstui.tui.screens._keys import APP_HELP, LIVE_HELP, HelpSection
from opstui.tui.store import LivePhase, PipelinesChanged, PipelineStore
from opstui.tui.widgets.approvals_table import ApprovalsTable, gates_in_order
from opstui.tui.widgets.footer import KeysFooter
from opstui.tui.widgets.gate_preview import GatePreview
from opstui.tui.widgets.vtable import VirtualTable

__all__ = ["INBOX_ACTIONS", "NOTHING_WAITS", "ApprovalsScreen", "InboxBar"]

INBOX_ACTIONS: dict[str, str] = {"approve": "approve", "reject": "reject"}
"""The inbox's action keys and the API action each performs."""

NOTHING_WAITS = "Nothing awaits approval."
"""What the empty inbox says, and why its action keys do nothing."""

TICK_SECONDS = 1.0
"""How often the waiting column is brought up to date."""


class InboxBar(Widget):
    """The line under the inbox: what it shows, how many are marked, and its order."""

    DEFAULT_CSS = """
    InboxBar {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.count: int | None = None
        self.marked = 0

    def set_counts(self, count: int | None, marked: int) -> None:
        """Say how many gates wait (None: not known yet) and how many of them are marked."""
        if (count, marked) != (self.count, self.marked):
            self.count, self.marked = count, marked
            self.refresh()

    @property
    def left_text(self) -> Text:
        """``Awaiting approval · 8 · 2 marked``."""
        text = Text("Awaiting approval", style="bold")
        if self.count is not None:
            text.append(f" · {self.count}")
        if self.marked:
            text.append(f" · {self.marked} marked", style="bold")
        return text

    def render(self) -> RenderableType:
        return status_bar(self.left_text, "longest waiting first")


class ApprovalsScreen(ActingScreen):
    """The approvals inbox: the gates that wait, longest first, between status line and footer."""

    ACTIONS = INBOX_ACTIONS

    DEFAULT_CSS = """
    ApprovalsScreen {
        layout: vertical;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "approve", "Approve", id="approve"),
        Binding("x", "reject", "Reject", id="reject"),
        Binding("space", "toggle_mark", "Mark", id="mark"),
        Binding("A", "back", "Pipelines", id="approvals"),
        Binding("escape", "back", "Pipelines", id="back", show=False),
        Binding("asterisk", "mark_shown", "Mark all", id="mark-shown", show=False),
        Binding("u", "clear_marks", "Unmark all", id="unmark", show=False),
        Binding("p", "toggle_pause", "Pause", id="pause", show=False),
        Binding("ctrl+r", "refresh_now", "Refresh now", id="refresh", show=False),
        *CURSOR_BINDINGS,
    ]
    """Binding ids match the pipelines screen's, so one keymap entry remaps a key on both."""

    KEY_HELP: ClassVar[list[HelpSection]] = [
        (
            "The approvals inbox (longest waiting first)",
            [
                (CURSOR_KEYS, "Move the cursor"),
                (TOP_BOTTOM_KEYS, "Longest / shortest wait"),
                ("enter", "Open the pipeline's details"),
                (Bound(("approvals", "back")), "Back to every pipeline"),
            ],
        ),
        (
            "Act (on the marked pipelines, else the highlighted one)",
            [
                (Bound(("approve",)), "Approve the gate (y confirms)"),
                (Bound(("reject",)), "Reject the gate, with a reason"),
                (Bound(("mark",)), "Mark or unmark the highlighted pipeline"),
                (Bound(("mark-shown",)), "Mark every gate shown"),
                (Bound(("unmark",)), "Unmark all"),
            ],
        ),
        LIVE_HELP,
        APP_HELP,
    ]
    """The key reference shown by ``?``."""

    def __init__(self, store: PipelineStore) -> None:
        super().__init__(store)
        self.gates: list[Pipeline] = []
        """The pipelines shown, in order."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._status_bar()
        with Vertical(id="table-area"):
            yield ApprovalsTable(
                rows=StoreRows(self.store),
                row_state=self.row_state,
                now=self.opstui.now,
                id="approvals",
            )
            yield Static(id="empty", markup=False)
        yield GatePreview(id="gate-preview")
        yield InboxBar(id="inbox-bar")
        yield KeysFooter()

    @property
    def table(self) -> ApprovalsTable:
        """The inbox table."""
        return self.query_one(ApprovalsTable)

    def on_mount(self) -> None:
        self._follow()
        self._on_live(self.store.state)
        self.table.focus()
        self._show()
        self.set_interval(TICK_SECONDS, self.retime)

    # -- data -----------------------------------------------------------------------------

    def _on_pipelines_changed(self, change: PipelinesChanged) -> None:
        self.table.retime(self.opstui.now())  # what landed is shown against the time it landed
        self._show()

    def _show(self) -> None:
        """Bring the rows, the empty message, the counts and the selection up to date."""
        self.gates = gates_in_order(self.store.pipelines.values())
        shown = [pipeline.id for pipeline in self.gates]
        if self.marked:
            kept = self.marked.intersection(shown)
            if kept != self.marked:
                self._drop_marks(self.marked - kept)
        self.table.set_order(shown)
        self._refresh_empty()
        self._update_counts()
        self._update_selection()
        self._tell_interest()
        self._preview()

    @on(VirtualTable.CursorMoved)
    def _preview_highlighted(self, event: VirtualTable.CursorMoved) -> None:
        self._preview()

    def _preview(self) -> None:
        """Show the highlighted gate in full under the table."""
        cursor = self.table.cursor_key
        self.query_one(GatePreview).show(self.store.pipelines.get(cursor) if cursor else None)

    def retime(self) -> None:
        """Age the waiting column to the app's clock."""
        self.table.retime(self.opstui.now())

    def _update_counts(self) -> None:
        count = len(self.gates) if self.store.loaded else None
        self.query_one(InboxBar).set_counts(count, len(self.marked))

    def _refresh_empty(self) -> None:
        message = self.query_one("#empty", Static)
        message.display = not self.gates
        if not self.gates:
            message.update(self.empty_text())

    def empty_text(self) -> str:
        """What the inbox says when no gate waits (or none is known yet)."""
        loading = self.loading_text()
        if loading is not None:
            return loading
        state = self.store.state
        if state.phase in (LivePhase.OFFLINE, LivePhase.REFUSED):
            when = relative(state.updated_at, self.opstui.now(), never="a while ago")
            return (
                f"Nothing awaited approval at the last update ({when}), but the data is stale: "
                f"{safe_text(state.error, 200)}"
            )
        if state.paused:
            return f"{NOTHING_WAITS} The live refresh is paused: p resumes it."
        return NOTHING_WAITS

    def nothing_selected(self) -> str:
        """Why an action key does nothing: no gate to act on."""
        if not self.store.loaded:
            return super().nothing_selected()
        return NOTHING_WAITS

    def _marks_changed(self, toggled: set[str]) -> None:
        self.table.refresh_keys(toggled)
        self._update_counts()

    # -- keys -----------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to the pipelines screen."""
        self.opstui.close_approvals()
