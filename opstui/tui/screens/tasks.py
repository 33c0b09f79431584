"""Every task of the tenant in one table, refreshed live, with run and stop.

The screen holds no client: it watches the app's task feed while it is shown (the feed polls
only then) and shows what the feed's store publishes, applying each change by key (only the
rows that changed are painted again; the cursor and the marks never move because of a refresh;
a task that appears later is added at the end). ``r`` and ``s`` act on the marked tasks (one
batch) or, when none is marked, on the highlighted one, through the app's ``perform_action``;
then the feed reads those tasks' status.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from opstui.api import PipelineStatus, Task
from opstui.api.rules import why_not
from opstui.tui.actions import Performed
from opstui.tui.data.tasks import TasksChanged, TaskSource, newest_first
from opstui.tui.format import STATUS_ORDER, duration, relative, safe_text, since
from opstui.tui.keymap import Bound
from opstui.tui.screens._explain import READ_ONLY, ExplainingScreen
from opstui.tui.screens._hosting import (
    hand_over,
    status_bar,
    subscribe_action_done,
    unsubscribe_action_done,
)
from opstui.tui.screens._keys import APP_HELP, HelpSection
from opstui.tui.store import LivePhase, LiveState
from opstui.tui.widgets.footer import KeysFooter
from opstui.tui.widgets.status_bar import Tenant, skipped_text, tenant_text
from opstui.tui.widgets.task_table import TaskTable
from opstui.tui.widgets.vtable import RowState, VirtualTable

__all__ = ["TASK_KEY_ACTIONS", "TasksScreen", "live_words"]

TASK_KEY_ACTIONS: tuple[str, ...] = ("run", "stop")
"""The actions the tasks screen's keys ask the app for."""


def live_words(state: LiveState, now: datetime) -> Text:
    """``updated just now``, ``loading…``, or ``offline · retrying in 5s · last update 4s ago ·
    <why>`` (``token refused`` instead of ``offline`` when the server refused the token)."""
    if state.phase in (LivePhase.OFFLINE, LivePhase.REFUSED):
        wait = 0.0 if state.retry_at is None else (state.retry_at - now).total_seconds()
        word = "token refused" if state.phase is LivePhase.REFUSED else "offline"
        line = Text(f"{word} · retrying in {duration(max(0, math.ceil(wait)))}")
        if state.updated_at is not None:
            line.append(f" · last update {relative(state.updated_at, now)}")
        if state.error:
            line.append(" · ")
            line.append(safe_text(state.error, 80), style="dim")
        return line
    if state.updated_at is None:
        return Text("loading…")
    return Text(f"updated {since(state.updated_at, now)}")


class TasksScreen(ExplainingScreen):
    """All tasks, refreshed live; run or stop the highlighted or marked ones."""

    MUTATING = frozenset(TASK_KEY_ACTIONS)

    DEFAULT_CSS = """
    TasksScreen {
        layout: vertical;
    }
    TasksScreen #tasks-heading {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    TasksScreen #tasks-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    TasksScreen #tasks-status.-offline {
        color: $text-warning;
        text-style: bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("t", "back", "Pipelines", id="pipelines"),
        Binding("r", "run", "Run", id="run"),
        Binding("s", "stop", "Stop", id="stop"),
        Binding("space", "toggle_mark", "Mark", id="mark"),
        Binding("u", "clear_marks", "Unmark all", id="unmark", show=False),
        Binding("ctrl+r", "refresh_now", "Refresh now", id="refresh", show=False),
    ]
    """Binding ids match the pipelines screen's, so one keymap entry remaps a key on both."""

    KEY_HELP: ClassVar[list[HelpSection]] = [
        (
            "Move and look",
            [
                ("up/down", "Move the cursor"),
                ("pgup/pgdn", "A page up / down"),
                (Bound(("pipelines", "back")), "Back to the pipelines"),
            ],
        ),
        (
            "Act (on the marked tasks, else the highlighted one)",
            [
                (Bound(("mark",)), "Mark or unmark the highlighted task"),
                (Bound(("unmark",)), "Unmark all"),
                (Bound(("run",)), "Run"),
                (Bound(("stop",)), "Stop"),
            ],
        ),
        ("Live refresh", [(Bound(("refresh",)), "Refresh now")]),
        APP_HELP,
    ]
    """The key reference the app's help (``?``) shows on this screen."""

    def __init__(
        self,
        feed: TaskSource,
        *,
        now: Callable[[], datetime],
        tenant: Tenant | None = None,
    ) -> None:
        super().__init__()
        self.feed = feed
        """Where the tasks come from (the store, and when to read): never the client."""
        self.store = feed.store
        self.now = now
        self.tenant = tenant
        """The server, named in the heading."""
        self.marked: set[str] = set()
        """Ids of the tasks marked for a batch."""
        self._order: list[str] = []
        self._place: dict[str, int] = {}
        self._tally = Text()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        heading = Text("Tasks")
        if self.tenant is not None:
            heading = Text.assemble(tenant_text(self.tenant, server_style=""), " · ", heading)
        yield Static(heading, id="tasks-heading", markup=False)
        yield TaskTable(
            rows=self.store.tasks, row_state=self._row_state, now=self.now, id="tasks-table"
        )
        yield Static(id="tasks-status", markup=False)
        yield KeysFooter(compact=True)

    @property
    def table(self) -> TaskTable:
        """The task table."""
        return self.query_one(TaskTable)

    @property
    def tasks(self) -> dict[str, Task]:
        """Every task as last seen, by id (the store's own: read it, do not change it)."""
        return self.store.tasks

    @property
    def order(self) -> list[str]:
        """The ids shown, top to bottom."""
        return self._order

    def on_mount(self) -> None:
        self.store.changed.subscribe(self, self._changed)
        self.store.live.subscribe(self, self._live)
        subscribe_action_done(self, self._action_done)
        if self.store.tasks:  # shown again: what is known, at once, while a list is on its way
            self._show(TasksChanged(self.store.tasks, added=frozenset(self.store.tasks)))
        self._render_status()
        self.table.focus()
        self.set_interval(1.0, self._tick, name="tasks-tick")
        self.feed.watch(self)

    def on_unmount(self) -> None:
        self.feed.unwatch(self)
        self.store.changed.unsubscribe(self)
        self.store.live.unsubscribe(self)
        unsubscribe_action_done(self)

    # -- live refresh ---------------------------------------------------------------------

    def refresh_now(self) -> None:
        """List the tasks now, instead of waiting for the next poll."""
        self.feed.refresh()

    def _changed(self, change: TasksChanged) -> None:
        if self.on_stack:
            self._show(change)

    def _live(self, state: LiveState) -> None:
        self._render_status()

    def _tick(self) -> None:
        """Keep the relative times (last run, updated) current: a repaint of the rows shown."""
        self.table.retime(self.now())
        self._render_status()

    def _show(self, change: TasksChanged) -> None:
        """Apply ``change`` by key: changed rows painted again, new ones at the end, gone ones
        (and their marks) out; the cursor stays on its task."""
        table = self.table
        order: list[str] | None = None
        if change.added or change.removed:
            fresh = self._place.keys()
            kept = [key for key in self._order if key not in change.removed]
            new = (change.tasks[key] for key in change.added if key not in fresh)
            order = kept + newest_first(new)
            self._order = order
            self._place = {key: index for index, key in enumerate(order)}
            self.marked -= change.removed
        table.apply(changed=change.changed, removed=change.removed, order=order)
        if change.changed or change.removed:
            self._count()
        self._render_status()
        self.refresh_bindings()

    def _count(self) -> None:
        tally: dict[PipelineStatus, int] = {}
        for task in self.store.tasks.values():
            tally[task.status] = tally.get(task.status, 0) + 1
        counts = Text(f"{len(self.store.tasks)} tasks")
        for state in sorted(tally, key=STATUS_ORDER.__getitem__):
            counts.append(f" · {tally[state]} {state.value}")
        self._tally = counts

    def _render_status(self) -> None:
        """Counts at the left; the live state (``updated just now``, ``offline · …``) at the right."""
        if not self.on_stack:
            return
        status = self.query_one("#tasks-status", Static)
        counts = Text()
        if self.store.tasks:
            if self.marked:
                counts.append(f"{len(self.marked)} marked", style="bold")
                counts.append(" · ")
            counts.append_text(self._tally)
        elif self.store.loaded:
            counts.append("no tasks", style="dim")
        state = self.store.state
        live = live_words(state, self.now())
        if self.store.skipped:  # on the right, which always shows whole
            live = Text.assemble((skipped_text(self.store.skipped, "task"), "bold"), " · ", live)
        status.update(status_bar(counts, live))
        status.set_class(state.phase in (LivePhase.OFFLINE, LivePhase.REFUSED), "-offline")

    # -- selection and actions ------------------------------------------------------------

    def _row_state(self, key: str) -> RowState:
        return RowState.MARKED if key in self.marked else RowState.NONE

    @property
    def highlighted(self) -> Task | None:
        """The task under the cursor."""
        key = self.table.cursor_key
        return None if key is None else self.store.tasks.get(key)

    def targets(self) -> list[Task]:
        """The marked tasks, in table order; or else the highlighted one."""
        if self.marked:
            tasks, place, last = self.store.tasks, self._place, len(self._place)
            chosen = sorted(self.marked & tasks.keys(), key=lambda key: place.get(key, last))
            return [tasks[key] for key in chosen]
        task = self.highlighted
        return [] if task is None else [task]

    def why_not(self, action: str) -> str | None:
        """Why ``action`` applies to none of the targets; None when it applies to one at least."""
        targets = self.targets()
        if not targets:
            return "needs a task: none is highlighted"
        reasons = [why_not(action, task) for task in targets]
        if any(reason is None for reason in reasons):
            return None
        if len(targets) == 1:
            return f"{safe_text(targets[0].name or targets[0].id, 60)} {reasons[0]}"
        return (
            f"none of the {len(targets)} marked tasks can {action}: "
            + "; ".join(
                f"{safe_text(task.name or task.id, 40)} {reason}"
                for task, reason in zip(targets[:3], reasons[:3], strict=True)
            )
            + ("…" if len(targets) > 3 else "")
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out run and stop when they apply to none of the targets."""
        if action in TASK_KEY_ACTIONS:
            return None if self.refusal(action) or self.why_not(action) else True
        return True

    def reason_for_key(self, action: str) -> str | None:
        """Why run or stop does nothing now, as a sentence; None if it applies."""
        refused = self.refusal(action)
        if refused is not None:
            return refused
        reason = self.why_not(action) if action in TASK_KEY_ACTIONS else None
        return None if reason is None else f"{reason[0].upper()}{reason[1:]}."

    def _action_done(self, done: Performed) -> None:
        """The app finished an action: if it touched tasks, read their status now."""
        if done.sent and done.kind == "task":
            # A batch done is not the next key's batch too; but the marks of the tasks that
            # failed, or whose outcome is unknown, stay: to retry them.
            self._set_marks(self.marked - set(done.succeeded))
            self.feed.refresh(done.sent)

    @on(VirtualTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self.refresh_bindings()

    @on(VirtualTable.Selected)
    def _selected(self, event: VirtualTable.Selected) -> None:
        event.stop()  # enter: a task has no details screen; nothing to open

    def _request(self, action: str) -> None:
        """Hand the action to the app (the feed reads the tasks when ``action_done`` says so)."""
        if self.read_only:
            self.explain(READ_ONLY)
            return
        targets = self.targets()
        if targets:
            hand_over(self, action, targets)

    def _set_marks(self, marked: Iterable[str]) -> None:
        """Mark exactly ``marked``: the rows whose mark changed are painted again."""
        fresh = set(marked)
        if fresh == self.marked:
            return
        moved = fresh ^ self.marked
        self.marked = fresh
        self.table.refresh_keys(moved)
        self._render_status()
        self.refresh_bindings()

    def action_run(self) -> None:
        """Run the marked tasks, or the highlighted one."""
        self._request("run")

    def action_stop(self) -> None:
        """Stop the marked tasks, or the highlighted one."""
        self._request("stop")

    def action_toggle_mark(self) -> None:
        """Mark or unmark the highlighted task, and move down."""
        task = self.highlighted
        if task is None:
            return
        self._set_marks(self.marked ^ {task.id})
        table = self.table
        table.move_cursor(row=table.cursor_row + 1)

    def action_clear_marks(self) -> None:
        """Unmark every task."""
        self._set_marks(())

    def action_refresh_now(self) -> None:
        """List the tasks now."""
        self.refresh_now()

    def action_back(self) -> None:
        """Back to the pipelines."""
        if self.app.screen is not self:
            return  # a second escape typed ahead: this screen is on its way out already
        self.app.pop_screen()
