"""The tasks of the tenant: a store that merges what comes back, and the one feed that polls.

:class:`TaskStore` holds every task as last seen, by id, and publishes what each answer changed
(:attr:`TaskStore.changed`) and the state of the live refresh (:attr:`TaskStore.live`), as the
pipeline store does for pipelines. It never talks to the network.

:class:`TaskFeed`, built by the app with the client, is the only code that reads tasks: a full
list every refresh interval, but only while some screen watches it (:meth:`TaskFeed.watch`); and
one ``status`` read for the tasks an action touched (:meth:`TaskFeed.refresh` with ids), which
never cancels a list in flight. Failures back off by the one rule (:func:`opstui.backoff.next_delay`).
A screen holds the feed as a :class:`TaskSource`: the store and when to read, never the client.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

from textual.app import App
from textual.dom import DOMNode
from textual.signal import Signal
from textual.timer import Timer
from textual.worker import Worker

from opstui.api import Listing, OpseraClient, OpseraError, Task
from opstui.backoff import is_refusal, next_delay
from opstui.tui.store import LivePhase, LiveState

__all__ = ["TaskFeed", "TaskSource", "TaskStore", "TasksChanged", "newest_first"]


@dataclass(frozen=True)
class TasksChanged:
    """What one answer changed. Published on :attr:`TaskStore.changed` after every answer."""

    tasks: Mapping[str, Task]
    """Every task known now, by id (the store's own mapping: read it, do not change it)."""
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    updated: frozenset[str] = frozenset()
    """Tasks held before whose document changed (a newer one replaced it)."""

    @property
    def changed(self) -> frozenset[str]:
        """The tasks whose rows need painting again: added or updated."""
        return self.added | self.updated


class TaskStore:
    """Every task of the server as last seen, and the live-refresh state of the task feed.

    The same :class:`~opstui.api.Task` object is kept while an answer brings the same document,
    so a refresh costs a comparison per unchanged task; of two different documents, the one
    updated later wins (a list that left before an action cannot undo the action's own read).

    Attributes:
        changed: Published with a :class:`TasksChanged` after each answer that landed.
        live: Published with a :class:`~opstui.tui.store.LiveState` when the live state changes.
    """

    def __init__(self, owner: DOMNode, *, refresh: float) -> None:
        self.refresh_interval = refresh
        """Seconds between two lists while all is well."""
        self.tasks: dict[str, Task] = {}
        """Every task known, by id; changed in place, so a table may hold it by reference."""
        self.loaded = False
        """True once a list has landed."""
        self.skipped = 0
        """Records the last list could not read (left out one by one, counted here)."""
        self.state = LiveState()
        self.failures = 0
        """Lists failed in a row."""
        self._next_delay = refresh
        self.changed: Signal[TasksChanged] = Signal(owner, "tasks-changed")
        self.live: Signal[LiveState] = Signal(owner, "tasks-live-state")

    def next_delay(self) -> float:
        """Seconds (real time) until the next list should start, given how the last ones went."""
        return self._next_delay

    # -- applying what a worker brought back ----------------------------------------------

    def apply_list(self, tasks: Sequence[Task]) -> TasksChanged:
        """Merge a full list; publish and return what changed.

        Only a complete :class:`~opstui.api.Listing` (every page read in a stable order) says
        that a task absent from it is gone; from any other list, absent tasks stay as last seen.
        """
        complete = isinstance(tasks, Listing) and tasks.complete
        self.skipped = tasks.skipped if isinstance(tasks, Listing) else 0
        added, updated = self._merge(tasks)
        removed: frozenset[str] = frozenset()
        if complete:
            seen = {task.id for task in tasks}
            removed = frozenset(key for key in self.tasks if key not in seen)
            for key in removed:
                del self.tasks[key]
        self.loaded = True
        return self._publish(TasksChanged(self.tasks, added, removed, updated))

    def apply_status(self, tasks: Sequence[Task]) -> TasksChanged:
        """Merge a status answer; publish and return what changed. It never removes a task: an
        answer without one (or without documents at all) says nothing about whether it exists."""
        added, updated = self._merge(tasks)
        return self._publish(TasksChanged(self.tasks, added, frozenset(), updated))

    def _merge(self, tasks: Iterable[Task]) -> tuple[frozenset[str], frozenset[str]]:
        held = self.tasks
        added: set[str] = set()
        updated: set[str] = set()
        for task in tasks:
            old = held.get(task.id)
            if old is None:
                added.add(task.id)
            elif _same(old, task) or _older(task, old):
                continue
            else:
                updated.add(task.id)
            held[task.id] = task
        return frozenset(added), frozenset(updated)

    def _publish(self, change: TasksChanged) -> TasksChanged:
        self.changed.publish(change)
        return change

    # -- the live state -------------------------------------------------------------------

    def succeeded(self, now: datetime) -> None:
        """A full list landed: live again, the next one after the refresh interval."""
        self.failures = 0
        self._next_delay = self.refresh_interval
        self._set(
            replace(self.state, phase=LivePhase.LIVE, updated_at=now, retry_at=None, error="")
        )

    def failed(self, error: OpseraError, now: datetime) -> None:
        """A full list failed: offline (or refused), the next try backing off by the one rule."""
        self.failures += 1
        delay = next_delay(self.failures, error, self.refresh_interval)
        self._next_delay = delay
        phase = LivePhase.REFUSED if is_refusal(error) else LivePhase.OFFLINE
        self._set(
            replace(
                self.state,
                phase=phase,
                error=error.message,
                retry_at=now + timedelta(seconds=delay),
            )
        )

    def _set(self, state: LiveState) -> None:
        if state != self.state:
            self.state = state
            self.live.publish(state)


def _same(old: Task, new: Task) -> bool:
    """True when two versions of a task show the same thing (compared field by field, the
    update time first: it moves with every change, so a changed task costs one comparison)."""
    return (
        old.updated_at == new.updated_at
        and old.state == new.state
        and old.run_count == new.run_count
        and old.last_run == new.last_run
        and old.active == new.active
        and old.name == new.name
        and old.type == new.type
        and old.owner_name == new.owner_name
        and old.owner == new.owner
        and old.description == new.description
        and old.tags == new.tags
    )


def _older(new: Task, old: Task) -> bool:
    """True when ``new`` was updated before ``old`` (then ``old`` is kept)."""
    return (
        new.updated_at is not None
        and old.updated_at is not None
        and new.updated_at < old.updated_at
    )


def newest_first(tasks: Iterable[Task]) -> list[str]:
    """The ids of ``tasks``, the newest first (the client lists oldest first, for paging)."""

    def created(task: Task) -> tuple[float, str]:
        moment = task.created_at
        return (-moment.timestamp() if moment is not None else float("inf"), task.id)

    return [task.id for task in sorted(tasks, key=created)]


class TaskSource(Protocol):
    """What a screen holds of the task feed: the store, and when to read. Never the client."""

    @property
    def store(self) -> TaskStore:
        """The tasks as last seen."""
        ...

    def watch(self, owner: object) -> None:
        """``owner`` shows the tasks: poll while it (or another watcher) does."""
        ...

    def unwatch(self, owner: object) -> None:
        """``owner`` no longer shows the tasks."""
        ...

    def refresh(self, ids: Sequence[str] | None = None) -> None:
        """Read every task now, or, given ``ids``, those tasks' status (after an action)."""
        ...


class TaskFeed:
    """The one poll of the tasks, run by ``host`` (the app) with ``client``, into :attr:`store`.

    A one-shot timer starts a list and is armed again when the list ends, so two lists never
    overlap; a refresh asked for while one is in flight runs once it ends. The poll runs only
    while a screen watches the feed; the last one to leave stops it (a list in flight is
    cancelled: its answer would show nowhere).
    """

    def __init__(
        self,
        host: App[Any],
        client: OpseraClient,
        *,
        refresh: float,
        now: Callable[[], datetime],
    ) -> None:
        self._host = host
        self._client = client
        self._now = now
        self._store = TaskStore(host, refresh=refresh)
        self._watchers: weakref.WeakSet[object] = weakref.WeakSet()
        self._timer: Timer | None = None
        self._listing: Worker[None] | None = None
        self._again = False

    @property
    def store(self) -> TaskStore:
        """The tasks as last seen, and the live state."""
        return self._store

    @property
    def watched(self) -> bool:
        """True while some screen watches the feed (then it polls)."""
        return len(self._watchers) > 0

    @property
    def listing(self) -> bool:
        """True while a full list is in flight."""
        return self._listing is not None and not self._listing.is_finished

    @property
    def polling(self) -> bool:
        """True while a list is in flight or the next one is armed."""
        return self.listing or self._timer is not None

    def watch(self, owner: object) -> None:
        """``owner`` shows the tasks: the first watcher starts the poll with a list at once."""
        first = not self.watched
        self._watchers.add(owner)
        if first:
            self.refresh()

    def unwatch(self, owner: object) -> None:
        """``owner`` no longer shows the tasks: with no watcher left, the poll stops."""
        self._watchers.discard(owner)
        if self.watched:
            return
        self._stop_timer()
        self._again = False
        if self._listing is not None:
            self._listing.cancel()
            self._listing = None

    def refresh(self, ids: Sequence[str] | None = None) -> None:
        """Read every task now (while watched); or, given ``ids``, their status in one request.

        The status read runs beside a list in flight, never cancelling it: the store keeps, of
        two documents, the one updated later. A server whose status answers carry no documents
        (the v1 shape) gets a list instead.
        """
        if ids:
            if self._client.status_documents is False:
                self._list_now()
            else:
                # A function, not a coroutine (see DataService.poll_now).
                self._host.run_worker(
                    partial(self._read, list(ids)),  # type: ignore[arg-type]
                    group="task-status",
                )
            return
        if self.watched:
            self._list_now()

    def _list_now(self) -> None:
        if self.listing:
            self._again = True
            return
        self._stop_timer()
        self._listing = self._host.run_worker(self._list, group="task-list")

    async def _list(self) -> None:
        """One full list; the next is armed when it ends (not when it is cancelled)."""
        try:
            tasks = await self._client.list_tasks()
        except OpseraError as error:
            self._store.failed(error, self._now())
        else:
            self._store.apply_list(tasks)
            self._store.succeeded(self._now())
        self._listing = None
        if self._again:
            self._again = False
            self._list_now()
        else:
            self._arm()

    async def _read(self, ids: list[str]) -> None:
        """The status of ``ids``: merged, never a deletion."""
        try:
            tasks = await self._client.task_status(ids)
        except OpseraError:
            return  # the next list tells the story (and backs off) if the server is down
        if not tasks.complete:  # no documents in the answer: only a list can tell
            self._list_now()
            return
        self._store.apply_status(tasks)

    def _arm(self) -> None:
        self._stop_timer()
        if self.watched:
            self._timer = self._host.set_timer(
                self._store.next_delay(), self._due, name="task-poll"
            )

    def _due(self) -> None:
        self._timer = None
        if self.watched:
            self._list_now()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
