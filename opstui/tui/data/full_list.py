"""The full list as the data service reads it: the first load, and every list after it.

Every pipeline, page after page (:func:`~opstui.tui.data.pipelines.read_list`), each page applied
as it lands: the first load in big pages, a first small one on screen at once and a few on their
way together; a later list in pages of :data:`~opstui.tui.data.pipelines.REFRESH_PAGE`. It runs
in a worker of its own (group ``refresh``): a refresh by hand replaces one in flight
(:meth:`FullList.refresh`), a poll that needs a list waits for the one in flight or starts one
(:meth:`FullList.wait`), and nothing else cancels it.

The first load also reads, beside its first page, the stamp the changes read starts from (the
watermark), and once it is over freezes what start-up and it made out of the collector's way
(``gc.freeze``, undone by :meth:`FullList.unfreeze`). When to list is the service's to decide
(:mod:`opstui.tui.data.service`).
"""

from __future__ import annotations

import asyncio
import gc
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual.worker import Worker, WorkerCancelled, WorkerFailed

from opstui.api import OpseraError
from opstui.tui.data.changes import read_mark
from opstui.tui.data.pipelines import FIRST_LOAD_AHEAD, FIRST_PAGE, REFRESH_PAGE, read_list

if TYPE_CHECKING:
    from opstui.tui.data.service import DataService

__all__ = ["EPOCH", "FullList"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""The watermark of an empty tenant: whatever comes is new."""


async def _drop(mark: asyncio.Future[Any] | None) -> None:
    """Cancel the mark read beside a full list that failed, and wait for it to end."""
    if mark is not None:
        mark.cancel()
        with suppress(asyncio.CancelledError, OpseraError):
            await mark


class FullList:
    """The data service's full list: one at a time, in a worker of its own.

    Attributes:
        listed: True once a full list was read to its end (the first load is over).
        due: True while the next poll must list (before the first load, or once a status
            answer missed a pipeline).
        polls: Polls since the last full list that ended well.
        froze: Whether the first load froze what it made out of the collector's way
            (gc.freeze), until :meth:`unfreeze`.
    """

    def __init__(self, service: DataService) -> None:
        self.service = service
        self.app = service.owner
        self.listed = False
        self.due = True
        self.polls = 0
        self.froze = False
        self._worker: Worker[None] | None = None

    def refresh(self) -> None:
        """The full list now, then the next poll armed: replaces one in flight, but cancels no
        status read."""
        self._worker = self.app.run_worker(self._list_then_arm, group="refresh", exclusive=True)

    async def wait(self) -> None:
        """The full list in flight to its end, or a new one if none is (a poll that lists)."""
        worker = self._worker
        if worker is None or worker.is_finished:
            worker = self._worker = self.app.run_worker(self._list, group="refresh", exclusive=True)
        with suppress(WorkerCancelled, WorkerFailed):
            await worker.wait()

    def unfreeze(self) -> None:
        """What the first load froze may go now (the service stops)."""
        if self.froze:
            # The next profile freezes its own; a test process runs app after app, which must
            # not pile up uncollectable.
            self.froze = False
            gc.unfreeze()

    async def _list_then_arm(self) -> None:
        self.service.stop_timer()
        await self._list()
        self.service.arm()

    async def _list(self) -> None:
        service = self.service
        first = not self.listed
        # Without a watermark yet (the first load), the newest stamp before the list: what
        # changes while it is on its way is stamped later, so the first changes read starts
        # there. Read beside the first page. A later list keeps the watermark it finds: it was
        # read before the list began, so it bounds what changed meanwhile just as well.
        mark = None
        if service.changes and service.watermark is None:
            mark = asyncio.ensure_future(read_mark(service.client))
        try:
            listed = await read_list(
                service.client,
                service.store,
                service.observe,
                progress=first,
                page_size=service.page_size if first else min(service.page_size, REFRESH_PAGE),
                preview=FIRST_PAGE if first else None,
                ahead=FIRST_LOAD_AHEAD if first else 1,
            )
        except OpseraError as error:
            await _drop(mark)
            if first:
                service.store.loading(None)
            service.failed(error)
            return
        except asyncio.CancelledError:
            if mark is not None:
                mark.cancel()
            raise
        if mark is not None:
            await self._take_mark(mark, complete=listed.complete)
        if first:
            # What start-up and the first load made lives as long as the app (modules, CSS, the
            # first screen, the pipelines): out of the cyclic collector's way, its full passes
            # neither stall the app (at ten thousand pipelines they, not the decoding, did) nor
            # wait so long that Textual's cyclic garbage spreads Python's arenas (the soak's
            # memory grew so). The young garbage goes first. A later freeze is the idle
            # collector's, after a full pass, when a new generation of the data survived it
            # (opstui/tui/memory.py). ``unfreeze`` undoes both.
            gc.collect(1)
            gc.freeze()
            self.froze = True
        self.listed = True
        self.due = False
        self.polls = 0
        service.succeeded()

    async def _take_mark(
        self, mark: asyncio.Future[tuple[datetime | None, bool]], *, complete: bool
    ) -> None:
        """The stamp read before the first full list becomes the watermark, once the list is
        complete (after an incomplete one a row may have slipped between pages: the next poll
        lists again). A mark that failed leaves no watermark: the next poll lists again."""
        try:
            stamp, stamped = await mark
        except OpseraError:
            return
        service = self.service
        if not stamped:
            service.sort_fallback()  # documents without updatedAt: no watermark can be kept
        elif not complete:
            return
        elif stamp is not None:
            service.watermark = stamp
        elif stamp is None and service.watermark is None:
            service.watermark = EPOCH  # an empty tenant: whatever comes is new
