"""CursorView: the cursor and the scroll of a table of keyed rows (what the table shows where).

The base of :class:`~opstui.tui.widgets.vtable.VirtualTable`: the ordered keys and the cursor
over them (:class:`~opstui.tui.widgets.vtable.keys.KeyedOrder`), the keys that move it, and the
scroll that keeps it on screen. What a line looks like is the table's (and ``RowLines``'); here,
only which lines need painting again: the two a cursor move touched, or the screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.geometry import Size
from textual.scroll_view import ScrollView

from opstui.tui.widgets.vtable.keys import KeyedOrder

__all__ = ["CursorView"]


class CursorView(ScrollView):
    """Ordered keys with a row cursor kept by key, drawn under ``header_height`` lines."""

    def __init__(
        self,
        order: Sequence[str],
        header_height: int,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._keys = KeyedOrder(order)
        self._placed = False
        """Whether the cursor was ever put somewhere (by a key, a click, the app): until then
        it stays on the first row as rows land (a first load of ten thousand, page by page,
        would otherwise carry it down the list with the row it started on)."""
        self._header_height = header_height
        self.set_reactive(CursorView.virtual_size, Size(0, len(order) + header_height))

    # -- what is shown --------------------------------------------------------------------

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

    @property
    def cursor_row(self) -> int:
        """The place of the cursor, from 0 at the top; -1 when no row is shown."""
        return self._keys.index

    @property
    def cursor_key(self) -> str | None:
        """The key under the cursor; None when no row is shown."""
        return self._keys.key

    # -- moving the cursor ----------------------------------------------------------------

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

    def _cursor_key_moved(self, key: str | None, index: int) -> None:
        """The cursor is on another key now (the table says so with a message)."""

    # -- order, cursor and scroll ---------------------------------------------------------

    def _body_height(self) -> int:
        return self.scrollable_content_region.height - self._header_height

    def _set_order(self, order: Sequence[str], *, repaint: bool = False) -> None:
        """Show ``order``; the screen is repainted when other keys show on it (or ``repaint``).

        A refresh that changed no key on screen, or a filter that left the screen as it was,
        repaints nothing (the caller repaints the keys whose rows changed).
        """
        old_index, old_key = self._keys.index, self._keys.key
        top, body = self.scroll_offset.y, self._body_height()
        was_on_screen = old_index >= 0 and top <= old_index < top + body
        shown = self._keys.keys[top : top + body]
        self._keys.reorder(order)
        if not self._placed:
            self._keys.move(0)
        self._set_height(len(order) + self._header_height)
        self._cursor_moved(old_index, old_key, scroll=False)
        if self.scroll_offset.y > self.max_scroll_y:
            self._scroll_y_to(self.max_scroll_y)
        if was_on_screen:
            self._scroll_into_view(self._keys.index)
        top = self.scroll_offset.y
        if repaint or body <= 0 or shown != order[top : top + body]:
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
            self.set_reactive(CursorView.virtual_size, Size(0, height))
            scrollbar = self.vertical_scrollbar
            scrollbar.window_virtual_size = height
            scrollbar.refresh()
        else:
            self.virtual_size = Size(0, height)

    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        self._placed = True
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
            self._cursor_key_moved(key, index)

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
