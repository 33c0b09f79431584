"""PipelineTable: the pipelines, one row per pipeline id, drawn line by line (a VirtualTable).

The table keeps no copy of the pipelines: it reads the caller's mapping (the store's) and the
ids the view shows, and turns a pipeline into cells only when its line is painted, relative
times against the table's ``now``. Marks and the highlight of a row whose state just changed
come from the caller's ``row_state`` at paint time (:class:`RowState`), so marking ten thousand
rows repaints the rows on screen and nothing else.

Columns give way from the right when the table is narrow (type, tags, owner, then last run, run
number and step), by the one layout rule of every table
(:func:`~opstui.tui.widgets.vtable.layout_columns`); the name column takes the width left.
Everything a server sent is cut and cleaned by :func:`~opstui.api.text.safe_text` into plain
segments or a ``rich.text.Text`` (never markup).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime

from rich.text import Text

from opstui.api import Pipeline
from opstui.tui.format import STATUS_STYLE, relative
from opstui.tui.widgets.pipeline_view import SortKey
from opstui.tui.widgets.vtable import Cell, Column, RowState, VirtualTable

__all__ = ["ARROWS", "ASCII_TERMS", "MARK", "PIPELINE_COLUMNS", "PipelineTable", "pipeline_cells"]

ASCII_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "vt320", "ansi", "dumb"})
"""Terminals whose fonts lack the mark and the arrows: they get ``*`` and ``^``/``v``."""


def _ascii() -> bool:
    return os.environ.get("TERM", "") in ASCII_TERMS


MARK = "*" if _ascii() else "●"
ARROWS = ("^", "v") if _ascii() else ("▲", "▼")

# Weights fall by half from the name rightwards: spare width goes to the name first, then to
# the step, the owner, the tags, the type, each up to its most.
PIPELINE_COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 1),
    Column("state", "State", 17),
    Column("name", "Name", 20, comfort=28, weight=16, most=40),
    Column("step", "Step", 14, comfort=22, weight=8, most=24, gives_way=6),
    Column("run", "Run", 5, justify="right", gives_way=5),
    Column("last", "Last run", 8, gives_way=4),
    Column("owner", "Owner", 14, weight=4, most=18, gives_way=3, extra=True),
    Column("tags", "Tags", 16, weight=2, most=40, gives_way=2, extra=True),
    Column("type", "Type", 6, weight=1, most=10, gives_way=1, extra=True),
)
"""Every column, in order; the ones on the right give way first when space is short. Mark,
state and name are always shown."""

_INACTIVE = "dim"


def pipeline_cells(pipeline: Pipeline, state: RowState, now: datetime) -> list[Cell]:
    """The cells of one pipeline's row, in :data:`PIPELINE_COLUMNS` order."""
    status = pipeline.status
    run = pipeline.run_count
    return [
        MARK if state & RowState.MARKED else " ",
        Text(status.value, style=STATUS_STYLE[status]),
        pipeline.name if pipeline.active else Text(pipeline.name, style=_INACTIVE),
        pipeline.step_text,
        f"#{run}" if run else "",
        relative(pipeline.last_run_completed, now),
        pipeline.owner_name or pipeline.owner,
        pipeline.tag_text,
        ", ".join(pipeline.type),
    ]


class PipelineTable(VirtualTable[Pipeline]):
    """The pipelines table: one row per pipeline, keyed by its id, a row cursor.

    Args:
        rows: The pipelines by id (read at paint time, never copied).
        row_state: ``id -> RowState`` (marked, just changed), read at paint time.
        now: The clock relative times are shown against (``retime()`` reads it).
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
            PIPELINE_COLUMNS,
            pipeline_cells,
            rows=rows,
            row_state=row_state,
            now=now,
            id=id,
            classes=classes,
        )

    def set_sort(self, key: SortKey, reverse: bool) -> None:
        """Show an arrow in the header of the column sorted by (rows are ordered by the caller)."""
        self.set_sort_indicator(key, ARROWS[1 if reverse else 0])
