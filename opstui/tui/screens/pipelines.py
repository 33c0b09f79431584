"""PipelinesScreen: every pipeline, live, with filters, quick views, sorting, marks and actions.

The screen never talks to the network. It shows what :class:`~opstui.tui.store.PipelineStore`
publishes and hands every mutating key to ``app.perform_action`` (the one path: dialog, status
re-check, one request, outcome, audit). A key that does not apply to the selection is greyed in
the footer (``check_action`` returns None) and, when pressed anyway, says why.
"""

from __future__ import annotations

import time
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Static

from opstui.api import Pipeline
from opstui.tui.actions import Performed
from opstui.tui.format import safe_text
from opstui.tui.screens._acting import ActingScreen, StoreRows
from opstui.tui.screens._keys import HelpSection
from opstui.tui.screens._pipeline_actions import PipelineActions
from opstui.tui.screens._pipelines_keys import ACTION_KEYS, PIPELINES_BINDINGS, PIPELINES_HELP
from opstui.tui.store import PipelinesChanged, PipelineStore
from opstui.tui.widgets.filter_bar import FilterBar, FilterInput
from opstui.tui.widgets.footer import KeysFooter
from opstui.tui.widgets.pipeline_table import ARROWS, PipelineTable
from opstui.tui.widgets.pipeline_view import (
    NATURAL_DESCENDING,
    QUICK_VIEWS,
    SORT_KEYS,
    SORT_NAMES,
    PipelineView,
    QuickView,
    SortKey,
    sort_pipelines,
)
from opstui.tui.widgets.vtable import RowState

__all__ = [
    "ACTION_KEYS",
    "QUICK_VIEWS",
    "SORT_KEYS",
    "PipelinesScreen",
    "QuickView",
    "sort_pipelines",
]

CHANGE_HIGHLIGHT_SECONDS = 2.0
"""How long a row whose state just changed stays highlighted."""

RETIME_SECONDS = 15.0
"""How often the relative times are brought up to date when nothing else changed."""

SORTED_BY_WIDTH = max(len(f"sorted by {name} ^") for name in SORT_NAMES.values())
"""The widest ``sorted by ...`` (its place keeps one width: another sort lays nothing out)."""


class PipelinesScreen(PipelineActions, ActingScreen):
    """The main screen: the pipelines table between a status line and the footer.

    Its action keys (:class:`PipelineActions`) act on the marked pipelines, else the highlighted
    one (:meth:`ActingScreen.perform`)."""

    ACTIONS = ACTION_KEYS

    BINDINGS: ClassVar[list[BindingType]] = PIPELINES_BINDINGS

    KEY_HELP: ClassVar[list[HelpSection]] = PIPELINES_HELP
    """The key reference shown by ``?``."""

    def __init__(self, store: PipelineStore, *, quick: QuickView = "all") -> None:
        super().__init__(store)
        self.quick: QuickView = quick
        self.filter_text = ""
        self.sort_key: SortKey = "name"
        self.sort_descending = False
        self.view = PipelineView()
        """The ids shown, in order (quick view, filter and sort, kept cheap at scale)."""
        self._changed: dict[str, float] = {}
        self._highlight_timer: Timer | None = None
        self._focus_when_shown: str | None = None
        self._filter_pending = False

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self._status_bar()
        with Vertical(id="table-area"):
            yield PipelineTable(
                rows=StoreRows(self.store),
                row_state=self.row_state,
                now=self.opstui.now,
                id="pipelines",
            )
            yield Static(id="empty", markup=False)
        yield FilterBar(id="filter-bar")
        yield KeysFooter()

    @property
    def table(self) -> PipelineTable:
        """The pipelines table."""
        return self.query_one(PipelineTable)

    @property
    def filter_bar(self) -> FilterBar:
        """The line under the table."""
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        self._follow()
        self.table.set_sort(self.sort_key, self.sort_descending)
        self.table.focus()
        self._set_view()
        self.view.sync(self.store.pipelines)
        self._show()
        # Relative times ("5m ago") age even when no data changes (paused, offline).
        self.set_interval(RETIME_SECONDS, self._retime)

    def row_state(self, key: str) -> RowState:
        """Marked, and just changed (highlighted for a moment), read at paint time."""
        state = RowState.MARKED if key in self.marked else RowState.NONE
        if key in self._changed:
            state |= RowState.CHANGED
        return state

    # -- data -----------------------------------------------------------------------------

    def _on_pipelines_changed(self, change: PipelinesChanged) -> None:
        if not change.first and change.status_changed:
            deadline = time.monotonic() + CHANGE_HIGHLIGHT_SECONDS
            for pipeline_id in change.status_changed:
                self._changed[pipeline_id] = deadline
            self._arm_highlights()
        if change.removed:  # only for a pipeline known gone (a 404, a complete list, a delete)
            self._drop_marks(change.removed)
        if change.first:
            touched = self.view.sync(change.pipelines)
        else:
            touched = self.view.update(
                change.pipelines, change.updated | change.added | change.removed
            )
        self.table.retime(self.opstui.now())  # what landed is shown against the time it landed
        self.table.apply(changed=touched, order=self.view.order)
        self._after_view()
        if self._focus_when_shown and self.table.move_cursor(key=self._focus_when_shown):
            self._focus_when_shown = None

    def _refresh_empty(self) -> None:
        if not self.store.loaded:
            self._show_empty(True)

    def _on_action_done(self, done: Performed) -> None:
        super()._on_action_done(done)
        if done.created is not None:
            self._focus_when_shown = done.created.id

    def _arm_highlights(self) -> None:
        """One timer for every highlight, due when the earliest ends (never one per refresh)."""
        if self._highlight_timer is not None:
            self._highlight_timer.stop()
            self._highlight_timer = None
        if self._changed:
            # Never 0: a Textual timer of no interval divides by it when the loop runs late.
            wait = max(0.05, min(self._changed.values()) - time.monotonic())
            self._highlight_timer = self.set_timer(wait, self._end_highlights)

    def _end_highlights(self) -> None:
        self._highlight_timer = None
        now = time.monotonic()
        ended = {key for key, deadline in self._changed.items() if deadline <= now + 0.05}
        for pipeline_id in ended:
            del self._changed[pipeline_id]
        self.table.refresh_keys(ended)
        self._arm_highlights()

    def _retime(self) -> None:
        self.table.retime(self.opstui.now())

    def view_pipelines(self) -> list[Pipeline]:
        """The pipelines the view shows: quick view, then filter, then sort."""
        pipelines = self.store.pipelines
        return [pipelines[key] for key in self.view.order if key in pipelines]

    def _set_view(self) -> bool:
        """Give the view the quick view, filter and sort; True when its order may have moved."""
        return self.view.set_view(
            status=QUICK_VIEWS[self.quick].status,
            words=self.filter_text.casefold().split(),
            sort=self.sort_key,
            descending=self.sort_descending,
        )

    def _show(self) -> None:
        """Bring the table, the empty state, the summary and the selection up to date."""
        self._set_view()
        self.table.set_order(self.view.order)
        self._after_view()

    def _after_view(self) -> None:
        self._show_empty(not self.view.order)
        self._update_summary()
        self._update_selection()
        self._tell_interest()

    def _show_empty(self, empty: bool) -> None:
        message = self.query_one("#empty", Static)
        message.display = empty
        if not empty:
            return
        loading = self.loading_text()
        if loading is not None:
            text = loading
        elif not self.store.pipelines:
            text = QUICK_VIEWS["all"].empty
        elif self.filter_text:
            text = "No pipelines match the filter. escape clears it."
        else:
            text = QUICK_VIEWS[self.quick].empty + " 1 shows all."
        message.update(text)

    def _update_summary(self) -> None:
        count = len(self.view)
        total = len(self.store.pipelines)
        view = QUICK_VIEWS[self.quick]
        left = Text()
        left.append(view.title, style="bold")
        left.append(f" · {count}" if count == total else f" · {count} of {total}")
        if self.filter_text:
            left.append(" · filter ")
            left.append(f'"{safe_text(self.filter_text, 40)}"', style="bold")
        if self.marked:
            marked = self.marked
            hidden = len(marked.difference(self.view.shown))
            left.append(f" · {len(marked)} marked", style="bold")
            if hidden:
                left.append(f" ({hidden} not shown)")
        arrow = ARROWS[1 if self.sort_descending else 0]
        right = Text(f"sorted by {SORT_NAMES[self.sort_key]} {arrow}")
        self.filter_bar.set_summary(left, right, right_width=SORTED_BY_WIDTH)

    # -- marks ----------------------------------------------------------------------------

    def _marks_changed(self, toggled: set[str]) -> None:
        self.table.refresh_keys(toggled)
        self._update_summary()

    # -- filter, views, sort --------------------------------------------------------------

    def action_filter(self) -> None:
        """Open the filter field."""
        self.filter_bar.open(self.filter_text)

    @on(Input.Changed, "FilterInput")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        # Keys typed while a filter is applied queue up: one pass takes the newest text, and
        # no key is lost (the field holds every one).
        if not self._filter_pending:
            self._filter_pending = True
            self.call_later(self._apply_filter)

    def _apply_filter(self) -> None:
        self._filter_pending = False
        value = self.query_one(FilterInput).value
        if value != self.filter_text:
            self.filter_text = value
            self._show()

    @on(Input.Submitted, "FilterInput")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply_filter()
        self.filter_bar.close()
        self.table.focus()

    def action_clear_filter(self) -> None:
        """Clear the filter (and close its field); if there is none, go back to all pipelines."""
        editing = self.filter_bar.editing
        if editing:
            self.filter_bar.close()
            self.table.focus()
        if self.filter_text or self.query_one(FilterInput).value:
            self.filter_text = ""
            self.query_one(FilterInput).value = ""
            self._show()
        elif not editing and self.quick != "all":
            self.action_quick_view("all")

    def action_quick_view(self, view: str) -> None:
        """Show one state only (or all)."""
        for quick in QUICK_VIEWS:
            if quick == view:
                self.quick = quick
                self._show()

    def action_next_sort(self) -> None:
        """Sort by the next key (name, state, last run, run number), in its natural direction."""
        key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]
        self._sort(key, NATURAL_DESCENDING[key])

    def action_reverse_sort(self) -> None:
        """Reverse the current sort."""
        self._sort(self.sort_key, not self.sort_descending)

    def _sort(self, key: SortKey, descending: bool) -> None:
        self.sort_key, self.sort_descending = key, descending
        self.table.set_sort(key, descending)
        self._show()

    # -- elsewhere ------------------------------------------------------------------------

    def action_tasks(self) -> None:
        """Switch to the tasks."""
        self.opstui.open_tasks()

    def action_approvals(self) -> None:
        """Switch to the approvals inbox."""
        self.opstui.open_approvals()
