"""The live refresh's everyday read: the pipelines changed since the last look, newest first.

Why this read, and not the hot set by ``status`` every interval
-------------------------------------------------------------------
At ten thousand pipelines the hot set (running, paused, awaiting approval, the rows on screen,
the marks, the open details) is 15-25% of the tenant: two thousand documents every five seconds,
most of them unchanged since the last poll. What the app needs is the documents that *changed*,
and the contract offers exactly that order: ``GET /api/v2/pipelines?sortOption=lastupdated``
(``updatedAt`` descending; a CHOICE the contract lists beside the portal's other sorts). So each
poll reads that list from its first page and stops at the first page that reaches documents
older than the **watermark** (the newest ``updatedAt`` the last read saw): a quiet tenant costs
one small page a poll, a busy one what changed, never what did not.

What it rests on (the assumptions, each checked or stated)
-----------------------------------------------------------
- **Every change a user would see bumps ``updatedAt``.** Opsera stores pipelines with mongoose
  ``timestamps``, which set ``updatedAt`` on every save of the document; the run state the
  portal shows (``state``, ``workflow.last_step``, ``workflow.last_run``) lives in the document
  and is saved with it. The simulator stamps every such change too (step entered, gate reached,
  run finished, stop, reset, approve, reject, update: :mod:`opstui.sim.engine`). A change that
  does not bump it (a document without ``updatedAt``) is what a watermark cannot see: those
  pipelines are read by ``status`` as before (:func:`blind`).
- **The stamps come from the server's clock, and only they are compared.** The app's own clock
  never enters: a skewed laptop clock (or a simulator running at 60x) changes nothing. The
  watermark is the newest stamp the last changes read saw; before the first one, the newest
  stamp on the server read just before the first full list (:func:`read_mark`, one record).
  A later full list keeps the watermark: it was read before the list began, so whatever changed
  while the list was on its way is stamped later. Every read goes on past the watermark by a
  safety :data:`OVERLAP`: documents stamped within it of the watermark are
  read again, so equal stamps (milliseconds, at best) across a page boundary or across two
  polls, a save stamped before a write that landed late, and skew between the API's own nodes
  are all covered. A document read twice merges as unchanged (the store keeps the newer).
- **Absence from this read is never a deletion** (issue 7): it is a partial list by design. It
  only adds and replaces. Creations arrive in it (a new document is stamped now); deletions are
  noticed by the answer's ``count``: when the server's total no longer adds up to what the store
  holds (plus the records the last full list could not read), the full list runs at once, and
  only a complete full list removes rows. The full list otherwise runs rarely
  (:data:`FULL_LIST_SECONDS`), a safety net, not the refresh.
- **The server really sorts by ``updatedAt``.** A server that ignores ``sortOption`` (or sends no
  ``updatedAt``) answers in some other order: the read notices (a document newer than the one
  before it, or one without a stamp) and the service falls back, once and says so, to the hot
  set by ``status`` (:mod:`opstui.tui.data.pipelines`).

Neither timers nor toasts here: :mod:`opstui.tui.data.service` decides when.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opstui.api import OpseraClient, Pipeline, PipelineStatus
from opstui.api.listing import SortOption
from opstui.tui.data.pipelines import prepared
from opstui.tui.store import PipelinesChanged, PipelineStore

__all__ = [
    "CHANGES_SORT",
    "FULL_LIST_SECONDS",
    "MAX_CHANGE_PAGES",
    "MAX_PAGE",
    "MIN_PAGE",
    "OVERLAP",
    "ChangesRead",
    "blind",
    "most_pages",
    "next_page_size",
    "read_changes",
    "read_mark",
]

CHANGES_SORT: SortOption = "lastupdated"
"""``updatedAt`` descending: the most recently changed first."""

OVERLAP = timedelta(seconds=2)
"""How far before the watermark a read goes on: equal stamps, late writes, skew between nodes."""

MIN_PAGE = 100
"""The smallest page of a changes read (a quiet tenant: one page of this a poll)."""
MAX_PAGE = 1000
"""The documented cap on one response."""

MAX_CHANGE_PAGES = 5
"""The fewest pages of changes one poll reads before it lists instead (:func:`most_pages`)."""

FULL_LIST_SECONDS = 600.0
"""How often the full list runs by itself while changes are read: every ten minutes or so."""

Observe = Callable[[PipelinesChanged], None]


@dataclass
class ChangesRead:
    """How a changes read went."""

    ordered: bool = True
    """False when the answer was not in ``updatedAt`` order, or a document had no stamp:
    the server does not sort by last update, and this read says nothing reliable."""
    total: int | None = None
    """The server's ``count`` of every pipeline (from the first page), if it sent one."""
    newest: datetime | None = None
    """The newest stamp read: the next watermark."""
    documents: int = 0
    """Documents read, all told."""
    recent: int = 0
    """Documents read stamped since the cutoff (changed, or read again within the overlap)."""
    pages: int = 0
    reached: bool = False
    """True when the read got back to the watermark (or to the end of the list): it saw every
    change since. False when it stopped at :func:`most_pages` first."""


def most_pages(total: int | None) -> int:
    """Pages of changes one poll reads at most before the service lists instead: half the pages
    the full list would read, and never fewer than :data:`MAX_CHANGE_PAGES` (ten thousand
    pipelines: 5; fifty thousand: 25). A fixed five listed all fifty thousand (82 MB in 200
    requests) on the bench's first poll; with this, the whole minute's changes took 23 pages."""
    if total is None:
        return MAX_CHANGE_PAGES
    return max(MAX_CHANGE_PAGES, -(-total // MAX_PAGE) // 2)


def next_page_size(recent: int) -> int:
    """The page size for the next changes read: half again the changes the last one found, within
    :data:`MIN_PAGE` and :data:`MAX_PAGE`, so a busy tenant takes one request, a quiet one
    one small page."""
    return max(MIN_PAGE, min(MAX_PAGE, recent + recent // 2))


async def read_mark(client: OpseraClient) -> tuple[datetime | None, bool]:
    """The newest stamp on the server now (one record, newest first), read before a full list:
    whatever changes while the full list is on its way is stamped later, so the first changes
    read after it starts from here. Returns (stamp, whether the record had one)."""
    async with aclosing(client.pipeline_pages(sort=CHANGES_SORT, page_size=1)) as pages:
        async for page in pages:
            if not page:
                return None, True  # an empty tenant: nothing to mark, nothing wrong
            stamp = page[0].updated_at
            return stamp, stamp is not None
    return None, True


async def read_changes(
    client: OpseraClient,
    store: PipelineStore,
    since: datetime,
    observe: Observe,
    *,
    page_size: int = MIN_PAGE,
) -> ChangesRead:
    """Read the pipelines changed since ``since`` (minus :data:`OVERLAP`), newest first, page
    by page, merging each page as it lands (it only adds and replaces, never removes).

    One page of ``page_size`` (what the last reads suggest, :func:`next_page_size`); when it held
    only changes, the read starts over in pages of :data:`MAX_PAGE` (its first page holds that
    first one again: the cheapest way to change page size while paging by number), and stops
    after the first page holding a document older than the cutoff, at the end of the list, or
    after :func:`most_pages` (``reached`` False: the service lists instead). An
    :class:`~opstui.api.OpseraError` propagates (what landed stays merged).
    """
    read = ChangesRead()
    scan = _Scan(since - OVERLAP, read)
    whole = page_size >= MAX_PAGE
    await _pass(client, store, observe, scan, page_size, None if whole else 1)
    if not read.reached and read.ordered and not whole:
        await _pass(client, store, observe, scan, MAX_PAGE, None)
    return read


@dataclass
class _Scan:
    cutoff: datetime
    read: ChangesRead
    seen: set[str] = field(default_factory=set)

    def take(self, page: list[Pipeline], last: datetime | None) -> tuple[bool, datetime | None]:
        """Check the order of ``page`` and count what is recent; (reached older ones, last)."""
        read = self.read
        older = False
        for pipeline in page:
            stamp = pipeline.updated_at
            if stamp is None or (last is not None and stamp > last):
                read.ordered = False
                return False, last
            last = stamp
            if read.newest is None or stamp > read.newest:
                read.newest = stamp
            if stamp < self.cutoff:
                older = True
            elif pipeline.id not in self.seen:
                self.seen.add(pipeline.id)
                read.recent += 1
        return older, last


async def _pass(
    client: OpseraClient,
    store: PipelineStore,
    observe: Observe,
    scan: _Scan,
    page_size: int,
    most: int | None,
) -> None:
    """One pass of pages of ``page_size``: ``most`` of them, or (None) :func:`most_pages` of the
    tenant's count."""
    read = scan.read
    last: datetime | None = None
    pages = 0
    async with aclosing(client.pipeline_pages(sort=CHANGES_SORT, page_size=page_size)) as listed:
        async for page in listed:
            pages += 1
            read.pages += 1
            if read.total is None:
                read.total = page.total
            older, last = scan.take(page, last)
            if not read.ordered:
                return  # in no order we can use: merge nothing from it (see the docstring)
            read.documents += len(page)
            if page:
                same = await prepared(store, page)
                observe(store.apply_status((), page, same=same))
            if older:
                read.reached = True
                return
            if pages >= (most_pages(read.total) if most is None else most):
                return
    read.reached = True  # the end of the list


_PLANNED = frozenset({PipelineStatus.PAUSED})


def blind(store: PipelineStore, ids: set[str]) -> set[str]:
    """Of ``ids`` (the hot set), those a watermark cannot see: a held document without
    ``updatedAt`` (its changes cannot be ordered), or a paused one whose document came without
    its plan (a list may leave the plan out; then a gate cannot be recognised from it, and the
    ``status`` answer carries it all)."""
    pipelines = store.pipelines
    found: set[str] = set()
    for key in ids:
        pipeline = pipelines.get(key)
        if pipeline is None:
            continue
        if pipeline.updated_at is None or (pipeline.status in _PLANNED and not pipeline.plan):
            found.add(key)
    return found
