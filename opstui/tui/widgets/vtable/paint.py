"""LinePainter: a row's cells into one line of terminal cells, at the widths of a layout.

Made once per width (the layout never looks at the data), then used for every line painted:
each cell is cut or padded to its column's width (:func:`fit_plain`, :func:`fit_cell`), so the
line's length is known without measuring it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from opstui.tui.widgets.vtable.layout import (
    Cell,
    Column,
    Layout,
    fit_cell,
    fit_plain,
    layout_columns,
)

__all__ = ["LinePainter"]


@dataclass(frozen=True)
class LinePainter:
    """Paints lines ``width`` cells wide with the columns of ``layout``."""

    columns: int
    """How many cells a row gives (one per column of the table, shown or not)."""
    layout: Layout
    """The columns shown, with their widths."""
    shown: tuple[int, ...]
    """For each column shown, its place among all the columns (where its cell is)."""
    padding: int
    width: int
    length: int
    """The cells the columns take, padding included (more than ``width`` when cut)."""

    @classmethod
    def for_width(cls, columns: Sequence[Column], width: int, padding: int) -> LinePainter:
        """The painter of ``columns`` laid out in ``width`` cells."""
        layout = layout_columns(columns, width, padding)
        place = {column.key: index for index, column in enumerate(columns)}
        return cls(
            columns=len(columns),
            layout=layout,
            shown=tuple(place[column.key] for column, _ in layout),
            padding=padding,
            width=width,
            length=sum(cells + 2 * padding for _, cells in layout),
        )

    def paint(
        self, cells: Sequence[Cell], style: Style, console: Console, over: Style | None = None
    ) -> Strip:
        """One line: the shown columns' cells, fitted, over ``style`` (the cells' own on top),
        and under ``over`` (the cursor's: on its row, the cursor's colours win over a cell's)."""
        if len(cells) != self.columns:
            raise ValueError(f"a row has {len(cells)} cells for {self.columns} columns")
        pad = " " * self.padding
        segments: list[Segment] = []
        add = segments.append
        for (column, width), place in zip(self.layout, self.shown, strict=True):
            cell = cells[place]
            if isinstance(cell, str):
                add(Segment(pad + fit_plain(cell, width, column.justify) + pad, style))
                continue
            text = fit_cell(cell, width, column.justify)
            add(Segment(pad, style))
            if text.spans:
                for part, own, _ in text.render(console):
                    add(Segment(part, style + own if own is not None else style))
            else:
                # Without spans, Rich leaves a Text's own style out of its segments.
                own_style = console.get_style(text.style) if text.style else None
                add(Segment(text.plain, style + own_style if own_style else style))
            add(Segment(pad, style))
        if self.length < self.width:
            add(Segment(" " * (self.width - self.length), style))
        if over:
            segments = list(Segment.apply_style(segments, post_style=over))
        strip = Strip(segments, max(self.length, self.width))
        return strip.crop(0, self.width) if self.length > self.width else strip
