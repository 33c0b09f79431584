"""FilterBar: the line under the table, saying what is shown, or taking the filter as it is typed.

Not editing: ``Awaiting approval · 8 of 40 · filter "pay" · 2 marked            sorted by name ▲``.
Editing (after ``/``): ``/ pay▏`` in an input that filters as you type.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Static

__all__ = ["FilterBar", "FilterInput"]


class FilterInput(Input):
    """The filter field (name, id, owner, tags)."""


class FilterBar(Horizontal):
    """The filter input, or a summary of the view when not editing."""

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        #filter-prompt {
            width: 2;
            display: none;
            text-style: bold;
        }
        FilterInput {
            display: none;
            border: none;
            height: 1;
            padding: 0;
            width: 1fr;
            background: $panel;
            &:focus {
                border: none;
                background-tint: $foreground 0%;
            }
        }
        #summary-left {
            width: 1fr;
            height: 1;
        }
        #summary-right {
            width: auto;
            height: 1;
            color: $text-muted;
        }
        &.-editing {
            #filter-prompt, FilterInput {
                display: block;
            }
            #summary-left, #summary-right {
                display: none;
            }
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._summary: tuple[Text | None, Text | None] = (None, None)

    def compose(self) -> ComposeResult:
        yield Static("/", id="filter-prompt")
        yield FilterInput(placeholder="filter by name, id, owner or tag", id="filter-input")
        yield Static(id="summary-left", markup=False)
        yield Static(id="summary-right", markup=False)

    @property
    def input(self) -> FilterInput:
        """The filter field."""
        return self.query_one(FilterInput)

    @property
    def editing(self) -> bool:
        """True while the filter field is shown."""
        return self.has_class("-editing")

    def open(self, value: str) -> None:
        """Show the field holding ``value`` and focus it."""
        self.add_class("-editing")
        field = self.input
        if field.value != value:
            field.value = value
        field.cursor_position = len(value)
        field.focus()

    def close(self) -> None:
        """Hide the field (the filter it holds stays in force)."""
        self.remove_class("-editing")

    def set_summary(self, left: Text, right: Text, *, right_width: int = 0) -> None:
        """What the line says while not editing; the right part is padded to ``right_width``
        cells (the widest it can say).

        A repaint of the part that changed, nothing more: the left part takes the width left
        over whatever it says, so only a right part of another width makes the screen lay out
        again (a layout of the whole screen costs more than the rest of a key press: at ten
        thousand pipelines, half of a sort's 106 ms was the layout its wider words caused).
        """
        if right.cell_len < right_width:
            right = right.copy()
            right.pad_left(right_width - right.cell_len)
        old_left, old_right = self._summary
        self._summary = (left, right)
        if old_left is None or left != old_left:
            self.query_one("#summary-left", Static).update(left, layout=False)
        if old_right is None or right != old_right:
            same_width = old_right is not None and right.cell_len == old_right.cell_len
            self.query_one("#summary-right", Static).update(right, layout=not same_width)
