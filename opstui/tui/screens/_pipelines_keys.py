"""The pipelines screen's keys: what each key is bound to, and how ``?`` explains them.

Tables only (what the keys do is :class:`~opstui.tui.screens.pipelines.PipelinesScreen`'s): the
bindings, with the ids ``[keymap]`` remaps them by, and the key reference, which reads its keys
from those bindings (:class:`~opstui.tui.keymap.Bound`).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from opstui.tui.keymap import Bound
from opstui.tui.screens._acting import CURSOR_BINDINGS, CURSOR_KEYS, TOP_BOTTOM_KEYS
from opstui.tui.screens._keys import (
    ACTION_BINDINGS,
    ACTION_HELP,
    ACTION_KEYS,
    APP_HELP,
    LIVE_HELP,
    HelpSection,
)

__all__ = ["ACTION_KEYS", "PIPELINES_BINDINGS", "PIPELINES_HELP"]

PIPELINES_BINDINGS: list[BindingType] = [
    *ACTION_BINDINGS,
    Binding("space", "toggle_mark", "Mark", id="mark", show=False),
    Binding("asterisk", "mark_shown", "Mark all shown", id="mark-shown", show=False),
    Binding("u", "clear_marks", "Unmark all", id="unmark", show=False),
    Binding("slash", "filter", "Filter", id="filter"),
    Binding("escape", "clear_filter", "Clear filter", id="clear-filter", show=False),
    Binding("1", "quick_view('all')", "All", id="view-all", show=False),
    Binding("2", "quick_view('awaiting')", "Awaiting approval", id="view-awaiting", show=False),
    Binding("3", "quick_view('running')", "Running", id="view-running", show=False),
    Binding("4", "quick_view('failed')", "Failed", id="view-failed", show=False),
    Binding("o", "next_sort", "Sort", id="sort", show=False),
    Binding("O", "reverse_sort", "Reverse sort", id="reverse-sort", show=False),
    Binding("p", "toggle_pause", "Pause", id="pause", show=False),
    Binding("ctrl+r", "refresh_now", "Refresh now", id="refresh", show=False),
    Binding("t", "tasks", "Tasks", id="tasks", show=False),
    Binding("A", "approvals", "Approvals", id="approvals", show=False),
    *CURSOR_BINDINGS,
]
"""Every key of the pipelines screen (the table's own arrows and ``enter`` aside)."""

PIPELINES_HELP: list[HelpSection] = [
    (
        "Move and look",
        [
            (CURSOR_KEYS, "Move the cursor"),
            (TOP_BOTTOM_KEYS, "First / last pipeline"),
            ("pgup/pgdn", "A page up / down"),
            ("enter", "Open the pipeline's details"),
            (Bound(("tasks",)), "Tasks"),
            (Bound(("approvals",)), "Approvals inbox: the gates, longest waiting first"),
        ],
    ),
    (
        "Choose what is shown",
        [
            (Bound(("filter",)), "Filter by name, id, owner or tag (enter keeps it)"),
            (Bound(("clear-filter",)), "Clear the filter, then the quick view"),
            (
                Bound(("view-all", "view-awaiting", "view-running", "view-failed"), " "),
                "All / awaiting approval / running / failed",
            ),
            (Bound(("sort",)), "Sort by the next column: name, state, last run, run number"),
            (Bound(("reverse-sort",)), "Reverse the sort"),
        ],
    ),
    (
        "Act (on the marked pipelines, else the highlighted one)",
        [
            (Bound(("mark",)), "Mark or unmark the highlighted pipeline"),
            (Bound(("mark-shown",)), "Mark every pipeline shown"),
            (Bound(("unmark",)), "Unmark all"),
            *ACTION_HELP,
        ],
    ),
    LIVE_HELP,
    APP_HELP,
]
"""The key reference shown by ``?``."""
