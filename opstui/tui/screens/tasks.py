"""Every task of the tenant in one table, refreshed live, with run and stop.

The refresh follows the details screen's pattern: a one-shot timer starts a worker that lists the
tasks (one request), the rows are updated in place by key, and the timer is re-armed; the cursor
and the marks never move because of a refresh. ``r`` and ``s`` act on the marked tasks (one batch)
or, when none is marked, on the highlighted one, through the app's ``perform_action``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.timer import Timer
from textual.widgets import DataTable, Static
from textual.widgets.data_table import CellDoesNotExist, RowKey

from opstui.api import Listing, OpseraClient, OpseraError, PipelineStatus, Task
from opstui.api.rules import why_not
from opstui.tui.actions import Performed
from opstui.tui.format import STATUS_ORDER, relative, safe_text, status_text
from opstui.tui.keymap import Bound
from opstui.tui.screens._explain import READ_ONLY, ExplainingScreen
from opstui.tui.screens._keys import APP_HELP, HelpSection
from opstui.tui.screens.details import (
    LiveStatus,
    hand_over,
    status_bar,
    subscribe_action_done,
    unsubscribe_action_done,
)
from opstui.tui.widgets.footer import KeysFooter
from opstui.tui.widgets.status_bar import Tenant, skipped_text, tenant_text

__all__ = ["TASK_KEY_ACTIONS", "TaskTable", "TasksScreen", "column_widths"]

TASK_KEY_ACTIONS: tuple[str, ...] = ("run", "stop")
"""The actions the tasks screen's keys ask the app for."""

MARK = "*"
"""The mark of a task chosen for a batch (plain ASCII, so it reads on any terminal)."""

COLUMNS: tuple[tuple[str, str], ...] = (
    ("mark", " "),
    ("state", "state"),
    ("name", "name"),
    ("type", "type"),
    ("runs", "runs"),
    ("last", "last run"),
    ("owner", "owner"),
)
"""Column keys and labels, in order."""

_FIXED = {"mark": 1, "state": 7, "runs": 4, "last": 8}
_FLEX = ("name", "type", "owner")
_MIN_FLEX = {"name": 12, "type": 8, "owner": 8}


def column_widths(width: int, natural: dict[str, int]) -> dict[str, int]:
    """Column widths for a table ``width`` cells wide, given each flexible column's natural width.

    Fixed columns keep their width; name, type and owner share the rest: the name first (it is
    what the operator looks for), then type and owner in proportion; what does not fit is cut
    with an ellipsis.
    """
    padding = 2 * len(COLUMNS)
    scrollbar = 2
    room = max(0, width - padding - scrollbar - sum(_FIXED.values()))
    wants = {key: max(natural.get(key, 0), len(label)) for key, label in COLUMNS if key in _FLEX}
    widths = dict(_FIXED)
    if sum(wants.values()) <= room:
        widths.update(wants)
        return widths
    others = _MIN_FLEX["type"] + _MIN_FLEX["owner"]
    name = max(_MIN_FLEX["name"], min(wants["name"], room - others))
    rest = max(others, room - name)
    type_width = max(_MIN_FLEX["type"], rest * wants["type"] // (wants["type"] + wants["owner"]))
    owner = max(_MIN_FLEX["owner"], rest - type_width)
    widths.update(name=name, type=type_width, owner=owner)
    return widths


def _cut(text: Text) -> Text:
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


@dataclass(frozen=True)
class _Row:
    """What one task's row shows, to compare before touching a cell."""

    mark: str
    state: PipelineStatus
    name: str
    type: str
    runs: int
    last: str
    owner: str


class TaskTable(DataTable[Text]):
    """The task table: one row per task, keyed by its id."""

    DEFAULT_CSS = """
    TaskTable {
        height: 1fr;
    }
    """


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
        *,
        client: OpseraClient,
        now: Callable[[], datetime],
        refresh: float = 5.0,
        tenant: Tenant | None = None,
    ) -> None:
        super().__init__()
        self.tenant = tenant
        """The server, named in the heading."""
        self.client = client
        self.now = now
        self.refresh_interval = refresh
        self.tasks: dict[str, Task] = {}
        """The tasks as last seen, by id, in table order."""
        self.marked: set[str] = set()
        """Ids of the tasks marked for a batch."""
        self.live = LiveStatus()
        """The live refresh's state, for the status line."""
        self.skipped = 0
        """Records the last list could not read (left out, counted)."""
        self._shown: dict[str, _Row] = {}
        self._widths: dict[str, int] = {}
        self._timer: Timer | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        heading = Text("Tasks")
        if self.tenant is not None:
            heading = Text.assemble(tenant_text(self.tenant, server_style=""), " · ", heading)
        yield Static(heading, id="tasks-heading", markup=False)
        table = TaskTable(id="tasks-table", cursor_type="row", zebra_stripes=False)
        yield table
        yield Static(id="tasks-status", markup=False)
        yield KeysFooter(compact=True)

    @property
    def table(self) -> TaskTable:
        """The task table."""
        return self.query_one(TaskTable)

    def on_mount(self) -> None:
        self._layout_columns(self.size.width)
        self._render_status()
        self.table.focus()
        self.set_interval(1.0, self._tick, name="tasks-tick")
        subscribe_action_done(self, self._action_done)
        self.refresh_now()

    def on_unmount(self) -> None:
        unsubscribe_action_done(self)

    def on_resize(self, event: events.Resize) -> None:
        self._layout_columns(event.size.width)

    def _natural_widths(self) -> dict[str, int]:
        rows = self._shown.values()
        return {
            "name": max((len(row.name) for row in rows), default=0),
            "type": max((len(row.type) for row in rows), default=0),
            "owner": max((len(row.owner) for row in rows), default=0),
        }

    def _layout_columns(self, width: int) -> None:
        """(Re)build the columns for ``width``; rows are put back, cursor kept, when they change."""
        widths = column_widths(width, self._natural_widths())
        if widths == self._widths:
            return
        self._widths = widths
        table = self.table
        cursor_key = self._cursor_key()
        table.clear(columns=True)
        for key, label in COLUMNS:
            table.add_column(Text(label, style="bold"), key=key, width=widths[key])
        for task_id, row in self._shown.items():
            table.add_row(*self._cells(row), key=task_id)
        self._restore_cursor(cursor_key)

    # -- live refresh ---------------------------------------------------------------------

    def refresh_now(self) -> None:
        """List the tasks now (after an action, say), instead of waiting for the timer."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._poll()

    def _arm(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(delay, self.refresh_now, name="tasks-poll")

    @work(exclusive=True, group="tasks-poll")
    async def _poll(self) -> None:
        """One poll: every task, in one request; re-arms the timer when done."""
        try:
            tasks = await self.client.list_tasks()
        except OpseraError as error:
            delay = self.live.failed(error, self.now(), self.refresh_interval)
            self._render_status()
            self._arm(delay)
            return
        self.live.succeeded(self.now())
        self.skipped = tasks.skipped if isinstance(tasks, Listing) else 0
        # Only a complete listing says that a task absent from it is gone.
        self._apply(
            sorted(tasks, key=_newest_first),
            complete=isinstance(tasks, Listing) and tasks.complete,
        )
        self._render_status()
        self._arm(self.refresh_interval)

    def _tick(self) -> None:
        """Keep the relative times (last run, updated) current between polls."""
        self._apply(list(self.tasks.values()))
        self._render_status()

    # -- rows -----------------------------------------------------------------------------

    def _row(self, task: Task) -> _Row:
        return _Row(
            mark=MARK if task.id in self.marked else "",
            state=task.status,
            name=safe_text(task.name or task.id, 80),
            type=safe_text(task.type, 60),
            runs=task.run_count,
            last=relative(task.last_run_completed, self.now()),
            owner=safe_text(task.owner_name or task.owner, 60),
        )

    @staticmethod
    def _cells(row: _Row) -> list[Text]:
        last_style = "dim" if row.last == "never" else ""
        return [
            Text(row.mark, style="bold"),
            _cut(status_text(row.state)),
            _cut(Text(row.name)),
            _cut(Text(row.type)),
            Text(str(row.runs), justify="right"),
            _cut(Text(row.last, style=last_style)),
            _cut(Text(row.owner)),
        ]

    def _apply(self, tasks: Sequence[Task], *, complete: bool = False) -> None:
        """Bring the table to ``tasks``: changed cells updated in place, new rows added at the end;
        with a ``complete`` listing, rows of tasks absent from it removed (otherwise they stay, as
        last seen, marks and all). The cursor stays on its task."""
        if not self.on_stack:
            return
        table = self.table
        cursor_key = self._cursor_key()
        fresh = {task.id: task for task in tasks}
        if complete:
            for task_id in [key for key in self._shown if key not in fresh]:
                table.remove_row(task_id)
                del self._shown[task_id]
                self.marked.discard(task_id)
        else:
            fresh = {**self.tasks, **fresh}
            tasks = list(fresh.values())
        for task in tasks:
            row = self._row(task)
            old = self._shown.get(task.id)
            if old is None:
                table.add_row(*self._cells(row), key=task.id)
            elif old != row:
                for (column, _), new_cell, old_value, new_value in zip(
                    COLUMNS, self._cells(row), _values(old), _values(row), strict=True
                ):
                    if old_value != new_value:
                        table.update_cell(task.id, column, new_cell)
            self._shown[task.id] = row
        self.tasks = {task_id: fresh[task_id] for task_id in self._shown}
        self._layout_columns(self.size.width)
        self._restore_cursor(cursor_key)
        self.refresh_bindings()

    def _cursor_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key
        except CellDoesNotExist:
            return None
        return key.value

    def _restore_cursor(self, key: str | None) -> None:
        table = self.table
        if key is None or key not in self._shown:
            return
        index = table.get_row_index(RowKey(key))
        if index != table.cursor_row:
            table.move_cursor(row=index, animate=False)

    def _render_status(self) -> None:
        if not self.on_stack:
            return
        """Counts at the left; the live state (``updated 3s ago``, ``offline · …``) at the right."""
        status = self.query_one("#tasks-status", Static)
        counts = Text()
        if self.tasks:
            tally: dict[PipelineStatus, int] = {}
            for task in self.tasks.values():
                tally[task.status] = tally.get(task.status, 0) + 1
            if self.marked:
                counts.append(f"{len(self.marked)} marked", style="bold")
                counts.append(" · ")
            counts.append(f"{len(self.tasks)} tasks")
            for state in sorted(tally, key=STATUS_ORDER.__getitem__):
                counts.append(" · ")
                counts.append(f"{tally[state]} {state.value}")
        elif self.live.updated is not None:
            counts.append("no tasks", style="dim")
        live = self.live.text(self.now())
        if self.skipped:  # on the right, which always shows whole
            live = Text.assemble((skipped_text(self.skipped, "task"), "bold"), " · ", live)
        status.update(status_bar(counts, live))
        status.set_class(self.live.offline, "-offline")

    # -- selection and actions ------------------------------------------------------------

    @property
    def highlighted(self) -> Task | None:
        """The task under the cursor."""
        key = self._cursor_key()
        return None if key is None else self.tasks.get(key)

    def targets(self) -> list[Task]:
        """The marked tasks, in table order; or else the highlighted one."""
        if self.marked:
            return [task for task_id, task in self.tasks.items() if task_id in self.marked]
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
        """The app finished an action: list again now if it touched tasks."""
        if done.sent and done.kind == "task":
            # A batch done is not the next key's batch too; but the marks of the tasks that
            # failed, or whose outcome is unknown, stay: to retry them.
            self.marked -= set(done.succeeded)
            self.refresh_now()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.refresh_bindings()

    def _request(self, action: str) -> None:
        """Hand the action to the app (the screen lists again when ``action_done`` says so)."""
        if self.read_only:
            self.explain(READ_ONLY)
            return
        targets = self.targets()
        if targets:
            hand_over(self, action, targets)

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
        if task.id in self.marked:
            self.marked.discard(task.id)
        else:
            self.marked.add(task.id)
        self._apply(list(self.tasks.values()))
        self._render_status()
        table = self.table
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def action_clear_marks(self) -> None:
        """Unmark every task."""
        if self.marked:
            self.marked.clear()
            self._apply(list(self.tasks.values()))
            self._render_status()

    def action_refresh_now(self) -> None:
        """List the tasks now."""
        self.refresh_now()

    def action_back(self) -> None:
        """Back to the pipelines."""
        if self.app.screen is not self:
            return  # a second escape typed ahead: this screen is on its way out already
        # A poll still on its way would land on widgets already taken down with the screen.
        self.workers.cancel_node(self)
        self.app.pop_screen()


def _values(row: _Row) -> tuple[object, ...]:
    return (row.mark, row.state, row.name, row.type, row.runs, row.last, row.owner)


def _newest_first(task: Task) -> tuple[float, str]:
    """The table's order: the newest task first (the client lists oldest first, for paging)."""
    created = task.created_at
    return (-created.timestamp() if created is not None else float("inf"), task.id)
