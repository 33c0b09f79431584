"""TaskTable: the tasks as rows keyed by id, on the app's one table widget (VirtualTable).

Cells are made when a line is painted, from the task and ``now`` (so ``last run`` is always
current without touching a row); the widths come from the width alone, by the one layout rule
(:func:`~opstui.tui.widgets.vtable.layout_columns`): owner, type, runs and last run give way, in
that order, on a narrow terminal, and a long name is cut with an ellipsis. Everything a server
sent goes through :func:`~opstui.tui.format.safe_text` into a ``rich.text.Text`` (never markup).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from rich.text import Text

from opstui.api import Task
from opstui.tui.format import relative, safe_text, status_text
from opstui.tui.widgets.plan_view import ascii_markers
from opstui.tui.widgets.vtable import Cell, Column, RowState, VirtualTable

__all__ = ["TASK_COLUMNS", "TaskTable", "mark_symbol"]

TASK_COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 1),
    Column("state", "State", 7),
    Column("name", "Name", 12, comfort=20, weight=3, most=40),
    Column("type", "Type", 8, weight=2, most=24, gives_way=2),
    Column("runs", "Runs", 4, justify="right", gives_way=3),
    Column("last", "Last run", 8, gives_way=4),
    Column("owner", "Owner", 8, weight=1, most=20, gives_way=1, extra=True),
)
"""Every column, in order; mark, state and name never give way."""


def mark_symbol(term: str | None = None) -> str:
    """The mark of a task chosen for a batch: ``●``, or ``*`` where the font may lack it."""
    return "*" if ascii_markers(term) else "●"


class TaskTable(VirtualTable[Task]):
    """One row per task, keyed by its id; the screen says which are marked (``row_state``)."""

    DEFAULT_CSS = """
    TaskTable {
        height: 1fr;
    }
    """

    def __init__(
        self,
        *,
        rows: Mapping[str, Task],
        order: Sequence[str] = (),
        row_state: Callable[[str], RowState] | None = None,
        now: Callable[[], datetime] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(
            TASK_COLUMNS,
            self.task_cells,
            rows=rows,
            order=order,
            row_state=row_state,
            now=now,
            id=id,
        )
        self.mark = mark_symbol()
        """What the mark column shows for a marked task."""

    def task_cells(self, task: Task, state: RowState, now: datetime) -> list[Cell]:
        """The cells of ``task``'s row, one per column of :data:`TASK_COLUMNS`."""
        completed = task.last_run_completed
        return [
            Text(self.mark if state & RowState.MARKED else "", style="bold"),
            status_text(task.status),
            Text(safe_text(task.name or task.id, 80)),
            Text(safe_text(task.type, 60)),
            Text(str(task.run_count)),
            Text(relative(completed, now), style="dim" if completed is None else ""),
            Text(safe_text(task.owner_name or task.owner, 60)),
        ]
