"""The one table widget of the app: rows keyed by id, drawn line by line (Textual's Line API).

- :class:`VirtualTable`: the widget (cursor kept by key, cached lines, cost by rows on screen);
- :class:`Column` and :func:`layout_columns`: the one rule for which columns fit and how wide;
- :func:`fit_plain` / :func:`fit_cell`: a cell cut (cell-width aware, with ``…``) or padded
  to its width, cleaned of control characters;
- :class:`RowState`: the marks and highlight a caller reports for a row.
"""

from opstui.tui.widgets.vtable.layout import (
    Cell,
    Column,
    Layout,
    fit_cell,
    fit_plain,
    layout_columns,
)
from opstui.tui.widgets.vtable.lines import RowRenderer, RowState
from opstui.tui.widgets.vtable.table import VirtualTable

__all__ = [
    "Cell",
    "Column",
    "Layout",
    "RowRenderer",
    "RowState",
    "VirtualTable",
    "fit_cell",
    "fit_plain",
    "layout_columns",
]
