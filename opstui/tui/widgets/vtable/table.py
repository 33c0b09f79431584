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
- the cursor is kept by key once it was put somewhere (a key, a click, the app); when its row
  leaves, it goes to its nearest neighbour that stayed. Until then it stays on the first row.

The Line API (``ScrollView.render_line``) and public Textual only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from opstui.tui.widgets.vtable.layout import Cell, Column, Layout
from opstui.tui.widgets.vtable.lines import PARTS, RowLines, RowRenderer, RowState, Styles
from opstui.tui.widgets.vtable.scrolling import CursorView

__all__ = ["RowRenderer", "RowState", "VirtualTable"]

RowT = TypeVar("RowT")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class VirtualTable(CursorView, Generic[RowT], can_focus=True):
    """A table of rows keyed by id, with a row cursor, drawn through the Line API.

    The cursor, its keys and the scroll are :class:`CursorView`'s; the painted lines, kept while
    they are the same, :class:`RowLines`'. This class takes the caller's data and says what a
    line shows.

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

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"virtual-table--{part}" for part in PARTS}
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
        super().__init__(
            order, 1 if show_header else 0, name=name, id=id, classes=classes, disabled=disabled
        )
        self._lines: RowLines[RowT] = RowLines(columns, render_row, cell_padding, cache_size)
        self._renderer = render_row
        self._rows: Mapping[str, RowT] = rows if rows is not None else {}
        self._row_state = row_state
        self._clock = now or _utc_now
        self._now = self._clock()
        self._sort: tuple[str | None, str] = (None, "")

    # -- what the table shows -------------------------------------------------------------

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column, in order."""
        return self._lines.columns

    @property
    def column_layout(self) -> Layout:
        """The columns shown at the current width, with their widths."""
        self._ensure_layout()
        return self._lines.layout

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns shown at the current width, left to right."""
        return [column.key for column, _ in self.column_layout]

    def cells(self, key: str) -> Sequence[Cell] | None:
        """What the row of ``key`` shows now, one cell per column (None if there is no row)."""
        row = self._rows.get(key)
        if row is None:
            return None
        return self._renderer(row, self._state_of(key), self._now)

    @property
    def now(self) -> datetime:
        """The time relative times are shown against (set by :meth:`retime`)."""
        return self._now

    # -- data -----------------------------------------------------------------------------

    def set_rows(self, rows: Mapping[str, RowT], order: Sequence[str]) -> None:
        """Show other rows altogether (every cached line is dropped); the cursor is kept by key."""
        self._rows = rows
        self._lines.clear()
        self._set_order(order, repaint=True)

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
        self._lines.changed(changed_keys | removed_keys)
        if order is None and removed_keys:
            order = [key for key in self._keys.keys if key not in removed_keys]
        if order is not None:
            self._set_order(order)
        self.refresh_keys(changed_keys | removed_keys)

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
        body = self._body_height()
        stale = [
            index for index in range(top, min(len(order), top + body)) if order[index] in wanted
        ]
        if len(stale) * 2 > body:
            self.refresh()  # most of the screen (a mark of all): one region, not a line each
            return
        for index in stale:
            self._refresh_index(index)

    def retime(self, now: datetime | None = None) -> None:
        """Bring relative times up to date: the rows on screen whose cells read otherwise at the
        new time are repainted, no other (most relative times read the same a refresh later)."""
        self._now = now if now is not None else self._clock()
        self._lines.retimed()
        if not self.is_mounted or self._lines.width != max(0, self.scrollable_content_region.width):
            self.refresh()  # not painted at this width yet: everything is painted anyway
            return
        order, console, cursor_index = self._keys.keys, self.app.console, self._keys.index
        top = self.scroll_offset.y
        for index in range(top, min(len(order), top + self._body_height())):
            key = order[index]
            row = self._rows.get(key)
            if row is None:
                continue
            state, cursor = self._state_of(key), index == cursor_index
            before = self._lines.kept(key, row, state, cursor)
            if self._lines.row(key, row, state, cursor, self._now, console) is not before:
                self._refresh_index(index)

    def set_sort_indicator(self, column_key: str | None, indicator: str = "") -> None:
        """Show ``indicator`` (an arrow, say) after the title of ``column_key``; None: nowhere."""
        if self._sort != (column_key, indicator):
            self._sort = (column_key, indicator)
            self.refresh(Region(0, 0, self.size.width, self._header_height))

    # -- cursor ---------------------------------------------------------------------------

    def _cursor_key_moved(self, key: str | None, index: int) -> None:
        self.post_message(self.CursorMoved(self, key, index))

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
        self._lines.set_styles(
            Styles(
                self.rich_style,
                *(self.get_component_rich_style(f"virtual-table--{part}") for part in PARTS),
            )
        )
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the view: the header, a row, or blank."""
        if y < self._header_height:
            return self._lines.header(self._sort, self.app.console)
        index = self.scroll_offset.y + y - self._header_height
        order = self._keys.keys
        if 0 <= index < len(order):
            key = order[index]
            row = self._rows.get(key)
            if row is not None:
                cursor = index == self._keys.index
                state = self._state_of(key)
                return self._lines.row(key, row, state, cursor, self._now, self.app.console)
        return self._lines.blank()

    def _state_of(self, key: str) -> RowState:
        return self._row_state(key) if self._row_state is not None else RowState.NONE

    def _ensure_layout(self) -> None:
        self._lines.set_width(max(0, self.scrollable_content_region.width))
