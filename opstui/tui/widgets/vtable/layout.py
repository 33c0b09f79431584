"""The one column layout rule of every table, and how a cell is fitted to its width.

A table names its columns once (:class:`Column`); :func:`layout_columns` decides, from the width
alone, which columns are shown and how wide each is. Widths never come from the data: no row is
measured, so ten rows and fifty thousand cost the same to lay out, and a long name is cut with an
ellipsis (:func:`fit_cell`) instead of widening its column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len, set_cell_size
from rich.text import Text

from opstui.api.text import safe_text

__all__ = ["Cell", "Column", "Layout", "fit_cell", "fit_plain", "layout_columns"]

Cell = Text | str
"""What a row renderer gives for one cell: a Rich ``Text`` or a plain string (never markup)."""

Justify = Literal["left", "right"]


@dataclass(frozen=True)
class Column:
    """One column of a table: its key, its header and how it takes or gives up width."""

    key: str
    """Names the column (the caller's sort indicator and the layout use it)."""
    label: str
    """The header title."""
    width: int
    """Its least width: narrower than this, a column that gives way is dropped."""
    comfort: int = 0
    """The width it reads well at (0: its least width); extras give way before this is missed."""
    weight: int = 0
    """Its share of the width left once every shown column has its comfortable width."""
    most: int = 0
    """The most it grows to by weight (0: no limit)."""
    gives_way: int = 0
    """0: always shown (cut at the table's edge if it must be). 1 and up: dropped when the width
    is short, 1 first."""
    extra: bool = False
    """A detail: it gives way (in ``gives_way`` order) unless every column can have its comfort,
    not only when the least widths do not fit."""
    justify: Justify = "left"
    """``right`` for numbers."""

    @property
    def comfortable(self) -> int:
        """Its comfortable width."""
        return max(self.width, self.comfort)


Layout = tuple[tuple[Column, int], ...]
"""The columns shown, left to right, each with its width in cells (padding not included)."""


def layout_columns(columns: Sequence[Column], width: int, padding: int = 1) -> Layout:
    """The columns of ``columns`` that fit in ``width`` cells, with their widths.

    1. Extras give way, in ``gives_way`` order, while the shown columns cannot all have their
       comfortable width.
    2. Every column that gives way (extras left or not), in ``gives_way`` order, goes while even
       the least widths do not fit. Columns that never give way stay.
    3. The width left goes to the shown columns up to their comfort, left to right, then by
       weight, up to their ``most``.

    Each column also takes ``padding`` cells on either side. Cost: a few passes over the columns.
    """
    pad = 2 * padding
    shown = list(columns)

    def total(comfortable: bool) -> int:
        return sum((c.comfortable if comfortable else c.width) + pad for c in shown)

    position = {column.key: index for index, column in enumerate(columns)}
    # Ties give way from the right, as a reader expects.
    droppable = sorted(
        (c for c in columns if c.gives_way > 0), key=lambda c: (c.gives_way, -position[c.key])
    )
    for column in droppable:
        if column.extra and total(comfortable=True) > width:
            shown.remove(column)
    for column in droppable:
        if column in shown and total(comfortable=False) > width:
            shown.remove(column)

    widths = {c.key: c.width for c in shown}
    left = max(0, width - total(comfortable=False))
    for column in shown:
        grow = min(left, column.comfortable - column.width)
        widths[column.key] += grow
        left -= grow
    while left > 0:
        room = {
            c.key: (c.most - widths[c.key]) if c.most else left
            for c in shown
            if c.weight > 0 and (not c.most or widths[c.key] < c.most)
        }
        if not room:
            break
        weights = sum(c.weight for c in shown if c.key in room)
        share = max(1, left // weights)
        for column in sorted((c for c in shown if c.key in room), key=lambda c: -c.weight):
            grow = min(left, share * column.weight, room[column.key])
            widths[column.key] += grow
            left -= grow
    return tuple((column, widths[column.key]) for column in shown)


def fit_plain(value: str, width: int, justify: Justify = "left") -> str:
    """Untrusted ``value`` as safe plain text exactly ``width`` cells wide: cut with ``…``, or
    padded.

    Every control or invisible formatting character becomes U+FFFD (:func:`safe_text`). Cutting
    counts terminal cells, so a wide character is never split: it makes room for the ellipsis
    whole, and a blank keeps the width.
    """
    if width <= 0:
        return ""
    # Wider than 2 cells a character it cannot be shown anyway: cut before measuring, so a
    # megabyte of name costs what a screenful does.
    plain = safe_text(value, 2 * width + 8)
    length = cell_len(plain)
    if length > width:
        plain = set_cell_size(plain, width - 1) + "…"
        length = cell_len(plain)
    if length < width:
        gap = " " * (width - length)
        plain = gap + plain if justify == "right" else plain + gap
    return plain


def fit_cell(cell: Cell, width: int, justify: Justify = "left") -> Text:
    """``cell`` as safe text exactly ``width`` cells wide (see :func:`fit_plain`), its styles kept.

    A string is never read as markup. A given ``Text`` is not changed: a copy is cut or padded.
    """
    if isinstance(cell, str):
        return Text(fit_plain(cell, width, justify), no_wrap=True, end="")
    if width <= 0:
        return Text()
    text = cell.copy()
    plain = text.plain
    clean = safe_text(plain, 2 * width + 8)
    if clean != plain:
        text.plain = clean
    length = cell_len(text.plain)
    if length > width:
        text.plain = set_cell_size(text.plain, width - 1) + "…"
        length = cell_len(text.plain)
    if length < width:
        if justify == "right":
            text.pad_left(width - length)
        else:
            text.pad_right(width - length)
    return text
