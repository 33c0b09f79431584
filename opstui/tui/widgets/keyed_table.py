"""What the pipelines table and the approvals inbox share: a DataTable of rows keyed by id.

Each keeps the rows it shows (``_rows``), their order (``_order``) and the columns that fit
(``_layout``), so the cursor, a row and a column can be named by key rather than by position.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from rich.text import Text
from textual.widgets import DataTable

__all__ = ["KeyedTable"]


class _Column(Protocol):
    @property
    def key(self) -> str: ...


RowT = TypeVar("RowT")
ColumnT = TypeVar("ColumnT", bound=_Column)


class KeyedTable(DataTable[Text], Generic[RowT, ColumnT]):
    """A row-cursor DataTable whose rows are pipelines, known by id."""

    DEFAULT_CSS = """
    KeyedTable {
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;
        &.-stale {
            text-opacity: 60%;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id, classes=classes)
        self._rows: dict[str, RowT] = {}
        self._order: list[str] = []
        self._layout: list[tuple[ColumnT, int]] = []

    @property
    def row_ids(self) -> list[str]:
        """The pipeline ids shown, top to bottom."""
        return list(self._order)

    @property
    def cursor_id(self) -> str | None:
        """The id of the pipeline under the cursor, if any."""
        index = self.cursor_row
        return self._order[index] if 0 <= index < len(self._order) else None

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns that fit, left to right."""
        return [column.key for column, _ in self._layout]

    def move_to(self, pipeline_id: str) -> bool:
        """Put the cursor on ``pipeline_id``; False if it is not shown."""
        if pipeline_id not in self._rows:
            return False
        self.move_cursor(row=self._order.index(pipeline_id))
        return True
