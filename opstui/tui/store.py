"""The pipelines the app knows, and the state of the live refresh, shared by every screen.

The app's data service (:mod:`opstui.tui.data`) feeds :class:`PipelineStore`; screens subscribe
to its two signals (:attr:`PipelineStore.changed` and :attr:`PipelineStore.live`) and never fetch
on their own. So a second screen (the approvals inbox) sees the same data, refreshed by the same
single poll.

Nothing here talks to the network: the store only applies what a worker brought back, and decides
how long to wait before the next poll (the back-off after failures is :mod:`opstui.backoff`).
What came back is merged in place, so a refresh costs the store what it brought, not what it
holds: the counts per state and the hot set (what can change by itself) are kept as they go.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from textual.dom import DOMNode
from textual.signal import Signal

from opstui.api import (
    AuthenticationError,
    Listing,
    OpseraError,
    PermissionDeniedError,
    Pipeline,
    PipelineStatus,
    is_transient,
)
from opstui.backoff import MAX_BACKOFF, REFUSED_RETRY, is_refusal, next_delay
from opstui.tui.changed import PipelinesChanged
from opstui.tui.data.merge import newer

__all__ = [
    "HOT_STATUSES",
    "MAX_BACKOFF",
    "REFUSED_RETRY",
    "LivePhase",
    "LiveState",
    "Loading",
    "PipelineStore",
    "PipelinesChanged",
]

HOT_STATUSES = frozenset(
    {PipelineStatus.RUNNING, PipelineStatus.PAUSED, PipelineStatus.AWAITING_APPROVAL}
)
"""The states a pipeline leaves without anyone here acting: polled every interval."""


class LivePhase(StrEnum):
    """Where the live refresh stands."""

    LOADING = "loading"
    """No answer yet."""
    LIVE = "live"
    PAUSED = "paused"
    OFFLINE = "offline"
    """The last poll failed in a way that may pass (unreachable, timeout, 429, 5xx, ...)."""
    REFUSED = "refused"
    """The server refused the token (401) or its scope (403): retrying will not heal it."""


@dataclass(frozen=True)
class Loading:
    """How far the first full list has come: ``loading 3,000 / 10,000``."""

    count: int
    """Pipelines landed so far."""
    total: int | None = None
    """What the server said it holds, if it said."""


@dataclass(frozen=True)
class LiveState:
    """The live refresh as the status line tells it."""

    phase: LivePhase = LivePhase.LOADING
    updated_at: datetime | None = None
    """When the last refresh landed (by the app's clock)."""
    retry_at: datetime | None = None
    """When the next try is due, while offline or refused."""
    error: str = ""
    """The last failure, one line, for a person."""
    paused: bool = False
    """The user paused the refresh (the phase says why data may be old in any case)."""
    loading: Loading | None = None
    """While the first full list is landing page by page: how far it has come."""


class PipelineStore:
    """Every pipeline of the server as last seen, and the live-refresh state.

    Attributes:
        changed: Published with a :class:`PipelinesChanged` after each refresh that changed
            something (and after the first answer, whatever it held).
        live: Published with a :class:`LiveState` whenever the live state changes.
    """

    def __init__(self, owner: DOMNode, *, refresh: float) -> None:
        self.refresh_interval = refresh
        self.pipelines: dict[str, Pipeline] = {}
        self.loaded = False
        self.state = LiveState()
        self.failures = 0
        self._next_delay = refresh
        self.changed: Signal[PipelinesChanged] = Signal(owner, "pipelines-changed")
        self.live: Signal[LiveState] = Signal(owner, "live-state")
        self.skipped = 0
        """Records the last full list could not read (left out one by one, counted here)."""
        self._interest: dict[int, frozenset[str]] = {}
        self._counts: dict[PipelineStatus, int] = dict.fromkeys(PipelineStatus, 0)
        self._hot: set[str] = set()

    # -- what the screens look at ---------------------------------------------------------

    def set_interest(self, owner: object, ids: Iterable[str]) -> None:
        """Say which pipelines ``owner`` (a screen) shows or holds (visible rows, marks, the open
        details): the live refresh reads those first. An empty ``ids`` withdraws ``owner``."""
        key = id(owner)
        wanted = frozenset(ids)
        if wanted:
            self._interest[key] = wanted
        else:
            self._interest.pop(key, None)

    def interest(self) -> frozenset[str]:
        """Every pipeline some screen shows or holds, known to the store."""
        if not self._interest:
            return frozenset()
        return frozenset().union(*self._interest.values()) & self.pipelines.keys()

    def hot(self) -> frozenset[str]:
        """The pipelines that can change by themselves: running, paused, awaiting approval."""
        return frozenset(self._hot)

    # -- reading --------------------------------------------------------------------------

    def counts(self) -> dict[PipelineStatus, int]:
        """How many pipelines are in each status (kept as refreshes land: no count on read)."""
        return dict(self._counts)

    def next_delay(self) -> float:
        """Seconds (real time) until the next poll should start, given how the last ones went."""
        return self._next_delay

    # -- applying what a worker brought back ----------------------------------------------

    def apply_list(self, pipelines: Sequence[Pipeline]) -> PipelinesChanged:
        """Merge a full listing at once; publish and return what changed.

        Only a complete :class:`~opstui.api.Listing` (every page read in a stable order) says
        that a pipeline absent from it is gone. From any other list, absent pipelines stay as
        last seen, marks and all, until a complete list or a 404 for them.
        """
        complete = isinstance(pipelines, Listing) and pipelines.complete
        self.skipped = pipelines.skipped if isinstance(pipelines, Listing) else 0
        gone: Iterable[str] = ()
        if complete:
            seen = {pipeline.id for pipeline in pipelines}
            gone = [key for key in self.pipelines if key not in seen]
        return self.apply_page(pipelines, gone=gone)

    def apply_page(
        self,
        pipelines: Iterable[Pipeline],
        *,
        gone: Iterable[str] = (),
        publish: bool = True,
        same: Mapping[str, Pipeline] | None = None,
    ) -> PipelinesChanged:
        """Merge one page of a list read as it lands; remove ``gone`` (what a complete read
        proved absent); return what changed, and publish it (unless told not to: a reader may
        publish several pages as one change, :meth:`PipelinesChanged.then`). ``same`` is what
        :func:`~opstui.tui.data.merge.prepare` found unchanged."""
        first = not self.loaded
        self.loaded = True
        return self._apply(pipelines, gone, first=first, publish=publish, same=same)

    def apply_status(
        self,
        requested: Iterable[str],
        pipelines: Sequence[Pipeline],
        *,
        same: Mapping[str, Pipeline] | None = None,
    ) -> PipelinesChanged:
        """Merge a status answer for ``requested`` ids; publish and return what changed.

        A status answer never removes a row: one without a pipeline (or without documents at
        all, as a v1-shaped answer) says nothing about whether it still exists. ``same`` is what
        :func:`~opstui.tui.data.merge.prepare` found unchanged.
        """
        return self._apply(pipelines, (), first=False, same=same)

    def apply_gone(self, ids: Iterable[str]) -> PipelinesChanged:
        """Remove pipelines the server said are gone (a 404 for them, or their delete succeeded)."""
        return self._apply((), ids, first=False)

    def _apply(
        self,
        fresh: Iterable[Pipeline],
        gone: Iterable[str],
        *,
        first: bool,
        publish: bool = True,
        same: Mapping[str, Pipeline] | None = None,
    ) -> PipelinesChanged:
        """Merge ``fresh`` in place, drop ``gone``; keep counts and the hot set as they go."""
        pipelines = self.pipelines
        added: set[str] = set()
        updated: set[str] = set()
        moved: dict[str, tuple[PipelineStatus, PipelineStatus]] = {}
        for pipeline in fresh:
            key = pipeline.id
            old = pipelines.get(key)
            if old is None:
                pipelines[key] = pipeline
                added.add(key)
                updated.add(key)
                self._count(pipeline, 1)
                continue
            if same is not None and same.get(key) is old:
                continue  # found unchanged off the loop, and still the one held
            kept = newer(old, pipeline)
            if kept is old:
                continue
            pipelines[key] = kept
            updated.add(key)
            self._count(old, -1)
            self._count(kept, 1)
            if old.status != kept.status:
                moved[key] = (old.status, kept.status)
        removed: set[str] = set()
        for key in gone:
            old = pipelines.pop(key, None)
            if old is not None:
                removed.add(key)
                self._count(old, -1)
                added.discard(key)
                updated.discard(key)
                moved.pop(key, None)
        change = PipelinesChanged(
            pipelines,
            frozenset(added),
            frozenset(removed),
            moved,
            first,
            frozenset(updated),
        )
        if publish:
            self.publish(change)
        return change

    def publish(self, change: PipelinesChanged) -> None:
        """Tell the screens what changed (unless nothing did, after the first answer)."""
        if change.first or not change.empty:
            self.changed.publish(change)

    def _count(self, pipeline: Pipeline, step: int) -> None:
        status = pipeline.status
        self._counts[status] += step
        if step > 0 and status in HOT_STATUSES:
            self._hot.add(pipeline.id)
        else:
            self._hot.discard(pipeline.id)

    # -- the live state -------------------------------------------------------------------

    def loading(self, progress: Loading | None) -> None:
        """Say how far the first full list has come (None: it has all landed, or stopped)."""
        self._set(replace(self.state, loading=progress))

    def succeeded(self, now: datetime) -> bool:
        """A refresh landed. Returns True when this ends an outage."""
        recovered = self.state.phase in (LivePhase.OFFLINE, LivePhase.REFUSED)
        self.failures = 0
        self._next_delay = self.refresh_interval
        self._set(
            replace(
                self.state,
                phase=LivePhase.PAUSED if self.state.paused else LivePhase.LIVE,
                updated_at=now,
                retry_at=None,
                error="",
            )
        )
        return recovered

    def failed(self, error: OpseraError, now: datetime) -> bool:
        """A refresh failed. Returns True when this starts an outage (to say so once).

        The wait grows 5, 10, 20, 40, 60 s (from the refresh interval, if shorter); a refused
        token is retried once a minute; a 429 waits at least as long as the server asked.
        """
        started = self.state.phase not in (LivePhase.OFFLINE, LivePhase.REFUSED)
        self.failures += 1
        phase = LivePhase.REFUSED if is_refusal(error) else LivePhase.OFFLINE
        delay = next_delay(self.failures, error, self.refresh_interval)
        self._next_delay = delay
        self._set(
            replace(
                self.state,
                phase=phase,
                error=error.message,
                retry_at=now + timedelta(seconds=delay),
            )
        )
        return started

    def set_paused(self, paused: bool) -> None:
        """Pause or resume the live refresh (only the state: the service stops its timer)."""
        phase = self.state.phase
        if paused and phase is LivePhase.LIVE:
            phase = LivePhase.PAUSED
        elif not paused and phase is LivePhase.PAUSED:
            phase = LivePhase.LIVE
        self._set(replace(self.state, paused=paused, phase=phase))

    def _set(self, state: LiveState) -> None:
        if state != self.state:
            self.state = state
            self.live.publish(state)


def describe_error(error: OpseraError) -> str:
    """A failed refresh in a few plain words, for the one warning of an outage."""
    if isinstance(error, AuthenticationError):
        return (
            f"The server refused the token: {error.message}. Set a valid OPSTUI_TOKEN and restart."
        )
    if isinstance(error, PermissionDeniedError):
        return (
            f"The token may not list pipelines: {error.message}. It needs a pipeline-reading scope."
        )
    if is_transient(error):
        return f"Cannot refresh: {error.message}. Showing the last data; retrying."
    return f"Refresh failed: {error.message}. Showing the last data; retrying."
