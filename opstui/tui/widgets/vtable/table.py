"""VirtualTable: one row per key, drawn line by line, whatever the number of rows.

The table holds no copy of the data: a reference to the caller's rows (a mapping by key), the
ordered keys the caller shows (its filter and sort, computed elsewhere) and the columns. A row is
turned into cells by the caller's renderer only when its line is painted, so what a change or a
key press costs depends on the rows on screen, not on the rows in the table:

- ``apply(changed=..., removed=..., order=...)`` bumps a version per changed key and repaints
  the lines of those keys that are on screen; a new order repaints the screen (cached strips are
  kept by key, so a reorder costs one lookup of the cursor's key, not a rebuild);
- rendered lines are cached per (key, row version, row state, cursor, generation) in a bounded
  LRU cache; the generation moves when the width, the styles or the time change;
- ``retime()`` takes a new ``now`` for relative times: the screen is repainted, nothing else;
- the cursor is kept by key; when its row leaves, it goes to its nearest neighbour that stayed.

The Line API (``ScrollView.render_line``) and public Textual only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntFlag
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from opstui.tui.widgets.vtable.keys import KeyedOrder
from opstui.tui.widgets.vtable.layout import Cell, Column, Layout
from opstui.tui.widgets.vtable.paint import LinePainter

__all__ = ["RowRenderer", "RowState", "VirtualTable"]

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


def _utc_now() -> datetime:
    return datetime.now(UTC)


_PARTS = ("header", "cursor", "mark", "changed")
"""The component classes, ``virtual-table--<part>``, in the order of :class:`_Styles`."""


class _Styles(NamedTuple):
    """The styles lines are painted with, taken once a paint."""

    base: Style = Style.null()
    header: Style = Style.null()
    cursor: Style = Style.null()
    mark: Style = Style.null()
    changed: Style = Style.null()


class VirtualTable(ScrollView, Generic[RowT], can_focus=True):
    """A table of rows keyed by id, with a row cursor, drawn through the Line API.

    Args:
        columns: Every column, in order (see :func:`layout_columns` for the width rule).
        render_row: ``(row, state, now) -> cells``, one cell per column; called at paint time
            for rows on screen only. Cells are ``Text`` or plain strings, never markup.
        rows: The caller's rows by key (kept by reference, never copied).
        order: The keys shown, top to bottom (kept by reference: pass a new sequence to change
            it, rather than changing this one in place).
        row_state: ``key -> RowState``, read at paint time for rows on screen (marks, highlight).
        now: Where ``retime()`` takes the time from (defaults to the wall clock, UTC).
        show_header: Whether the first line shows the column titles.
        cell_padding: Blank cells on either side of every column.
        cache_size: How many rendered lines are kept.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"virtual-table--{part}" for part in _PARTS}
    """``virtual-table--header``, ``--cursor``, ``--mark`` (RowState.MARKED) and ``--changed``
    (RowState.CHANGED); under ``NO_COLOR`` the cursor is reversed and a change underlined."""

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        &.-stale {
            text-opacity: 60%;
        }
        & > .virtual-table--header {
            background: $panel;
            color: $foreground;
            text-style: bold;
        }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        /* Focused, the table is tinted as Textual's DataTable is: the same look. */
        &:focus {
            background-tint: $foreground 5%;
            & > .virtual-table--header {
                background-tint: $foreground 5%;
            }
            & > .virtual-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        &:ansi > .virtual-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .virtual-table--mark {
            text-style: bold;
        }
        & > .virtual-table--changed {
            background: $warning 30%;
            text-style: bold;
        }
        &:nocolor > .virtual-table--cursor {
            text-style: reverse;
        }
        &:nocolor > .virtual-table--changed {
            text-style: bold underline;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor_up", "Up", show=False),
        Binding("down", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "cursor_first", "First", show=False),
        Binding("end", "cursor_last", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]

    @dataclass(eq=False)
    class CursorMoved(Message):
        """The cursor is on another key (moved by a key, a click, or its row leaving)."""

        table: VirtualTable[Any]
        """The table whose cursor moved."""
        key: str | None
        """The key now under the cursor; None when the table shows no row."""
        row: int
        """Its place, from 0 at the top (-1 when there is no row)."""

        @property
        def control(self) -> VirtualTable[Any]:
            """The table (so ``@on(VirtualTable.CursorMoved, "#id")`` works)."""
            return self.table

        def can_replace(self, message: Message) -> bool:
            # A held-down key sends a flood of moves: the newest says all of them.
            return isinstance(message, VirtualTable.CursorMoved) and message.table is self.table

    @dataclass(eq=False)
    class Selected(Message):
        """Enter was pressed on a row, or the row under the cursor was clicked."""

        table: VirtualTable[Any]
        """The table."""
        key: str
        """The key of the row."""
        row: int
        """Its place, from 0 at the top."""

        @property
        def control(self) -> VirtualTable[Any]:
            """The table."""
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        render_row: RowRenderer[RowT],
        *,
        rows: Mapping[str, RowT] | None = None,
        order: Sequence[str] = (),
        row_state: Callable[[str], RowState] | None = None,
        now: Callable[[], datetime] | None = None,
        show_header: bool = True,
        cell_padding: int = 1,
        cache_size: int = 1024,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._columns = tuple(columns)
        self._renderer = render_row
        self._rows: Mapping[str, RowT] = rows if rows is not None else {}
        self._keys = KeyedOrder(order)
        self._row_state = row_state
        self._clock = now or _utc_now
        self._now = self._clock()
        self._header_height = 1 if show_header else 0
        self._padding = cell_padding
        self._strips: LRUCache[tuple[object, ...], tuple[object, Strip]] = LRUCache(cache_size)
        self._versions: dict[str, int] = {}
        self._counter = itertools.count(1)
        self._generation = 0
        self._painter = LinePainter.for_width(self._columns, 0, cell_padding)
        self._painted_width = -1
        self._styles = _Styles()
        self._sort: tuple[str | None, str] = (None, "")
        self._header_strip: tuple[tuple[object, ...], Strip] | None = None
        self.set_reactive(VirtualTable.virtual_size, Size(0, len(order) + self._header_height))

    # -- what the table shows -------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column, in order."""
        return self._columns

    @property
    def column_layout(self) -> Layout:
        """The columns shown at the current width, with their widths."""
        self._ensure_layout()
        return self._painter.layout

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns shown at the current width, left to right."""
        return [column.key for column, _ in self.column_layout]

    @property
    def row_keys(self) -> Sequence[str]:
        """The keys shown, top to bottom (the sequence last given; do not change it)."""
        return self._keys.keys

    @property
    def row_count(self) -> int:
        """How many rows are shown."""
        return len(self._keys.keys)

    @property
    def visible_keys(self) -> Sequence[str]:
        """The keys of the rows on screen now, top to bottom."""
        top = self.scroll_offset.y
        return self._keys.keys[top : top + max(0, self._body_height())]

    def cells(self, key: str) -> Sequence[Cell] | None:
        """What the row of ``key`` shows now, one cell per column (None if there is no row)."""
        row = self._rows.get(key)
        if row is None:
            return None
        state = self._row_state(key) if self._row_state is not None else RowState.NONE
        return self._renderer(row, state, self._now)

    @property
    def now(self) -> datetime:
        """The time relative times are shown against (set by :meth:`retime`)."""
        return self._now

    # -- data -----------------------------------------------------------------------------

    def set_rows(self, rows: Mapping[str, RowT], order: Sequence[str]) -> None:
        """Show other rows altogether (every cached line is dropped); the cursor is kept by key."""
        self._rows = rows
        self._versions.clear()
        self._strips.clear()
        self._set_order(order)

    def apply(
        self,
        changed: Iterable[str] = (),
        removed: Iterable[str] = (),
        order: Sequence[str] | None = None,
    ) -> None:
        """Take a change set: rows changed (or added) and removed, by key; maybe a new order.

        ``order`` is the new list of keys shown, when the filter or sort result moved; without
        it, ``removed`` keys are taken out of the current order and the rest stays. Cost: the
        keys given, plus the rows on screen (plus one scan of ``order`` for the cursor's key
        when it moved far from its place).
        """
        changed_keys = set(changed)
        removed_keys = set(removed)
        for key in changed_keys | removed_keys:
            self._versions[key] = next(self._counter)
        if order is None and removed_keys:
            order = [key for key in self._keys.keys if key not in removed_keys]
        if order is not None:
            self._set_order(order)
        else:
            self.refresh_keys(changed_keys)

    def set_order(self, order: Sequence[str]) -> None:
        """Show ``order`` (a new filter or sort result); the cursor is kept by key."""
        self._set_order(order)

    def refresh_keys(self, keys: Iterable[str]) -> None:
        """Repaint the rows of ``keys`` that are on screen (their state changed, say).

        A state read through ``row_state`` is part of the cache key, so a repaint is all a mark
        or a highlight needs; :meth:`refresh` repaints every row on screen.
        """
        wanted = keys if isinstance(keys, set | frozenset) else set(keys)
        if not wanted:
            return
        order = self._keys.keys
        top = self.scroll_offset.y
        for index in range(top, min(len(order), top + self._body_height())):
            if order[index] in wanted:
                self._refresh_index(index)

    def retime(self, now: datetime | None = None) -> None:
        """Bring relative times up to date: a repaint of the rows on screen, nothing more."""
        self._now = now if now is not None else self._clock()
        self._generation += 1
        self.refresh()

    def set_sort_indicator(self, column_key: str | None, indicator: str = "") -> None:
        """Show ``indicator`` (an arrow, say) after the title of ``column_key``; None: nowhere."""
        if self._sort != (column_key, indicator):
            self._sort = (column_key, indicator)
            self.refresh(Region(0, 0, self.size.width, self._header_height))

    # -- cursor ---------------------------------------------------------------------------

    @property
    def cursor_row(self) -> int:
        """The place of the cursor, from 0 at the top; -1 when no row is shown."""
        return self._keys.index

    @property
    def cursor_key(self) -> str | None:
        """The key under the cursor; None when no row is shown."""
        return self._keys.key

    def move_cursor(
        self, *, row: int | None = None, key: str | None = None, scroll: bool = True
    ) -> bool:
        """Put the cursor on place ``row`` (clamped) or on ``key``; False if ``key`` is not shown.

        With ``scroll``, the view scrolls as little as it takes to show the cursor.
        """
        if key is not None:
            index = self._keys.locate(key)
            if index < 0:
                return False
            self._set_cursor(index, scroll=scroll)
            return True
        if row is not None:
            self._set_cursor(row, scroll=scroll)
        return True

    def scroll_to_key(self, key: str, *, center: bool = False) -> bool:
        """Scroll until the row of ``key`` is on screen (cursor unmoved); False if not shown."""
        index = self._keys.locate(key)
        if index < 0:
            return False
        if center:
            self._scroll_y_to(index - max(0, self._body_height()) // 2)
        else:
            self._scroll_into_view(index)
        return True

    def action_cursor_up(self) -> None:
        """Move the cursor up one row."""
        self._set_cursor(self._keys.index - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor down one row."""
        self._set_cursor(self._keys.index + 1)

    def action_page_up(self) -> None:
        """Move the cursor and the view a page up."""
        self._page(-1)

    def action_page_down(self) -> None:
        """Move the cursor and the view a page down."""
        self._page(1)

    def action_cursor_first(self) -> None:
        """Move the cursor to the first row."""
        self._set_cursor(0)

    def action_cursor_last(self) -> None:
        """Move the cursor to the last row."""
        self._set_cursor(len(self._keys.keys) - 1)

    def action_select(self) -> None:
        """Say which row was chosen (``Selected``)."""
        if self._keys.key is not None:
            self.post_message(self.Selected(self, self._keys.key, self._keys.index))

    def on_click(self, event: events.Click) -> None:
        """Put the cursor on the clicked row; a click on the cursor's row selects it."""
        offset = event.get_content_offset(self)
        if offset is None or offset.y < self._header_height:
            return
        index = self.scroll_offset.y + offset.y - self._header_height
        if not 0 <= index < len(self._keys.keys):
            return
        event.stop()
        again = index == self._keys.index
        self._set_cursor(index)
        if again:
            self.action_select()

    def on_focus(self) -> None:
        """The cursor looks different when the table has the focus."""
        self._refresh_index(self._keys.index)

    def on_blur(self) -> None:
        """The cursor looks different when the table has the focus."""
        self._refresh_index(self._keys.index)

    # -- painting -------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        """Styles may have changed (theme, CSS, focus): the next paint compares them."""
        super().notify_style_update()
        self.refresh()

    def render_lines(self, crop: Region) -> list[Strip]:
        """Lay the columns out for the current width and take the styles, once a paint."""
        self._ensure_layout()
        styles = _Styles(
            self.rich_style,
            *(self.get_component_rich_style(f"virtual-table--{part}") for part in _PARTS),
        )
        # Only a real change of style makes every cached line stale (a hover does not).
        if styles != self._styles:
            self._styles = styles
            self._generation += 1
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the view: the header, a row, or blank."""
        if y < self._header_height:
            return self._render_header()
        index = self.scroll_offset.y + y - self._header_height
        if 0 <= index < len(self._keys.keys):
            strip = self._render_row_at(index)
            if strip is not None:
                return strip
        return Strip.blank(self._painter.width, self._styles.base)

    def _ensure_layout(self) -> None:
        width = max(0, self.scrollable_content_region.width)
        if width != self._painted_width:
            self._painted_width = width
            self._painter = LinePainter.for_width(self._columns, width, self._padding)
            self._generation += 1

    def _render_header(self) -> Strip:
        cache_key = (self._generation, self._sort)
        if self._header_strip is not None and self._header_strip[0] == cache_key:
            return self._header_strip[1]
        sort_key, indicator = self._sort
        cells = [
            f"{column.label} {indicator}" if indicator and column.key == sort_key else column.label
            for column in self._columns
        ]
        style = self._styles.base + self._styles.header
        strip = self._painter.paint(cells, style, self.app.console)
        self._header_strip = (cache_key, strip)
        return strip

    def _render_row_at(self, index: int) -> Strip | None:
        key = self._keys.keys[index]
        row = self._rows.get(key)
        if row is None:
            return None
        state = self._row_state(key) if self._row_state is not None else RowState.NONE
        cursor = index == self._keys.index
        cache_key = (key, self._versions.get(key, 0), state, cursor, self._generation)
        cached = self._strips.get(cache_key)
        # The row itself is kept with its line: a caller that replaces a row object instead of
        # changing it gets a fresh line without saying so.
        if cached is not None and cached[0] is row:
            return cached[1]
        cells = self._renderer(row, state, self._now)
        over = self._styles.cursor if cursor else None
        strip = self._painter.paint(cells, self._row_style(state), self.app.console, over)
        self._strips.set(cache_key, (row, strip))
        return strip

    def _row_style(self, state: RowState) -> Style:
        styles = self._styles
        style = styles.base
        if state & RowState.MARKED:
            style += styles.mark
        if state & RowState.CHANGED:
            style += styles.changed
        return style

    # -- order, cursor and scroll ---------------------------------------------------------

    def _body_height(self) -> int:
        return self.scrollable_content_region.height - self._header_height

    def _set_order(self, order: Sequence[str]) -> None:
        old_index, old_key = self._keys.index, self._keys.key
        top, body = self.scroll_offset.y, self._body_height()
        was_on_screen = old_index >= 0 and top <= old_index < top + body
        self._keys.reorder(order)
        self._set_height(len(order) + self._header_height)
        self._cursor_moved(old_index, old_key, scroll=False)
        if self.scroll_offset.y > self.max_scroll_y:
            self._scroll_y_to(self.max_scroll_y)
        if was_on_screen:
            self._scroll_into_view(self._keys.index)
        self.refresh()

    def _set_height(self, height: int) -> None:
        """Take a new number of lines; lay the screen out again only when it can move.

        A table taller than its region before and after (clamped by its CSS, not sized by its
        rows) keeps its size and its scrollbar: the scrollbar takes the new height, and that
        is all (a filter keystroke at ten thousand rows should not lay out the whole screen).
        """
        old = self.virtual_size.height
        if old == height:
            return
        shown = self.size.height
        if shown and min(old, height) > shown and self.show_vertical_scrollbar:
            self.set_reactive(VirtualTable.virtual_size, Size(0, height))
            scrollbar = self.vertical_scrollbar
            scrollbar.window_virtual_size = height
            scrollbar.refresh()
        else:
            self.virtual_size = Size(0, height)

    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        old_index, old_key = self._keys.index, self._keys.key
        self._keys.move(index)
        self._cursor_moved(old_index, old_key, scroll=scroll)

    def _cursor_moved(self, old_index: int, old_key: str | None, *, scroll: bool) -> None:
        index, key = self._keys.index, self._keys.key
        if index != old_index:
            self._refresh_index(old_index)
            self._refresh_index(index)
        if scroll and index >= 0:
            self._scroll_into_view(index)
        if key != old_key:
            self.post_message(self.CursorMoved(self, key, index))

    def _page(self, direction: int) -> None:
        page = max(1, self._body_height())
        self._scroll_y_to(self.scroll_offset.y + direction * page)
        self._set_cursor(self._keys.index + direction * page)

    def _scroll_into_view(self, index: int) -> None:
        body = self._body_height()
        if body <= 0:
            # Not laid out yet: once it is, show the cursor.
            self.call_after_refresh(self._scroll_into_view_later)
            return
        top = self.scroll_offset.y
        if index < top:
            self._scroll_y_to(index)
        elif index >= top + body:
            self._scroll_y_to(index - body + 1)

    def _scroll_into_view_later(self) -> None:
        if self._body_height() > 0 and self._keys.index >= 0:
            self._scroll_into_view(self._keys.index)

    def _scroll_y_to(self, y: int) -> None:
        self.scroll_to(y=max(0, y), animate=False, force=True)

    def _refresh_index(self, index: int) -> None:
        if index >= 0:
            self.refresh_line(index + self._header_height)
