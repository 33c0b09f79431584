"""DataService: the app's one poll of pipelines, feeding the store and the open details.

Every interval one poll (a one-shot timer, re-armed when the poll ends, so polls never overlap):

- usually the pipelines changed since the last look (:mod:`opstui.tui.data.changes`: the list
  by last update, newest first, read back to the watermark; the design and its assumptions are
  argued there), and by ``status`` only what a watermark cannot see;
- on a server that does not sort by last update, the fallback, said once: one ``status`` request
  for the hot set: running, paused, awaiting approval, what the screens show or hold
  (:meth:`~opstui.tui.store.PipelineStore.set_interest`), the open details;
- rarely (every :data:`~opstui.tui.data.changes.FULL_LIST_SECONDS` while reading changes, every
  :data:`~opstui.tui.data.pipelines.FULL_LIST_SECONDS` in the fallback), and on ``ctrl+r``, after
  a create, clone or delete, when the server's count no longer adds up, or when a status answer
  missed a pipeline, the full list instead, each page applied as it lands;
- then, while the details of a pipeline are open, its activity log.

The full list (:mod:`opstui.tui.data.full_list`) runs in a worker of its own (group
``refresh``): a refresh by hand replaces one in flight, but the status read after an action
never cancels it, and it never cancels a status answer; the store keeps, of two documents, the
one updated later. A server whose status answers carry no documents (the v1 shape) makes every
poll of the fallback a full list, said once. Failures back off by the one rule
(:mod:`opstui.backoff`), through the store, and an outage is announced once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from textual.app import App
from textual.signal import Signal
from textual.timer import Timer

from opstui.api import (
    AuthenticationError,
    OpseraClient,
    OpseraError,
    PermissionDeniedError,
)
from opstui.api.listing import DEFAULT_PAGE_SIZE
from opstui.tui.data import changes
from opstui.tui.data.changes import blind, next_page_size, read_changes
from opstui.tui.data.details import DetailsRead
from opstui.tui.data.full_list import FullList
from opstui.tui.data.open import OpenDetails
from opstui.tui.data.pipelines import (
    FULL_LIST_SECONDS,
    STATUS_BATCH,
    read_status,
)
from opstui.tui.notify import Notifier
from opstui.tui.store import LivePhase, PipelinesChanged, PipelineStore, describe_error

__all__ = ["BACK_ONLINE", "SORT_FALLBACK", "V1_FALLBACK", "DataService"]

BACK_ONLINE = "Back online: the pipelines are live again."
V1_FALLBACK = (
    "This server's status answers carry no pipeline documents: "
    "the live refresh lists every pipeline instead."
)
SORT_FALLBACK = (
    "This server does not list pipelines by last update: "
    "the live refresh reads the moving ones by status instead."
)


class DataService:
    """The only code that polls pipelines: the hot set by status, the full list rarely.

    Attributes:
        store: Where what was read lands (screens subscribe to it).
        details: Published with a :class:`~opstui.tui.data.details.DetailsRead` after each read
            of the open pipeline's details.
        fallback: True once the server's status answers proved to carry no documents.
        changes: True while each poll reads what changed since :attr:`watermark`; False once
            the server proved not to sort by last update (or set so): the hot set by status.
        watermark: The newest ``updatedAt`` (the server's clock) known to have been read, or
            None before the first full list.
        timer: The next poll's timer (None while paused or while a poll runs).
    """

    def __init__(
        self,
        owner: App[Any],
        client: OpseraClient,
        store: PipelineStore,
        *,
        now: Callable[[], datetime],
        notifier: Notifier | None = None,
    ) -> None:
        self.owner = owner
        self.client = client
        self.store = store
        self.now = now
        self.notifier = notifier
        self.opened = OpenDetails(self)
        """The pipelines details screens show, and the reads only they need."""
        self.details: Signal[DetailsRead] = self.opened.details
        self.fallback = False
        self.changes = True
        self.watermark: datetime | None = None
        self.timer: Timer | None = None
        self.full_every = self._polls_in(changes.FULL_LIST_SECONDS)
        """Polls between two full lists: ten minutes' worth (a minute's in the fallback)."""
        self._changes_size = next_page_size(0)
        self.page_size = DEFAULT_PAGE_SIZE
        """Pipelines per page of the first load (the documented cap; a test lists in smaller
        pages); later lists read at most :data:`~opstui.tui.data.pipelines.REFRESH_PAGE`."""
        self.full_list = FullList(self)
        """The full list: the first load, and every list after it."""
        self._stopped = False

    @property
    def froze(self) -> bool:
        """Whether the first load is frozen out of the collector's way (until :meth:`stop`)."""
        return self.full_list.froze

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """The first load (the full list, its pages on screen as they land), then the polls."""
        self._stopped = False
        self.refresh_all()

    def stop(self) -> None:
        """No more polls, and none of this service's reads still on their way (the app is
        ending, or its profile is being replaced)."""
        self._stopped = True
        self.stop_timer()
        workers = self.owner.workers
        for group in ("poll", "refresh", "refresh-rows"):
            workers.cancel_group(self.owner, group)
        self.opened.cancel()
        self.full_list.unfreeze()

    def set_paused(self, paused: bool) -> None:
        """Pause the polls, or resume them with a full list at once."""
        self.store.set_paused(paused)
        if paused:
            self.stop_timer()
        else:
            self.refresh_all()

    def _polls_in(self, seconds: float) -> int:
        return max(1, math.ceil(seconds / max(self.store.refresh_interval, 0.001)))

    # -- what to read ---------------------------------------------------------------------

    def hot_set(self) -> set[str]:
        """What one poll reads by status: what can change by itself, and what someone looks at."""
        ids = set(self.store.hot())
        ids |= self.store.interest()
        ids.update(self.opened.ids())
        return ids

    def _needs_list(self, ids: set[str]) -> bool:
        full_list = self.full_list
        if full_list.due or not full_list.listed:
            return True
        if full_list.polls + 1 >= self.full_every:
            return True
        if self.changes:
            return self.watermark is None  # no mark to read changes from: list, and mark
        if self.fallback:
            return True
        if not ids:  # nothing can change by itself: a failed poll is retried by listing
            return self.store.state.phase not in (LivePhase.LIVE, LivePhase.PAUSED)
        return self._cheaper_to_list(len(ids))

    def _cheaper_to_list(self, count: int) -> bool:
        """Whether reading ``count`` pipelines by status costs more than listing them all: more
        than one batch, and more than half the tenant (as a changes read is held to half the
        full list's pages, :func:`~opstui.tui.data.changes.most_pages`: a status answer costs
        what a list page of as many documents does)."""
        return count > STATUS_BATCH and 2 * count > len(self.store.pipelines)

    # -- the poll -------------------------------------------------------------------------

    def stop_timer(self) -> None:
        """No next poll until :meth:`arm` (a poll, or a full list by hand, starts now)."""
        if self.timer is not None:
            self.timer.stop()
            self.timer = None

    def arm(self) -> None:
        """The next poll's timer, as the store's back-off says (none while paused or stopped)."""
        self.stop_timer()
        if not self.store.state.paused and not self._stopped:
            self.timer = self.owner.set_timer(self.store.next_delay(), self.poll_now)

    def poll_now(self) -> None:
        """One poll now, as the timer would start it (the hot set, or the full list when due)."""
        self.stop_timer()
        # Workers get the coroutine function, never a coroutine: one cancelled before it ran
        # would be a coroutine never awaited (a warning on stderr, noise at exit). Textual's
        # WorkType reads ``async def -> None`` as Never, hence the ignores.
        self.owner.run_worker(self._poll, group="poll", exclusive=True)  # type: ignore[arg-type]

    async def _poll(self) -> None:
        try:
            ids = self.hot_set()
            if self._needs_list(ids):
                await self.full_list.wait()
            elif self.changes:
                if await self._read_changes():
                    self.full_list.polls += 1
            elif ids and await self._read_hot(ids):
                self.full_list.polls += 1
            await self.opened.read_logs()
        finally:
            self.arm()

    async def _read_changes(self) -> bool:
        """What changed since the watermark; the full list at once when the count does not add
        up (a creation and a deletion, or a deletion) or too much changed to read page by page;
        what a watermark cannot see by status. False when the poll did not end well."""
        since = self.watermark
        assert since is not None  # _needs_list lists first
        try:
            read = await read_changes(
                self.client, self.store, since, self.observe, page_size=self._changes_size
            )
        except OpseraError as error:
            self.failed(error)
            return False
        if not read.ordered:
            self.sort_fallback()
            ids = self.hot_set()
            return bool(ids) and await self._read_hot(ids)
        self._changes_size = next_page_size(read.recent)
        if read.newest is not None and read.newest > since:
            self.watermark = read.newest
        if not read.reached or self._count_off(read.total):
            await self.full_list.wait()
            return False  # the list started the count of polls anew
        unseen = set() if self.fallback else blind(self.store, self.hot_set())
        if unseen:
            return await self._read_hot(unseen)
        self.succeeded()
        return True

    def _count_off(self, total: int | None) -> bool:
        """Whether the server's count of pipelines no longer adds up to what the store holds
        (with the records the last full list could not read): something was created and
        deleted, or deleted. Without a count, deletions wait for the next full list."""
        return total is not None and total != len(self.store.pipelines) + self.store.skipped

    async def _read_hot(self, ids: set[str]) -> bool:
        try:
            read = await read_status(self.client, self.store, ids, self.observe)
        except OpseraError as error:
            self.failed(error)
            return False
        if not read.documents:
            self.fall_back()
            await self.full_list.wait()
            return False
        if read.missing:
            self.full_list.due = True  # perhaps deleted: the next full list will say
            for key in read.missing & self.opened.ids():
                await self._read_one(key)
        self.succeeded()
        return True

    async def _read_one(self, pipeline_id: str) -> None:
        """The status of one pipeline alone: a 404 for it is the proof that it is gone."""
        try:
            await read_status(self.client, self.store, [pipeline_id], self.observe)
        except OpseraError:
            return  # the poll's own answer stands; the next full list tells the rest

    # -- the full list --------------------------------------------------------------------

    def refresh_all(self) -> None:
        """The full list now (``ctrl+r``, after a create, clone or delete): replaces one in
        flight, but cancels no status read."""
        self.full_list.refresh()

    # -- after an action ------------------------------------------------------------------

    def refresh_rows(self, ids: Iterable[str]) -> None:
        """Read ``ids`` again (after an action), in a worker of its own: a full list in flight
        goes on, and of two documents the store keeps the newer."""
        wanted = list(ids)
        if wanted:
            self.owner.run_worker(partial(self._rows, wanted), group="refresh-rows")  # type: ignore[arg-type]

    async def _rows(self, ids: list[str]) -> None:
        if self.fallback or self._cheaper_to_list(len(ids)):
            await self.full_list.wait()
            return
        try:
            read = await read_status(self.client, self.store, ids, self.observe)
        except OpseraError:
            return  # the next poll tells the story (and backs off) if the server is down
        if not read.documents:
            self.fall_back()
            await self.full_list.wait()

    # -- the open details -----------------------------------------------------------------

    def open_details(self, owner: object, pipeline_id: str) -> None:
        """``owner`` (a details screen) shows ``pipeline_id``: read it now, and with each poll."""
        self.opened.open(owner, pipeline_id)

    def close_details(self, owner: object) -> None:
        """``owner`` no longer shows a pipeline."""
        self.opened.close(owner)

    def refresh_details(self, owner: object) -> None:
        """Read the pipeline ``owner`` shows now: its status alone (a 404 says it is gone),
        then its activity log."""
        self.opened.refresh(owner)

    # -- outcomes -------------------------------------------------------------------------

    def observe(self, change: PipelinesChanged) -> None:
        """Hand what a read changed (only that) to the notifier."""
        if self.notifier is None:
            return
        if change.empty:
            self.notifier.release()  # news held for the gap after the last toast
            return
        pipelines = change.pipelines
        self.notifier.observe_changes(
            [pipelines[key] for key in change.updated if key in pipelines],
            change.removed,
            announce=self.full_list.listed,
        )

    def fall_back(self) -> None:
        """A status answer carried no documents (the v1 shape): say so once."""
        if not self.fallback:
            self.fallback = True
            self.owner.notify(V1_FALLBACK, title="Live refresh", markup=False, timeout=10)

    def sort_fallback(self) -> None:
        """The server proved not to list by last update: the hot set by status, said once."""
        if self.changes:
            self.changes = False
            self.full_every = self._polls_in(FULL_LIST_SECONDS)
            self.owner.notify(SORT_FALLBACK, title="Live refresh", markup=False, timeout=10)

    def succeeded(self) -> None:
        """A read landed: the store's live state, and "back online" after an outage."""
        if self.store.succeeded(self.now()):
            self.owner.notify(BACK_ONLINE, timeout=5)

    def failed(self, error: OpseraError) -> None:
        """A read failed: back off by the one rule, and say so once per outage."""
        started = self.store.failed(error, self.now())
        if self.timer is not None:
            self.arm()  # the next try waits as the one rule says, not a whole interval
        if not started:
            return  # still the same outage: it was announced once already
        refused = isinstance(error, AuthenticationError | PermissionDeniedError)
        self.owner.notify(
            describe_error(error),
            title="Token refused" if refused else "Offline",
            severity="error" if refused else "warning",
            markup=False,
            timeout=12,
        )
