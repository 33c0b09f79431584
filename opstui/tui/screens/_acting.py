"""ActingScreen: what the pipelines screen and the approvals inbox share.

Both show pipelines from the :class:`~opstui.tui.store.PipelineStore` in a table keyed by id, act
on the marked pipelines (else the highlighted one) through ``app.perform_action``, grey out the
action keys that do not apply to that selection (``check_action``), and say why when a greyed key
is pressed anyway (Textual would ignore it silently). The screens keep their own bindings, layout
and data; this base holds the selection, the marks, the greying and the hand-over to the app.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Protocol, cast

from textual import on
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import DataTable

from opstui.api import Pipeline
from opstui.api.rules import why_not
from opstui.tui.actions import Performed
from opstui.tui.format import safe_text
from opstui.tui.keymap import Bound
from opstui.tui.screens._explain import READ_ONLY, ExplainingScreen
from opstui.tui.store import LivePhase, LiveState, PipelinesChanged, PipelineStore
from opstui.tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from opstui.tui.app import OpstuiApp

__all__ = ["CURSOR_BINDINGS", "CURSOR_KEYS", "TOP_BOTTOM_KEYS", "ActingScreen", "PipelineRows"]

CURSOR_BINDINGS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", id="cursor-down", show=False),
    Binding("k", "cursor_up", "Up", id="cursor-up", show=False),
    Binding("g", "cursor_top", "Top", id="cursor-top", show=False),
    Binding("G", "cursor_bottom", "Bottom", id="cursor-bottom", show=False),
]
"""Vim-style moves, the same on every screen of pipelines (each lists them in its BINDINGS)."""

CURSOR_KEYS = Bound(("cursor-down", "cursor-up"), joiner="/", prefix="up/down, ")
"""The help's keys for moving the cursor: the arrows, and the vim-style moves as bound."""

TOP_BOTTOM_KEYS = Bound(("cursor-top", "cursor-bottom"), joiner=" / ")
"""The help's keys for the first and the last row."""


class PipelineRows(Protocol):
    """What an acting screen needs of its table: rows keyed by pipeline id, a row cursor."""

    @property
    def cursor_id(self) -> str | None:
        """The id of the pipeline under the cursor, if any."""
        ...

    @property
    def row_ids(self) -> list[str]:
        """The pipeline ids shown, top to bottom."""
        ...

    @property
    def row_count(self) -> int:
        """How many rows are shown."""
        ...

    def move_cursor(
        self,
        *,
        row: int | None = None,
        column: int | None = None,
        animate: bool = False,
        scroll: bool = True,
    ) -> None:
        """Put the cursor on a row."""
        ...

    def action_cursor_down(self) -> None:
        """Move the cursor down one row."""
        ...

    def action_cursor_up(self) -> None:
        """Move the cursor up one row."""
        ...

    def set_class(self, add: bool, *class_names: str, update: bool = True) -> object:
        """Add or remove CSS classes."""
        ...


class ActingScreen(ExplainingScreen):
    """A screen of pipelines whose keys act on the marked pipelines, else the highlighted one.

    A subclass provides :attr:`ACTIONS` (its action keys and the API action each performs), the
    :attr:`table`, and the hooks :meth:`_marks_changed` and :meth:`_refresh_empty`.
    """

    ACTIONS: ClassVar[dict[str, str]] = {}
    """Screen action -> the API action it performs (through the one path)."""

    available: reactive[frozenset[str]] = reactive(frozenset(), bindings=True)
    """The action keys that apply to the selection now (the others are greyed in the footer).

    A set of names rather than the selection itself, so moving the cursor between two rows where
    the same keys apply does not rebuild the footer.
    """

    def __init__(self, store: PipelineStore) -> None:
        super().__init__()
        self.store = store
        self.marked: set[str] = set()

    @property
    def opstui(self) -> OpstuiApp:
        """The app, typed."""
        return cast("OpstuiApp", self.app)

    @property
    def table(self) -> PipelineRows:
        """The table of pipelines (provided by the subclass)."""
        raise NotImplementedError

    # -- hooks ----------------------------------------------------------------------------

    def _marks_changed(self, toggled: set[str]) -> None:
        """Show that the pipelines in ``toggled`` were marked or unmarked."""
        raise NotImplementedError

    def _refresh_empty(self) -> None:
        """Bring the empty-table message up to date (the live state changed)."""
        raise NotImplementedError

    def nothing_selected(self) -> str:
        """Why an action key does nothing when no pipeline is highlighted."""
        if not self.store.loaded:
            return "Nothing to act on yet: the pipelines are still loading."
        return "No pipeline is highlighted."

    # -- data -----------------------------------------------------------------------------

    def _status_bar(self) -> StatusBar:
        """The status line: server, counts, and whether the data is live."""
        app = self.opstui
        return StatusBar(self.store, server=app.tenant, now=app.now, id="status-bar")

    def _follow(self) -> None:
        """Subscribe to the store's changes, the live state and the app's finished actions."""
        self.store.changed.subscribe(self, self._on_pipelines_changed)
        self.store.live.subscribe(self, self._on_live)
        self.opstui.action_done.subscribe(self, self._on_action_done)

    def on_unmount(self) -> None:
        # A signal's subscriber list holds the screen strongly (its callback closes over it)
        # until the next publish: a popped screen lets go now, not at the next refresh.
        self.store.changed.unsubscribe(self)
        self.store.live.unsubscribe(self)
        self.opstui.action_done.unsubscribe(self)

    def _on_pipelines_changed(self, change: PipelinesChanged) -> None:
        """A refresh landed (provided by the subclass)."""
        raise NotImplementedError

    def loading_text(self) -> str | None:
        """What the empty table says before the first answer (None once loaded)."""
        if self.store.loaded:
            return None
        state = self.store.state
        if state.phase in (LivePhase.OFFLINE, LivePhase.REFUSED):
            return f"Could not load the pipelines: {safe_text(state.error, 200)}"
        return f"Loading pipelines from {safe_text(self.opstui.settings.server_label)}…"

    def _on_live(self, state: LiveState) -> None:
        stale = state.phase in (LivePhase.OFFLINE, LivePhase.REFUSED)
        self.table.set_class(stale, "-stale")
        self._refresh_empty()

    def _on_action_done(self, done: Performed) -> None:
        # The marks of the targets that failed, or whose outcome is unknown, stay: to retry.
        if done.succeeded:
            self.marked -= set(done.succeeded)
            self._show()

    def _show(self) -> None:
        """Bring the table, the messages and the selection up to date (provided by subclasses)."""
        raise NotImplementedError

    # -- selection and what applies to it -------------------------------------------------

    def selected(self) -> list[Pipeline]:
        """The marked pipelines (in the server's order), else the highlighted one."""
        pipelines = self.store.pipelines
        if self.marked:
            return [pipeline for key, pipeline in pipelines.items() if key in self.marked]
        cursor = self.table.cursor_id
        return [pipelines[cursor]] if cursor is not None and cursor in pipelines else []

    def _update_selection(self) -> None:
        items = self.selected()
        self.available = frozenset(
            action for action in self.ACTIONS if self._why_not(action, items) is None
        )

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._update_selection()

    def refusal(self, action: str) -> str | None:
        """Every action key changes something: refused under a read-only profile."""
        return READ_ONLY if action in self.ACTIONS and self.read_only else None

    def why_disabled(self, action: str) -> str | None:
        """Why the action key ``action`` does nothing now, in a sentence; None if it applies."""
        return self.refusal(action) or self._why_not(action, self.selected())

    def _why_not(self, action: str, items: Sequence[Pipeline]) -> str | None:
        api_action = self.ACTIONS[action]
        verb = action.capitalize()
        if not items:
            return self.nothing_selected()
        if api_action in ("update", "clone") and len(items) > 1:
            return f"{verb} works on one pipeline at a time: {len(items)} are marked (u unmarks)."
        reasons = [(item, why_not(api_action, item)) for item in items]
        if any(reason is None for _, reason in reasons):
            return None
        if len(items) == 1:
            return f"{safe_text(items[0].name or items[0].id, 60)} {reasons[0][1]}."
        listed = "; ".join(f"{safe_text(item.name, 40)} {reason}" for item, reason in reasons[:3])
        more = "…" if len(items) > 3 else ""
        return f"{verb} applies to none of the {len(items)} marked: {listed}{more}."

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.ACTIONS:
            return True if action in self.available and not self.refusal(action) else None
        return True

    def reason_for_key(self, action: str) -> str | None:
        """Why a greyed-out action key does nothing; None for the other keys."""
        return self.why_disabled(action) if action in self.ACTIONS else None

    def perform(self, action: str) -> None:
        """Run the screen action ``action`` on the selection, or say why it does not apply."""
        reason = self.why_disabled(action)
        if reason:
            self.explain(reason)
            return
        self.opstui.perform_action(self.ACTIONS[action], self.selected())

    def action_approve(self) -> None:
        """Approve the gate the selected pipelines wait at."""
        self.perform("approve")

    def action_reject(self) -> None:
        """Reject the gate the selected pipelines wait at, with a reason."""
        self.perform("reject")

    # -- marks ----------------------------------------------------------------------------

    def _set_marks(self, marked: set[str]) -> None:
        toggled = self.marked ^ marked
        self.marked = marked
        self._marks_changed(toggled)
        self._update_selection()

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted pipeline."""
        cursor = self.table.cursor_id
        if cursor is not None:
            self._set_marks(self.marked ^ {cursor})

    def action_mark_shown(self) -> None:
        """Mark every pipeline the table shows."""
        self._set_marks(self.marked | set(self.table.row_ids))

    def action_clear_marks(self) -> None:
        """Unmark every pipeline."""
        self._set_marks(set())

    # -- cursor ---------------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        """Move the cursor down."""
        self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        """Move the cursor up."""
        self.table.action_cursor_up()

    def action_cursor_top(self) -> None:
        """Move the cursor to the first row."""
        if self.table.row_count:
            self.table.move_cursor(row=0)

    def action_cursor_bottom(self) -> None:
        """Move the cursor to the last row."""
        if self.table.row_count:
            self.table.move_cursor(row=self.table.row_count - 1)

    # -- elsewhere ------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.open_highlighted()

    def open_highlighted(self) -> None:
        """Open the details of the highlighted pipeline."""
        cursor = self.table.cursor_id
        pipeline = self.store.pipelines.get(cursor) if cursor is not None else None
        if pipeline is None:
            self.explain("No pipeline is highlighted.")
            return
        self.opstui.open_details(pipeline)

    def action_toggle_pause(self) -> None:
        """Pause or resume the live refresh."""
        self.opstui.toggle_pause()

    def action_refresh_now(self) -> None:
        """Refresh now."""
        self.opstui.refresh_pipelines()
