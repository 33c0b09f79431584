"""PipelineTable: the pipelines as rows keyed by id, updated in place.

:meth:`PipelineTable.show` takes the pipelines to show, in order, and changes only what differs
from what is on screen: rows are removed, added and reordered by key, and a cell is rewritten
only where its value changed. The cursor stays on its pipeline and the scroll position stays put.

Columns give way from the right when the table is narrow (type, tags, owner, then last run, run
number and step); the name column takes the width that is left. Everything a server sent goes
through :func:`opstui.tui.format.safe_text` into a ``rich.text.Text`` (never markup).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Literal

from rich.style import Style
from rich.text import Text
from textual import events
from textual._two_way_dict import TwoWayDict
from textual.widgets.data_table import CellKey, ColumnKey, RowKey

from opstui.api import Pipeline, PipelineStatus
from opstui.tui.format import STATUS_STYLE, relative, safe_text
from opstui.tui.widgets.keyed_table import KeyedTable

__all__ = ["COLUMNS", "ColumnSpec", "PipelineTable", "SortKey", "layout_columns"]

SortKey = Literal["name", "state", "last", "run"]

ASCII_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "vt320", "ansi", "dumb"})


def _ascii() -> bool:
    return os.environ.get("TERM", "") in ASCII_TERMS


MARK = "*" if _ascii() else "●"
ARROWS = ("^", "v") if _ascii() else ("▲", "▼")


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its key, header and widths."""

    key: str
    label: str
    width: int
    """The least width: narrower than this, the column is dropped."""
    comfort: int = 0
    """The width it reads well at: optional columns give way before this is taken from it."""
    grow: int = 0
    """The most it grows (past its least width) when there is room to spare."""
    optional: bool = False
    """A detail that gives way for the comfort of the others."""
    justify: Literal["left", "right"] = "left"
    sort: SortKey | None = None
    """The sort this column's header shows an arrow for."""


COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("mark", "", 1),
    ColumnSpec("state", "State", 17, sort="state"),
    ColumnSpec("name", "Name", 20, comfort=28, grow=20, sort="name"),
    ColumnSpec("step", "Step", 14, comfort=22, grow=10),
    ColumnSpec("run", "Run", 5, justify="right", sort="run"),
    ColumnSpec("last", "Last run", 8, sort="last"),
    ColumnSpec("owner", "Owner", 14, grow=4, optional=True),
    ColumnSpec("tags", "Tags", 16, grow=24, optional=True),
    ColumnSpec("type", "Type", 6, grow=4, optional=True),
)
"""Every column, in order; the ones on the right give way first when space is short."""

ALWAYS_SHOWN = 3
"""Mark, state and name are never dropped."""

_INDEX = {spec.key: index for index, spec in enumerate(COLUMNS)}


def layout_columns(width: int, padding: int = 1) -> list[tuple[ColumnSpec, int]]:
    """The columns that fit in ``width`` cells, with their widths.

    Columns are dropped from the right until every one left has its least width, and optional
    ones (owner, tags, type) until name and step have their comfortable width. The spare width
    then goes to name and step up to their comfort, then to every column that may grow.
    """
    shown = list(COLUMNS)

    def spare(specs: Sequence[ColumnSpec]) -> int:
        return width - sum(spec.width + 2 * padding for spec in specs)

    def wanted(specs: Sequence[ColumnSpec]) -> int:
        return sum(max(0, spec.comfort - spec.width) for spec in specs)

    while len(shown) > ALWAYS_SHOWN and spare(shown) < 0:
        shown.pop()
    while shown[-1].optional and spare(shown) < wanted(shown):
        shown.pop()
    widths = {spec.key: spec.width for spec in shown}
    left = max(0, spare(shown))
    for spec in shown:
        extra = min(left, max(0, spec.comfort - spec.width))
        widths[spec.key] += extra
        left -= extra
    for spec in sorted(shown, key=lambda spec: (spec.key != "name", _INDEX[spec.key])):
        extra = min(left, spec.width + spec.grow - widths[spec.key])
        if extra > 0:
            widths[spec.key] += extra
            left -= extra
    return [(spec, widths[spec.key]) for spec in shown]


Row = tuple[object, ...]
"""What one row shows, before styling: a value per column, then the row's flags."""

_MARKED, _CHANGED, _ACTIVE = len(COLUMNS), len(COLUMNS) + 1, len(COLUMNS) + 2


def row_values(pipeline: Pipeline, now: datetime, *, marked: bool, changed: bool) -> Row:
    """The values a row shows for ``pipeline``, cheap to compare with the last ones."""
    return (
        marked,
        pipeline.status,
        pipeline.name,
        pipeline.step_text,
        pipeline.run_count,
        relative(pipeline.last_run_completed, now),
        pipeline.owner_name or pipeline.owner,
        pipeline.tag_text,
        ", ".join(pipeline.type),
        marked,
        changed,
        pipeline.active,
    )


class PipelineTable(KeyedTable[Row, ColumnSpec]):
    """The pipelines table: one row per pipeline, keyed by its id, a row cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pipeline-table--changed",
        "pipeline-table--marked",
        "pipeline-table--inactive",
    }

    DEFAULT_CSS = """
    PipelineTable {
        & > .pipeline-table--changed {
            background: $warning 30%;
            text-style: bold;
        }
        & > .pipeline-table--marked {
            text-style: bold;
        }
        & > .pipeline-table--inactive {
            text-style: dim;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._sort: tuple[SortKey, bool] = ("name", False)
        self._styles: dict[str, Style] = {}

    # -- columns --------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._apply_layout(self._available_width())

    def on_resize(self, event: events.Resize) -> None:
        self._apply_layout(self._available_width())

    def _available_width(self) -> int:
        width = self.scrollable_content_region.width
        return width if width > 0 else 80

    def set_sort(self, key: SortKey, reverse: bool) -> None:
        """Show an arrow in the header of the column sorted by (rows are ordered by the caller)."""
        self._sort = (key, reverse)
        for spec, _ in self._layout:
            self.columns[ColumnKey(spec.key)].label = self._label(spec)
        self._invalidate()

    def _label(self, spec: ColumnSpec) -> Text:
        label = Text(spec.label, justify=spec.justify)
        key, reverse = self._sort
        if spec.sort is not None and spec.sort == key:
            label.append(" " + ARROWS[1 if reverse else 0])
        return label

    def _apply_layout(self, width: int) -> None:
        layout = layout_columns(width, self.cell_padding)
        if layout == self._layout:
            return
        old = self.shown_columns
        new = [spec.key for spec, _ in layout]
        for key in old[len(new) :]:
            self.remove_column(key)
        added = new[len(old) :]
        widths = dict((spec.key, w) for spec, w in layout)
        self._layout = layout
        for key in added:
            spec = COLUMNS[_INDEX[key]]
            self.add_column(self._label(spec), width=widths[key], key=key)
        for key in new:
            # Widths are ours, not measured: set them on the columns Textual keeps.
            self.columns[ColumnKey(key)].width = widths[key]
        if added:
            styles = self._row_styles()
            for pipeline_id, values in self._rows.items():
                for key in added:
                    self.update_cell(pipeline_id, key, self._cell(key, values, styles))
        self._require_update_dimensions = True
        self._invalidate()

    # -- rows -----------------------------------------------------------------------------

    def show(
        self,
        pipelines: Sequence[Pipeline],
        *,
        now: datetime,
        marked: AbstractSet[str] = frozenset(),
        changed: AbstractSet[str] = frozenset(),
    ) -> None:
        """Make the table show ``pipelines``, in this order, changing only what differs.

        ``marked`` rows carry the mark; ``changed`` rows are highlighted (a state that just moved).
        """
        cursor_id = self.cursor_id
        cursor_index = self.cursor_row
        wanted = [pipeline.id for pipeline in pipelines]
        wanted_set = set(wanted)
        gone = [pipeline_id for pipeline_id in self._order if pipeline_id not in wanted_set]
        if gone:
            self._remove_rows(gone)
        styles = self._row_styles()
        shown = self.shown_columns
        for pipeline in pipelines:
            values = row_values(
                pipeline,
                now,
                marked=pipeline.id in marked,
                changed=pipeline.id in changed,
            )
            old = self._rows.get(pipeline.id)
            if old is None:
                self.add_row(*(self._cell(key, values, styles) for key in shown), key=pipeline.id)
                self._order.append(pipeline.id)
            elif old != values:
                restyle = old[len(COLUMNS) :] != values[len(COLUMNS) :]
                for key in shown:
                    index = _INDEX[key]
                    if restyle or old[index] != values[index]:
                        self.update_cell(pipeline.id, key, self._cell(key, values, styles))
            self._rows[pipeline.id] = values
        if self._order != wanted:
            self._reorder(wanted)
        if not self._order:
            return
        if cursor_id is not None and cursor_id in self._rows:
            target = self._order.index(cursor_id)
        else:
            target = min(max(cursor_index, 0), len(self._order) - 1)
        if target != self.cursor_row:
            self.move_cursor(row=target)

    def restyle(self, pipeline_id: str, *, marked: bool, changed: bool) -> None:
        """Change only the flags of one row (a mark toggled, a highlight ended)."""
        old = self._rows.get(pipeline_id)
        if old is None:
            return
        updated = list(old)
        updated[_INDEX["mark"]] = updated[_MARKED] = marked
        updated[_CHANGED] = changed
        values = tuple(updated)
        if values == old:
            return
        self._rows[pipeline_id] = values
        styles = self._row_styles()
        for key in self.shown_columns:
            self.update_cell(pipeline_id, key, self._cell(key, values, styles))

    def _row_styles(self) -> dict[str, Style]:
        return {
            name: self.get_component_rich_style(f"pipeline-table--{name}", partial=True)
            for name in ("changed", "marked", "inactive")
        }

    def _cell(self, key: str, values: Row, styles: dict[str, Style]) -> Text:
        """The styled text of one cell."""
        value = values[_INDEX[key]]
        spec = COLUMNS[_INDEX[key]]
        if key == "mark":
            text = Text(MARK if value else " ")
        elif key == "state":
            assert isinstance(value, PipelineStatus)
            text = Text(value.value, style=STATUS_STYLE[value])
        elif key == "run":
            text = Text(f"#{value}" if value else "")
        else:
            text = Text(safe_text(value, 200))
        text.no_wrap = True
        text.overflow = "ellipsis"
        text.justify = spec.justify
        if key == "name" and not values[_ACTIVE]:
            text.stylize(styles["inactive"])
        if values[_MARKED]:
            text.stylize(styles["marked"])
        if values[_CHANGED]:
            text.stylize(styles["changed"])
        return text

    # Textual's DataTable removes one row in O(rows) and has no way to move rows but sort();
    # with thousands of rows a filter would take seconds. These two methods do in one pass what
    # remove_row() and sort() do per call, on the same (pinned, textual==8.2.8) internals.

    def _remove_rows(self, pipeline_ids: Sequence[str]) -> None:
        gone = set(pipeline_ids)
        for pipeline_id in gone:
            row_key = RowKey(pipeline_id)
            for column_key in self._data.get(row_key, {}):
                self._updated_cells.discard(CellKey(row_key, column_key))
            self._new_rows.discard(row_key)
            self.rows.pop(row_key, None)
            self._data.pop(row_key, None)
            self._rows.pop(pipeline_id, None)
        self._order = [pipeline_id for pipeline_id in self._order if pipeline_id not in gone]
        self._set_locations(self._order)
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self.refresh(layout=True)

    def _reorder(self, pipeline_ids: list[str]) -> None:
        self._order = list(pipeline_ids)
        self._set_locations(self._order)

    def _set_locations(self, pipeline_ids: Sequence[str]) -> None:
        self._row_locations = TwoWayDict(
            {RowKey(pipeline_id): index for index, pipeline_id in enumerate(pipeline_ids)}
        )
        self._require_update_dimensions = True
        self._invalidate()

    def _invalidate(self) -> None:
        self._update_count += 1
        self.refresh()
