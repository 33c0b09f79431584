"""Paged list reads, and how far a list can be trusted to be the whole truth.

The client lists in a stable order by default (``sortOption=oldest``: a pipeline created
between two pages lands at the end instead of shifting the rest). A listing is ``complete``
(absence from it means gone) only when every page was read, the server's ``count`` was the same
on every page, and the distinct ids read plus the records that could not be read add up to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Literal, TypedDict, TypeVar, get_args

from opstui.api.decoding import Page
from opstui.api.errors import RequestRefusedError
from opstui.api.models import Listing, Pipeline, Task

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGES",
    "STABLE_SORT",
    "ListFilters",
    "ListPage",
    "PageTally",
    "SortOption",
    "list_params",
]

DEFAULT_PAGE_SIZE = 1000
"""The documented cap on one response; fewer round trips for large tenants."""
MAX_PAGES = 1000

SortOption = Literal[
    "newest", "oldest", "name", "name-descending", "lastupdated", "earliest-updated"
]
STABLE_SORT: SortOption = "oldest"
"""createdAt ascending: new records append, so pages do not shift under a reader."""

DocT = TypeVar("DocT", Pipeline, Task)
ItemT = TypeVar("ItemT")


class ListFilters(TypedDict, total=False):
    """What a list of pipelines or tasks can be narrowed and ordered by (all optional)."""

    search: str | None
    """Name, description or id contains this."""
    status: str | None
    """The server's own status filter."""
    type: str | None
    owner: str | None
    tag: str | None
    """``type:value`` or a value."""
    active: bool | None
    sort: SortOption | None
    """The server's order; by default ``oldest``, the one order a listing can be complete in."""
    page_size: int
    """Records per request, 1 to 1000 (default 1000, the documented cap)."""


_FILTER_NAMES = frozenset(ListFilters.__annotations__)


def list_params(filters: ListFilters) -> tuple[dict[str, str], int]:
    """The query parameters of a list request (paging aside), and the page size."""
    unknown = set(filters) - _FILTER_NAMES
    if unknown:
        raise RequestRefusedError(f"unknown list filter {sorted(unknown)[0]!r}")
    page_size = filters.get("page_size", DEFAULT_PAGE_SIZE)
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 1000:
        raise RequestRefusedError("page size must be between 1 and 1000")
    sort = filters.get("sort") or STABLE_SORT
    if sort not in get_args(SortOption):
        raise RequestRefusedError(f"{sort!r} is not a sort option")
    params: dict[str, str] = {}
    for name, value in filters.items():
        if name in ("page_size", "sort") or value is None or value == "":
            continue
        params[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    params["sortOption"] = sort
    return params, page_size


class ListPage(Listing[ItemT]):
    """One page of a paged read, as it lands: a :class:`Listing` and the server's total.

    ``total`` is the ``count`` the server sent with the page (None when it sent none), so a
    reader can say ``loading 3,000 / 10,000`` while the rest is on its way.
    """

    def __init__(
        self,
        items: list[ItemT],
        *,
        skipped: int = 0,
        complete: bool = True,
        total: int | None = None,
    ) -> None:
        super().__init__(items, skipped=skipped, complete=complete)
        self.total = total


@dataclass
class PageTally(Generic[DocT]):
    """Follows a paged read: what each page adds, when to stop, and whether it was complete."""

    page_size: int
    stable: bool
    """Read in the stable order (``oldest``); any other order is never complete."""
    seen: set[str] = field(default_factory=set)
    skipped: int = 0
    pages: int = 0
    counts: set[int | None] = field(default_factory=set)
    done: bool = False
    complete: bool = False

    def take(self, page: Page[DocT]) -> ListPage[DocT]:
        """The records of ``page`` not seen on an earlier one; sets ``done`` and ``complete``.

        The listing's ``complete`` is False on every page but the last of a complete read.
        """
        self.pages += 1
        self.counts.add(page.count)
        self.skipped += page.skipped
        fresh: list[DocT] = []
        for item in page.items:
            if item.id not in self.seen:
                self.seen.add(item.id)
                fresh.append(item)
        # A later page that brings nothing new is the same page again (a server that ignores
        # paging), or unreadable records only: either way, reading on would never end.
        repeated = self.pages > 1 and not fresh and page.records > 0
        count = page.count
        read_all = page.records < self.page_size or (
            count is not None and len(self.seen) + self.skipped >= count
        )
        self.done = repeated or read_all or self.pages >= MAX_PAGES
        if self.done:
            self.complete = self.stable and not repeated and read_all and self._adds_up()
        return ListPage(fresh, skipped=page.skipped, complete=self.complete, total=count)

    def preview(self, page: Page[DocT], size: int) -> ListPage[DocT]:
        """A small first page of ``size`` read before the full-sized pages (so the first rows
        show sooner): its records are also on the first full page, which counts them.

        A short preview is the whole list (taken as a page); a full one only adds its ids to
        what was seen (so the first full page does not hand them out again) and its count to
        the counts that must agree. Its ``skipped`` is 0: the first full page counts those.
        """
        if page.records < size:
            return self.take(page)
        self.counts.add(page.count)
        fresh: list[DocT] = []
        for item in page.items:
            if item.id not in self.seen:
                self.seen.add(item.id)
                fresh.append(item)
        return ListPage(fresh, complete=False, total=page.count)

    def last_page(self) -> int | None:
        """The number of the last full-sized page, by the latest count (None: no count yet)."""
        counts = [count for count in self.counts if count is not None]
        if not counts:
            return None
        return max(1, -(-max(counts) // self.page_size))

    def _adds_up(self) -> bool:
        if self.counts == {None}:
            return self.pages == 1  # no count: only one short page can be everything
        if len(self.counts) != 1:
            return False  # the count moved between pages, or was missing from some
        [count] = self.counts
        return count is not None and len(self.seen) + self.skipped == count

    def listing(self, items: list[DocT]) -> Listing[DocT]:
        """All the records read, with the verdict of the whole read."""
        return Listing(items, skipped=self.skipped, complete=self.done and self.complete)
