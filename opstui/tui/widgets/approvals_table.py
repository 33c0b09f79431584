"""ApprovalsTable: the gates that wait for a person, longest waiting first, one row per pipeline.

``●  1h 44m  user-profile-nightly  Approve production deploy  #24  Approve release of …``

A :class:`~opstui.tui.widgets.vtable.VirtualTable` of pipelines: rows keyed by pipeline id,
turned into cells only when painted (the waiting column against the table's ``now``, brought up
to date by ``retime()``), marks read at paint time; the cursor stays on its pipeline (or, when
that one left, goes to its nearest neighbour). Columns give way from the right when the table is
narrow, by the one layout rule of every table: owner first, then approvers; below the least
widths, the message, the run number, the gate. Everything a server sent is cleaned by
:func:`~opstui.api.text.safe_text` into plain segments or a ``rich.text.Text`` (never markup).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip

from opstui.api import Pipeline, PipelineStatus, Step
from opstui.tui.format import duration
from opstui.tui.widgets.pipeline_table import MARK
from opstui.tui.widgets.vtable import Cell, Column, RowState, VirtualTable

__all__ = [
    "INBOX_COLUMNS",
    "LONG_WAIT",
    "ApprovalsTable",
    "GateRow",
    "gate_approvers",
    "gate_message",
    "gate_row",
    "gates_in_order",
    "waited_text",
]

LONG_WAIT = 3600.0
"""Seconds after which a wait is shown as long (bold, in the warning colour)."""

UNKNOWN_WAIT = "?"
"""The waiting column when the server did not say since when."""


def gates_in_order(pipelines: Iterable[Pipeline]) -> list[Pipeline]:
    """The pipelines awaiting approval, longest waiting first (unknown last), ties by name."""
    gates = [p for p in pipelines if p.status is PipelineStatus.AWAITING_APPROVAL]

    def order(pipeline: Pipeline) -> tuple[bool, float, str, str]:
        since = pipeline.waiting_since
        return (
            since is None,
            since.timestamp() if since is not None else 0.0,
            pipeline.sort_name,
            pipeline.id,
        )

    return sorted(gates, key=order)


def gate_message(gate: Step | None) -> str:
    """What the gate asks (:attr:`Step.message`), its whitespace folded to one line; '' if none."""
    return " ".join(gate.message.split()) if gate is not None else ""


def gate_approvers(gate: Step | None) -> str:
    """Who may approve (:attr:`Step.approvers`, the one reading of them), comma separated."""
    return ", ".join(gate.approvers) if gate is not None else ""


def waited_seconds(pipeline: Pipeline, now: datetime) -> float | None:
    """How long the pipeline has waited at its gate, in seconds; None when unknown."""
    since = pipeline.waiting_since
    return None if since is None else max(0.0, (now - since).total_seconds())


def waited_text(pipeline: Pipeline, now: datetime) -> str:
    """``12m 03s``, ``2h 10m``: how long the pipeline has waited; ``?`` when unknown."""
    return _wait(pipeline, now)[0]


def _wait(pipeline: Pipeline, now: datetime) -> tuple[str, bool]:
    """The waiting column's text, and whether the wait is long."""
    seconds = waited_seconds(pipeline, now)
    if seconds is None:
        return UNKNOWN_WAIT, False
    return duration(seconds), seconds >= LONG_WAIT


@dataclass(frozen=True)
class GateRow:
    """What one row shows, as plain values."""

    waited: str
    long: bool
    """Waited an hour or more."""
    name: str
    gate: str
    run: int
    message: str
    approvers: str
    owner: str


def gate_row(pipeline: Pipeline, now: datetime) -> GateRow:
    """The row of one pipeline awaiting approval."""
    gate = pipeline.gate
    waited, long = _wait(pipeline, now)
    return GateRow(
        waited=waited,
        long=long,
        name=pipeline.name or pipeline.id,
        gate=gate.name if gate is not None else "",
        run=pipeline.run_count,
        message=gate_message(gate),
        approvers=gate_approvers(gate),
        owner=pipeline.owner_name or pipeline.owner,
    )


INBOX_COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 1),
    Column("waited", "Waiting", 7),
    Column("name", "Pipeline", 16, comfort=22, weight=3, most=40),
    Column("gate", "Gate", 12, comfort=16, weight=2, most=32, gives_way=5),
    Column("run", "Run", 4, justify="right", gives_way=4),
    Column("message", "Message", 12, comfort=16, weight=5, gives_way=3),
    Column("approvers", "Approvers", 14, weight=2, most=48, gives_way=2, extra=True),
    Column("owner", "Owner", 10, weight=1, most=20, gives_way=1, extra=True),
)
"""Every column, in order. Mark, waiting and pipeline are always shown; under them, the message
goes first, then the run number and the gate."""


class ApprovalsTable(VirtualTable[Pipeline]):
    """The inbox: one row per pipeline awaiting approval, keyed by its id, a row cursor.

    Args:
        rows: The pipelines by id (read at paint time, never copied).
        row_state: ``id -> RowState`` (marked), read at paint time.
        now: The clock the waiting column is shown against (``retime()`` reads it).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"approvals-table--long"}

    DEFAULT_CSS = """
    ApprovalsTable {
        height: auto;
        max-height: 100%;
        & > .approvals-table--long {
            color: $text-warning;
            text-style: bold;
        }
    }
    """

    def __init__(
        self,
        *,
        rows: Mapping[str, Pipeline] | None = None,
        row_state: Callable[[str], RowState] | None = None,
        now: Callable[[], datetime] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            INBOX_COLUMNS,
            self._cells_of,
            rows=rows,
            row_state=row_state,
            now=now,
            id=id,
            classes=classes,
        )
        self._long = Style.null()

    def render_lines(self, crop: Region) -> list[Strip]:
        """Take the style of a long wait once a paint (it is part of the cells)."""
        long = self.get_component_rich_style("approvals-table--long", partial=True)
        if long != self._long:
            self._long = long
            self.apply(changed=self.row_keys)  # the cached lines carry the old style
        return super().render_lines(crop)

    def _cells_of(self, pipeline: Pipeline, state: RowState, now: datetime) -> list[Cell]:
        """The cells of one gate's row, in :data:`INBOX_COLUMNS` order."""
        row = gate_row(pipeline, now)
        return [
            MARK if state & RowState.MARKED else " ",
            Text(row.waited, style=self._long) if row.long else row.waited,
            row.name,
            row.gate,
            f"#{row.run}" if row.run else "",
            row.message,
            row.approvers,
            row.owner,
        ]
