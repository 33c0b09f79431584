"""The floor opstui is measured against: a bare Textual ``DataTable`` + ``Footer``.

It fetches every pipeline once with httpx (pages of 1,000, as opstui does), adds one row per
pipeline and does nothing else: no live refresh, no derived state, no filters. Whatever opstui
costs above this is the price of what it does on top; the goals of issue 8 are ratios to it.

    OPSTUI_BASE_URL=... OPSTUI_TOKEN=... python -m bench.floor
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from textual import work
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer

PAGE_SIZE = 1000


def fetch_all(base_url: str, token: str) -> list[dict[str, Any]]:
    """Every pipeline document, page after page (stops on a short page)."""
    found: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for page in range(1, 1000):
            answer = client.get(
                "/api/v2/pipelines",
                params={"pageSize": PAGE_SIZE, "currentPage": page, "sortOption": "oldest"},
            )
            answer.raise_for_status()
            items = answer.json()["data"]
            found.extend(items)
            if len(items) < PAGE_SIZE:
                break
    return found


class FloorApp(App[None]):
    """A DataTable of every pipeline: name, state, owner, last update."""

    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, base_url: str, token: str) -> None:
        super().__init__()
        self.base_url = base_url
        self._token = token

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Name", "State", "Owner", "Updated")
        self.load()

    @work(thread=True)
    def load(self) -> None:
        documents = fetch_all(self.base_url, self._token)
        self.call_from_thread(self.show, documents)

    def show(self, documents: list[dict[str, Any]]) -> None:
        table = self.query_one(DataTable)
        table.add_rows(
            (
                str(doc.get("name", "")),
                str(doc.get("state", "")),
                str(doc.get("owner_name", "")),
                str(doc.get("updatedAt", ""))[:16],
            )
            for doc in documents
        )


def main() -> None:
    FloorApp(os.environ["OPSTUI_BASE_URL"], os.environ["OPSTUI_TOKEN"]).run()


if __name__ == "__main__":
    main()
