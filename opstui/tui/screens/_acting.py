"""ActingScreen: what the pipelines screen and the approvals inbox share.

Both show pipelines from the :class:`~opstui.tui.store.PipelineStore` in a table keyed by id, act
on the marked pipelines (else the highlighted one) through ``app.perform_action``, grey out the
action keys that do not apply to that selection (``check_action``), and say why when a greyed key
is pressed anyway (Textual would ignore it silently). The screens keep their own bindings, layout
and data; this base holds the selection, the marks, the greying and the hand-over to the app.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from opstui.api import Pipeline
from opstui.tui.actions import Performed
from opstui.tui.format import safe_text
from opstui.tui.keymap import Bound
from opstui.tui.screens._explain import READ_ONLY, ExplainingScreen
from opstui.tui.screens._selection import applicable, representatives, why_none_applies
from opstui.tui.store import LivePhase, LiveState, PipelinesChanged, PipelineStore
from opstui.tui.widgets.status_bar import StatusBar
from opstui.tui.widgets.vtable import RowState, VirtualTable

if TYPE_CHECKING:
    from opstui.tui.app import OpstuiApp

__all__ = [
    "CURSOR_BINDINGS",
    "CURSOR_KEYS",
    "TOP_BOTTOM_KEYS",
    "ActingScreen",
    "StoreRows",
    "representatives",
]

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


class StoreRows(Mapping[str, Pipeline]):
    """The store's pipelines by id, read live: a table given this never holds an old copy (the
    store replaces its mapping on each refresh)."""

    def __init__(self, store: PipelineStore) -> None:
        self._store = store

    def __getitem__(self, key: str) -> Pipeline:
        return self._store.pipelines[key]

    def get(self, key: str, default: Pipeline | None = None) -> Pipeline | None:  # type: ignore[override]
        return self._store.pipelines.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.pipelines)

    def __len__(self) -> int:
        return len(self._store.pipelines)


class ActingScreen(ExplainingScreen):
    """A screen of pipelines whose keys act on the marked pipelines, else the highlighted one.

    A subclass provides :attr:`ACTIONS` (its action keys and the API action each performs), the
    :attr:`table`, and the hooks :meth:`_marks_changed` and :meth:`_refresh_empty`.
    """

    ACTIONS: ClassVar[dict[str, str]] = {}
    """Screen action -> the API action it performs (through the one path)."""

    available: reactive[frozenset[str]] = reactive(frozenset(), bindings=True, repaint=False)
    """The action keys that apply to the selection now (the others are greyed in the footer).

    No repaint of the whole screen (a reactive's default): the footer alone shows them, and the
    bindings refresh updates it; a full repaint on every cursor move cost more than the move.

    A set of names rather than the selection itself, so moving the cursor between two rows where
    the same keys apply does not rebuild the footer.
    """

    def __init__(self, store: PipelineStore) -> None:
        super().__init__()
        self.store = store
        self.marked: set[str] = set()
        self._marks_version = 0
        self._interest_pending = False
        self._interest_said: tuple[tuple[str, ...], int] | None = None
        self._judged: tuple[int, object] | None = None
        """The marks and the store's pipelines the keys were last judged on."""

    @property
    def opstui(self) -> OpstuiApp:
        """The app, typed."""
        return cast("OpstuiApp", self.app)

    @property
    def table(self) -> VirtualTable[Pipeline]:
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
        """Subscribe to the store's changes, the live state and the app's finished actions;
        tell the store which rows are on screen when the table has scrolled."""
        self.store.changed.subscribe(self, self._on_pipelines_changed)
        self.store.live.subscribe(self, self._on_live)
        self.opstui.action_done.subscribe(self, self._on_action_done)
        self.watch(self.table, "scroll_y", self._interest_soon, init=False)

    def on_unmount(self) -> None:
        # A signal's subscriber list holds the screen strongly (its callback closes over it)
        # until the next publish: a popped screen lets go now, not at the next refresh.
        self.store.changed.unsubscribe(self)
        self.store.live.unsubscribe(self)
        self.opstui.action_done.unsubscribe(self)
        self.store.set_interest(self, ())

    def row_state(self, key: str) -> RowState:
        """How the row of ``key`` is shown besides its cells (read by the table at paint time)."""
        return RowState.MARKED if key in self.marked else RowState.NONE

    # -- what the store should read first -------------------------------------------------

    def _tell_interest(self) -> None:
        """Tell the store the rows on screen and the marks (once per change of either)."""
        self._interest_pending = False
        if not self.is_attached:
            return
        visible = tuple(self.table.visible_keys)
        said = (visible, self._marks_version)
        if said != self._interest_said:
            self._interest_said = said
            self.store.set_interest(self, self.marked.union(visible))

    def _interest_soon(self) -> None:
        """The view scrolled or the cursor moved: tell the store once the screen has been
        painted (a held key moves many rows a frame; the store hears once a frame at most)."""
        if not self._interest_pending:
            self._interest_pending = True
            self.call_after_refresh(self._tell_interest)

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
            self._drop_marks(done.succeeded)
            self._show()

    def _show(self) -> None:
        """Bring the table, the messages and the selection up to date (provided by subclasses)."""
        raise NotImplementedError

    # -- selection and what applies to it -------------------------------------------------

    def selected(self) -> list[Pipeline]:
        """The marked pipelines (in the server's order), else the highlighted one."""
        pipelines = self.store.pipelines
        if self.marked:
            marked = self.marked
            return [pipeline for key, pipeline in pipelines.items() if key in marked]
        cursor = self.table.cursor_key
        return [pipelines[cursor]] if cursor is not None and cursor in pipelines else []

    def _update_selection(self) -> None:
        """Which action keys apply to the selection (the rule of :meth:`_why_not`).

        Judged on one pipeline per kind (``why_not`` reads only status and active), and done
        as soon as every key applies: ten thousand marked cost one pass at most, not one rule
        check per action per pipeline; and nothing when neither the marks nor the data moved.
        """
        pipelines = self.store.pipelines
        items: Iterable[Pipeline]
        if self.marked:
            # The marks are the selection: a new sort, filter or cursor changes nothing of it.
            judged = self._judged
            if judged is not None and judged[0] == self._marks_version and judged[1] is pipelines:
                return
            self._judged = (self._marks_version, pipelines)
            marked = self.marked
            count = len(marked) - len(marked.difference(pipelines.keys()))
            items = (pipelines[key] for key in marked if key in pipelines)
        else:
            self._judged = None
            items = self.selected()
            count = len(items)
        self.available = applicable(self.ACTIONS, items, count)

    @on(VirtualTable.CursorMoved)
    def _cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        # With marks, the selection is the marks: the cursor changes nothing of it.
        if not self.marked:
            self._update_selection()
        self._interest_soon()

    def refusal(self, action: str) -> str | None:
        """Every action key changes something: refused under a read-only profile."""
        return READ_ONLY if action in self.ACTIONS and self.read_only else None

    def why_disabled(self, action: str) -> str | None:
        """Why the action key ``action`` does nothing now, in a sentence; None if it applies."""
        refused = self.refusal(action)
        if refused:
            return refused
        items = self.selected()
        return self._why_not(action, representatives(items), len(items), items[:3])

    def _why_not(
        self,
        action: str,
        kinds: Sequence[Pipeline],
        count: int,
        first: Sequence[Pipeline] = (),
    ) -> str | None:
        """Why ``action`` applies to none of ``count`` selected pipelines, judged on ``kinds``
        (one of each kind); ``first`` are the first selected, named in the sentence."""
        if not count:
            return self.nothing_selected()
        return why_none_applies(action, self.ACTIONS[action], kinds, count, first)

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
        self._marks_version += 1
        self._marks_changed(toggled)
        self._update_selection()
        self._tell_interest()

    def _drop_marks(self, ids: Iterable[str]) -> None:
        """Unmark ``ids`` quietly (their rows left, or their action succeeded): no repaint."""
        if self.marked:
            before = len(self.marked)
            self.marked.difference_update(ids)
            if len(self.marked) != before:
                self._marks_version += 1

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted pipeline."""
        cursor = self.table.cursor_key
        if cursor is not None:
            self._set_marks(self.marked ^ {cursor})

    def action_mark_shown(self) -> None:
        """Mark every pipeline the table shows."""
        self._set_marks(self.marked.union(self.table.row_keys))

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

    @on(VirtualTable.Selected)
    def _row_selected(self, event: VirtualTable.Selected) -> None:
        event.stop()
        self.open_highlighted()

    def open_highlighted(self) -> None:
        """Open the details of the highlighted pipeline."""
        cursor = self.table.cursor_key
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
