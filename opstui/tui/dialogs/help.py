"""HelpScreen: the keys of the app, by section, in a scrolling two-column table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget

from opstui.tui.dialogs._base import DialogScreen, safe_text, text_line, title_line
from opstui.tui.widgets.footer import KeysFooter

HelpSection = tuple[str, Sequence[tuple[str, str]]]
"""A section title and its (key, description) rows."""


class KeyTable(Widget):
    """One help section: keys in a fixed-width column, descriptions wrapping beside them."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-table--key"}

    DEFAULT_CSS = """
    KeyTable {
        height: auto;
        width: 1fr;
        .key-table--key {
            text-style: bold;
            color: $text-accent;
        }
    }
    """

    def __init__(self, rows: Sequence[tuple[str, str]], *, key_width: int) -> None:
        super().__init__()
        self._rows = [(safe_text(key), safe_text(description)) for key, description in rows]
        self._key_width = key_width

    def render(self) -> RenderableType:
        key_style = self.get_component_rich_style("key-table--key")
        table = Table.grid(padding=(0, 2), expand=True)
        table.add_column(width=self._key_width, no_wrap=True, overflow="ellipsis")
        table.add_column(ratio=1)
        for key, description in self._rows:
            table.add_row(Text(key, style=key_style), Text(description))
        return table


class HelpScreen(DialogScreen[None]):
    """The key reference: a titled table per section; `escape`, `q` or `?` closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        #help-body {
            height: auto;
            max-height: 75vh;
            scrollbar-size-vertical: 1;
        }
        .help-section {
            width: 1fr;
            text-style: bold underline;
        }
        KeyTable {
            margin-bottom: 1;
        }
    }
    """

    AUTO_FOCUS = "#help-body"

    KEY_MAX_WIDTH = 20
    """Keys wider than this are truncated."""

    def __init__(self, *, sections: Sequence[HelpSection]) -> None:
        """Build the screen.

        Args:
            sections: The sections, in order, each a title and its (key, description) rows.
        """
        super().__init__()
        self.sections = [(title, list(rows)) for title, rows in sections]

    def compose(self) -> ComposeResult:
        widths = [Text(safe_text(key)).cell_len for _, rows in self.sections for key, _ in rows]
        key_width = min(max(widths, default=1), self.KEY_MAX_WIDTH)
        with Vertical(id="dialog"):
            yield title_line("Keys")
            with VerticalScroll(id="help-body"):
                for title, rows in self.sections:
                    yield text_line(title, classes="help-section")
                    yield KeyTable(rows, key_width=key_width)
        yield KeysFooter()

    def action_close(self) -> None:
        """Close the screen."""
        self.finish(None)
