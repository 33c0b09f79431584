"""How the data service reads pipelines: the hot set by status, the full list page by page.

Two reads, each merged into the store as it lands (by ``updatedAt``: the newer document wins):

- :func:`read_status`: the ``status`` of the hot set (running, paused, awaiting approval, what a
  screen shows or holds, the open details) in batches of :data:`STATUS_BATCH` ids;
- :func:`read_list`: every pipeline, page after page (``pipeline_pages``), each page applied
  as it lands; a failed page keeps the pages that landed, and only a complete read removes the
  pipelines it did not bring.

:func:`status_of` reads in the same batches for an action's re-checks, which merge nothing.

Neither knows of timers, workers or toasts: :mod:`opstui.tui.data.service` decides when.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from opstui.api import Listing, NotFoundError, OpseraClient, Pipeline, Task
from opstui.api.listing import DEFAULT_PAGE_SIZE
from opstui.tui.changed import ChangeSum
from opstui.tui.data.merge import prepare
from opstui.tui.flights import Kind
from opstui.tui.store import Loading, PipelinesChanged, PipelineStore

__all__ = [
    "FIRST_LOAD_AHEAD",
    "FIRST_PAGE",
    "FULL_LIST_SECONDS",
    "REFRESH_PAGE",
    "STATUS_BATCH",
    "ListRead",
    "StatusRead",
    "batches",
    "read_list",
    "read_status",
    "status_of",
]

STATUS_BATCH = 1000
"""Ids in one ``status`` request. The contract caps a list response at 1000 records and sets
no cap on a status target; a status answer is held to the same size as a list page (one
answer of fifty thousand documents is one parse of about 250 ms that holds the interpreter, and
so the event loop, even in a thread)."""

FULL_LIST_SECONDS = 60.0
"""How often the full list runs by itself (new and deleted pipelines): about once a minute."""

FIRST_PAGE = 100
"""The first load's first page: a screenful and more, on screen before the large pages land."""

FIRST_LOAD_AHEAD = 3
"""Pages of the first load on their way at once (the server works while the last one decodes)."""

REFRESH_PAGE = 250
"""Pipelines per page of a later full list. Decoding a page parses its JSON in one call that
holds the interpreter lock (about 22 ms for a page of 1000 on this kind of machine): the event
loop waits that long for it, so a background list reads smaller pages, one at a time."""

PREPARE_AT = 200
"""From this many documents on, what a merge can do before it is done in a thread."""

Observe = Callable[[PipelinesChanged], None]


async def prepared(
    store: PipelineStore, pipelines: Sequence[Pipeline]
) -> dict[str, Pipeline] | None:
    """:func:`~opstui.tui.store.prepare` in a thread, for a batch worth it (None: not done)."""
    if len(pipelines) < PREPARE_AT:
        return None
    return await asyncio.to_thread(prepare, pipelines, store.pipelines)


def batches(ids: Iterable[str], size: int = STATUS_BATCH) -> list[list[str]]:
    """``ids`` sorted (so requests are the same from run to run), in lists of ``size``."""
    ordered = sorted(ids)
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


async def status_of(
    client: OpseraClient, kind: Kind, ids: Sequence[str], size: int = STATUS_BATCH
) -> Listing[Pipeline] | Listing[Task]:
    """The current documents of ``ids``, read ``size`` at a time, one batch after
    another: what an action's re-check reads (before it is sent, or after its outcome was
    unknown), which merges nothing into the store.

    ``complete`` is False when an answer carried no documents (the v1 shape). A batch answered
    404 brings none of its ids (the caller treats an id the answer lacks as one it cannot act
    on); a 404 for every batch raises :class:`NotFoundError`, as one request for them would.
    """
    found: list[Any] = []
    skipped = 0
    complete = True
    refused: NotFoundError | None = None
    answered = False
    for batch in batches(ids, size):
        try:
            if kind == "pipeline":
                answer: Listing[Pipeline] | Listing[Task] = await client.pipeline_status(batch)
            else:
                answer = await client.task_status(batch)
        except NotFoundError as error:
            refused = error
            continue
        answered = True
        found.extend(answer)
        skipped += answer.skipped
        complete = complete and answer.complete
    if refused is not None and not answered:
        raise refused
    return Listing(found, skipped=skipped, complete=complete)


@dataclass
class StatusRead:
    """What a status read brought, beyond what it merged into the store."""

    documents: bool = True
    """False when an answer carried no documents (the v1 shape): it said nothing."""
    missing: set[str] = field(default_factory=set)
    """Ids asked for that the answers (with documents) did not carry: perhaps deleted."""
    gone: set[str] = field(default_factory=set)
    """Ids the server answered 404 for, one at a time: deleted."""
    found: set[str] = field(default_factory=set)
    """Ids the answers carried."""


async def read_status(
    client: OpseraClient, store: PipelineStore, ids: Iterable[str], observe: Observe
) -> StatusRead:
    """Read the status of ``ids`` in batches, merging each answer as it lands.

    A 404 for one id removes it (the one proof a status read gives); a 404 for a batch of
    several says nothing of any one of them, so they are only ``missing``. An :class:`OpseraError`
    other than a 404 ends the read (what landed stays merged) and propagates.
    """
    result = StatusRead()
    for batch in batches(ids):
        try:
            answer = await client.pipeline_status(batch)
        except NotFoundError:
            if len(batch) == 1:
                result.gone.update(batch)
                observe(store.apply_gone(batch))
            else:
                result.missing.update(batch)
            continue
        if not answer.complete:
            result.documents = False
            continue
        same = await prepared(store, answer)
        observe(store.apply_status(batch, answer, same=same))
        carried = {pipeline.id for pipeline in answer}
        result.found |= carried
        result.missing.update(key for key in batch if key not in carried)
    return result


@dataclass
class ListRead:
    """How a full list went: what it brought, and whether it was the whole truth."""

    seen: set[str] = field(default_factory=set)
    skipped: int = 0
    complete: bool = False
    pages: int = 0


async def read_list(
    client: OpseraClient,
    store: PipelineStore,
    observe: Observe,
    *,
    progress: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
    preview: int | None = None,
    ahead: int = 1,
) -> ListRead:
    """Read every pipeline page after page, applying each page as it lands.

    ``progress`` says ``loading 3,000 / 10,000`` in the store's live state while pages land
    (the first load). The first page is published at once, the later ones together when the read
    ends (a redraw of ten thousand rows costs more than a page). Only a complete read removes the
    pipelines it did not bring; a failed page keeps what landed and propagates its
    :class:`OpseraError`. ``preview`` and ``ahead`` are :meth:`OpseraClient.pipeline_pages`'s.
    """
    read = ListRead()
    held: ChangeSum | None = None
    """The pages after the first, summed as they land (published together at the end)."""
    try:
        listed = client.pipeline_pages(page_size=page_size, preview=preview, ahead=ahead)
        async with aclosing(listed) as pages:
            async for page in pages:
                read.pages += 1
                read.seen.update(pipeline.id for pipeline in page)
                read.skipped += page.skipped
                read.complete = page.complete
                gone: list[str] = []
                if page.complete:
                    gone = [key for key in store.pipelines if key not in read.seen]
                # The first page is on screen at once; the rest lands in the store page by page
                # (a failed page keeps them) and reaches the screens as one change.
                same = await prepared(store, page)
                change = store.apply_page(page, gone=gone, publish=read.pages == 1, same=same)
                observe(change)
                if read.pages > 1:
                    held = (held or ChangeSum()).add(change)
                if progress:
                    store.loading(Loading(len(read.seen), page.total))
    finally:
        if held is not None:
            store.publish(held.result())
    store.skipped = read.skipped
    if progress:
        store.loading(None)
    return read
