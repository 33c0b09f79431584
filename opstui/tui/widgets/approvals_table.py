"""ApprovalsTable: the gates that wait for a person, longest waiting first, one row per pipeline.

``●  1h 44m  user-profile-nightly  Approve production deploy  #24  Approve release of …``

Rows are keyed by pipeline id and updated in place: rows come and go by key, a cell is rewritten
only when its text changed, and the cursor stays on its pipeline (or, when that one left, at the
same place). The waiting column ages on its own (:meth:`ApprovalsTable.retime`). An inbox holds a
handful of rows, so a change of order simply rebuilds them. Columns give way from the right when
the table is narrow: owner first, then approvers. Everything a server sent goes through
:func:`~opstui.tui.format.safe_text` into a ``rich.text.Text`` (never markup).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual import events

from opstui.api import Pipeline, PipelineStatus, Step
from opstui.tui.format import duration, safe_text
from opstui.tui.widgets.keyed_table import KeyedTable
from opstui.tui.widgets.pipeline_table import MARK

__all__ = [
    "INBOX_COLUMNS",
    "LONG_WAIT",
    "ApprovalsTable",
    "GateRow",
    "InboxColumn",
    "gate_approvers",
    "gate_message",
    "gate_row",
    "gates_in_order",
    "inbox_layout",
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
            pipeline.name.casefold(),
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
    """What one row shows, as plain values, cheap to compare with what is on screen."""

    waited: str
    long: bool
    """Waited an hour or more."""
    name: str
    gate: str
    run: int
    message: str
    approvers: str
    owner: str
    marked: bool = False

    def value(self, key: str) -> object:
        """The value of column ``key`` (the waiting column's includes its being long)."""
        if key == "mark":
            return self.marked
        if key == "waited":
            return (self.waited, self.long)
        return getattr(self, key)


def gate_row(pipeline: Pipeline, now: datetime, *, marked: bool = False) -> GateRow:
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
        marked=marked,
    )


@dataclass(frozen=True)
class InboxColumn:
    """One column of the inbox: its key, header and widths."""

    key: str
    label: str
    least: int
    """Narrower than this, the column is dropped."""
    comfort: int = 0
    """The width it reads well at (0: its least width)."""
    weight: int = 0
    """Its share of the width left once every column has its comfort."""
    most: int = 0
    """The most it grows to by weight (0: no limit)."""
    gives_way: int = 0
    """0: kept while it fits at all. 1 and up: an extra, dropped (1 first) unless every column
    shown has its comfortable width."""
    justify: Literal["left", "right"] = "left"

    @property
    def comfortable(self) -> int:
        """Its comfortable width."""
        return max(self.least, self.comfort)


INBOX_COLUMNS: tuple[InboxColumn, ...] = (
    InboxColumn("mark", "", 1),
    InboxColumn("waited", "Waiting", 7),
    InboxColumn("name", "Pipeline", 16, comfort=22, weight=3, most=40),
    InboxColumn("gate", "Gate", 12, comfort=16, weight=2, most=32),
    InboxColumn("run", "Run", 4, justify="right"),
    InboxColumn("message", "Message", 12, comfort=16, weight=5),
    InboxColumn("approvers", "Approvers", 14, weight=2, gives_way=2, most=48),
    InboxColumn("owner", "Owner", 10, weight=1, gives_way=1, most=20),
)
"""Every column, in order. Mark, waiting and pipeline are always shown; under them, the message
goes first, then the run number and the gate."""

_LAST_RESORT = ("message", "run", "gate")
"""The order in which columns that are not extras go when even their least widths do not fit."""


def inbox_layout(width: int, padding: int = 1) -> list[tuple[InboxColumn, int]]:
    """The columns that fit in ``width`` cells, with their widths.

    Extras (owner, then approvers) give way unless every column can have its comfortable width;
    then, if even the least widths do not fit, the message, the run number and the gate go. What
    is left of the width goes to the columns up to their comfort, then by weight (up to their
    most, if they have one).
    """
    shown = list(INBOX_COLUMNS)
    pad = 2 * padding

    def total(columns: Sequence[InboxColumn], comfortable: bool) -> int:
        return sum((c.comfortable if comfortable else c.least) + pad for c in columns)

    for optional in sorted((c for c in shown if c.gives_way), key=lambda c: c.gives_way):
        if total(shown, comfortable=True) > width:
            shown.remove(optional)
    for key in _LAST_RESORT:
        if total(shown, comfortable=False) > width:
            shown = [c for c in shown if c.key != key]
    widths = {c.key: c.least for c in shown}
    left = max(0, width - total(shown, comfortable=False))
    for column in shown:
        grow = min(left, column.comfortable - column.least)
        widths[column.key] += grow
        left -= grow
    while left > 0:
        room = {c.key: c.most - widths[c.key] if c.most else left for c in shown if c.weight}
        growing = [c for c in shown if room.get(c.key, 0) > 0]
        if not growing:
            break
        share = max(1, left // sum(c.weight for c in growing))
        for column in sorted(growing, key=lambda c: -c.weight):
            extra = min(left, share * column.weight, room[column.key])
            widths[column.key] += extra
            left -= extra
    return [(column, widths[column.key]) for column in shown]


class ApprovalsTable(KeyedTable[GateRow, InboxColumn]):
    """The inbox: one row per pipeline awaiting approval, keyed by its id, a row cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "approvals-table--long",
        "approvals-table--marked",
    }

    DEFAULT_CSS = """
    ApprovalsTable {
        height: auto;
        max-height: 100%;
        & > .approvals-table--long {
            color: $text-warning;
            text-style: bold;
        }
        & > .approvals-table--marked {
            text-style: bold;
        }
    }
    """

    # -- what is on screen ----------------------------------------------------------------

    def shown_row(self, pipeline_id: str) -> GateRow | None:
        """What the row of ``pipeline_id`` shows, if it is shown."""
        return self._rows.get(pipeline_id)

    # -- columns --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._relayout()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width
        layout = inbox_layout(width if width > 0 else 80, self.cell_padding)
        if layout != self._layout:
            self._layout = layout
            self._rebuild(self.cursor_id, self.cursor_row)

    # -- rows -----------------------------------------------------------------------------

    def show(
        self,
        pipelines: Sequence[Pipeline],
        *,
        now: datetime,
        marked: AbstractSet[str] = frozenset(),
    ) -> None:
        """Show ``pipelines`` (already in order), changing only what differs from the screen."""
        cursor_id, cursor_index = self.cursor_id, self.cursor_row
        wanted = {p.id: gate_row(p, now, marked=p.id in marked) for p in pipelines}
        order = list(wanted)
        kept = [pipeline_id for pipeline_id in self._order if pipeline_id in wanted]
        if kept != order[: len(kept)]:
            # Rows would move: rebuild them all (an inbox holds a handful).
            self._rows = wanted
            self._order = order
            self._rebuild(cursor_id, cursor_index)
            return
        for pipeline_id in self._order:
            if pipeline_id not in wanted:
                self.remove_row(pipeline_id)
                del self._rows[pipeline_id]
        self._order = kept
        for pipeline_id, row in wanted.items():
            self._put(pipeline_id, row)
        self._keep_cursor(cursor_id, cursor_index)

    def retime(self, pipelines: Iterable[Pipeline], now: datetime) -> None:
        """Bring the waiting column up to date (nothing else changes as time passes)."""
        for pipeline in pipelines:
            old = self._rows.get(pipeline.id)
            if old is None:
                continue
            waited, long = _wait(pipeline, now)
            if (waited, long) != (old.waited, old.long):
                self._put(pipeline.id, replace(old, waited=waited, long=long))

    def restyle(self, pipeline_id: str, *, marked: bool) -> None:
        """Mark or unmark one row."""
        old = self._rows.get(pipeline_id)
        if old is not None and old.marked != marked:
            self._put(pipeline_id, replace(old, marked=marked))

    def _put(self, pipeline_id: str, row: GateRow) -> None:
        """Add the row of ``pipeline_id`` at the bottom, or rewrite the cells that changed."""
        old = self._rows.get(pipeline_id)
        styles = self._styles()
        if old is None or pipeline_id not in self._order:
            self.add_row(*self._cells(row, styles), key=pipeline_id)
            self._order.append(pipeline_id)
        elif old != row:
            restyle = old.marked != row.marked
            for column, _ in self._layout:
                key = column.key
                if restyle or old.value(key) != row.value(key):
                    self.update_cell(pipeline_id, key, self._cell(column, row, styles))
        self._rows[pipeline_id] = row

    def _rebuild(self, cursor_id: str | None, cursor_index: int) -> None:
        """Every column and row again, in order; the cursor kept on its pipeline."""
        self.clear(columns=True)
        for column, width in self._layout:
            self.add_column(Text(column.label, justify=column.justify), width=width, key=column.key)
        styles = self._styles()
        for pipeline_id in self._order:
            self.add_row(*self._cells(self._rows[pipeline_id], styles), key=pipeline_id)
        self._keep_cursor(cursor_id, cursor_index)

    def _keep_cursor(self, cursor_id: str | None, cursor_index: int) -> None:
        if not self._order:
            return
        if cursor_id is not None and cursor_id in self._rows:
            target = self._order.index(cursor_id)
        else:
            target = min(max(cursor_index, 0), len(self._order) - 1)
        if target != self.cursor_row:
            self.move_cursor(row=target)

    # -- cells ----------------------------------------------------------------------------

    def _styles(self) -> dict[str, Style]:
        return {
            name: self.get_component_rich_style(f"approvals-table--{name}", partial=True)
            for name in ("long", "marked")
        }

    def _cells(self, row: GateRow, styles: dict[str, Style]) -> list[Text]:
        return [self._cell(column, row, styles) for column, _ in self._layout]

    @staticmethod
    def _cell(column: InboxColumn, row: GateRow, styles: dict[str, Style]) -> Text:
        """The styled text of one cell."""
        key = column.key
        if key == "mark":
            text = Text(MARK if row.marked else " ")
        elif key == "run":
            text = Text(f"#{row.run}" if row.run else "")
        elif key == "waited":
            text = Text(row.waited, style=styles["long"] if row.long else "")
        else:
            text = Text(safe_text(row.value(key), 300))
        text.no_wrap = True
        text.overflow = "ellipsis"
        text.justify = column.justify
        if row.marked:
            text.stylize(styles["marked"])
        return text
