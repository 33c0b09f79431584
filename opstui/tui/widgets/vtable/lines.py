"""RowLines: a table's rows turned into lines, each painted once and kept while it is the same.

No widget here: what a line shows depends on the row (by key, and a version the table bumps when
the caller says the row changed), its state (marked, just changed), whether the cursor is on it,
and a generation that moves when the width, the styles or the time move. A line is painted only
when no line is kept for all of these, so a cursor move repaints the two lines it touched and a
reorder repaints nothing it has painted before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntFlag
from typing import Generic, NamedTuple, TypeVar

from rich.console import Console
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip

from opstui.tui.widgets.vtable.layout import Cell, Column, Layout
from opstui.tui.widgets.vtable.paint import LinePainter

__all__ = ["PARTS", "RowLines", "RowRenderer", "RowState", "Styles"]

RowT = TypeVar("RowT")


class RowState(IntFlag):
    """How a row is shown besides its cells, as the caller says at paint time."""

    NONE = 0
    MARKED = 1
    """Chosen for a batch (``virtual-table--mark``)."""
    CHANGED = 2
    """Just changed: highlighted for a moment (``virtual-table--changed``)."""


RowRenderer = Callable[[RowT, RowState, datetime], Sequence[Cell]]
"""``(row, state, now) -> cells``: one cell per column of the table, in the columns' order."""

PARTS = ("header", "cursor", "mark", "changed")
"""The component classes, ``virtual-table--<part>``, in the order of :class:`Styles`."""


class Styles(NamedTuple):
    """The styles lines are painted with, taken once a paint."""

    base: Style = Style.null()
    header: Style = Style.null()
    cursor: Style = Style.null()
    mark: Style = Style.null()
    changed: Style = Style.null()


@dataclass(slots=True)
class _Kept:
    """A painted line, with what it was painted from (changed in place: Textual's
    ``LRUCache.set`` keeps the first value of a key)."""

    stamp: tuple[object, ...]
    """What the line was painted for: the row's state, the cursor, the generation."""
    row: object
    time: int
    """The time (a count of :meth:`RowLines.retimed`) its cells were last worked out at."""
    cells: Sequence[Cell]
    strip: Strip


def _same_cells(cells: Sequence[Cell], other: Sequence[Cell]) -> bool:
    """Whether two rows of cells paint the same (text, style and spans alike)."""
    if len(cells) != len(other):
        return False
    for cell, was in zip(cells, other, strict=True):
        if cell is was:
            continue
        if isinstance(cell, str) or isinstance(was, str):
            if cell != was:
                return False
        elif (cell.plain, cell.style, cell.spans) != (was.plain, was.style, was.spans):
            return False
    return True


class RowLines(Generic[RowT]):
    """The painted lines of one table, cached in a bounded LRU cache.

    Args:
        columns: Every column, in order.
        render_row: ``(row, state, now) -> cells``, called for lines not kept.
        padding: Blank cells on either side of every column.
        cache_size: How many lines are kept.
    """

    def __init__(
        self,
        columns: Sequence[Column],
        render_row: RowRenderer[RowT],
        padding: int,
        cache_size: int,
    ) -> None:
        self.columns = tuple(columns)
        self._renderer = render_row
        self._padding = padding
        # One line a row key, replaced in place when its stamp moves on: a line keyed by its
        # stamp would stay, unusable, until evicted, and a long-running app would fill the
        # cache with them (the soak saw 550 dead lines holding 36,000 objects).
        self._strips: LRUCache[str, _Kept] = LRUCache(cache_size)
        self._generation = 0
        self._time = 0
        self._painter = LinePainter.for_width(self.columns, 0, padding)
        self._width = -1
        self.styles = Styles()
        """The styles of the last paint."""
        self._header: tuple[tuple[object, ...], Strip] | None = None

    @property
    def width(self) -> int:
        """The width last given (-1 before the first)."""
        return self._width

    @property
    def layout(self) -> Layout:
        """The columns shown at the width last given, with their widths."""
        return self._painter.layout

    # -- what makes lines stale -----------------------------------------------------------

    def changed(self, keys: Iterable[str]) -> None:
        """The rows of ``keys`` changed (or left): their kept lines are stale."""
        discard = self._strips.discard
        for key in keys:
            discard(key)

    def clear(self) -> None:
        """Other rows altogether: nothing kept is of use."""
        self._strips.clear()

    def retimed(self) -> None:
        """The time moved: each line's cells are worked out again when next asked for, and the
        line is painted again only if they differ (most relative times read the same)."""
        self._time += 1

    def set_width(self, width: int) -> None:
        """Lay the columns out for ``width`` cells (every line stale when it moved)."""
        if width != self._width:
            self._width = width
            self._painter = LinePainter.for_width(self.columns, width, self._padding)
            self._new_generation()

    def set_styles(self, styles: Styles) -> None:
        """Paint with ``styles`` (every line stale only when they really changed: a hover of
        the table leaves them as they were)."""
        if styles != self.styles:
            self.styles = styles
            self._new_generation()

    def _new_generation(self) -> None:
        # Every kept line is of an older generation now: none can be asked for again.
        self._generation += 1
        self._strips.clear()

    # -- lines ----------------------------------------------------------------------------

    def header(self, sort: tuple[str | None, str], console: Console) -> Strip:
        """The line of column titles; ``sort`` is ``(column key, indicator)``."""
        cache_key = (self._generation, sort)
        if self._header is not None and self._header[0] == cache_key:
            return self._header[1]
        sort_key, indicator = sort
        cells = [
            f"{column.label} {indicator}" if indicator and column.key == sort_key else column.label
            for column in self.columns
        ]
        strip = self._painter.paint(cells, self.styles.base + self.styles.header, console)
        self._header = (cache_key, strip)
        return strip

    def row(
        self,
        key: str,
        row: RowT,
        state: RowState,
        cursor: bool,
        now: datetime,
        console: Console,
    ) -> Strip:
        """The line of ``row`` (kept by ``key``), with the cursor on it or not."""
        stamp = (state, cursor, self._generation)
        kept = self._strips.get(key)
        # The row itself is kept with its line: a caller that replaces a row object instead of
        # changing it gets a fresh line without saying so.
        if kept is not None and kept.stamp == stamp and kept.row is row:
            if kept.time == self._time:
                return kept.strip
            cells = self._renderer(row, state, now)
            if _same_cells(cells, kept.cells):
                kept.time = self._time
                return kept.strip
        else:
            cells = self._renderer(row, state, now)
        over = self.styles.cursor if cursor else None
        strip = self._painter.paint(cells, self._row_style(state), console, over)
        if kept is None:
            self._strips.set(key, _Kept(stamp, row, self._time, cells, strip))
        else:
            kept.stamp, kept.row, kept.time = stamp, row, self._time
            kept.cells, kept.strip = cells, strip
        return strip

    def kept(self, key: str, row: RowT, state: RowState, cursor: bool) -> Strip | None:
        """The line kept for ``row`` as it was last painted (whatever the time), if any."""
        stamp = (state, cursor, self._generation)
        kept = self._strips.get(key)
        if kept is None or kept.stamp != stamp or kept.row is not row:
            return None
        return kept.strip

    def blank(self) -> Strip:
        """A line with no row."""
        return Strip.blank(self._painter.width, self.styles.base)

    def _row_style(self, state: RowState) -> Style:
        styles = self.styles
        style = styles.base
        if state & RowState.MARKED:
            style += styles.mark
        if state & RowState.CHANGED:
            style += styles.changed
        return style
