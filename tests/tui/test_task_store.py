"""The task store and the task feed, against the seeded simulator with a manual clock.

The feed runs on a small host app (it needs one for its workers and timers) with the real client
talking HTTP to the simulator; the app's own feed is tested through the tasks screen at the end.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Static

from opstui.api import Listing, PipelineStatus, RetryPolicy, Task
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.data.tasks import TaskFeed, TasksChanged, newest_first
from opstui.tui.dialogs import ConfirmDialog
from opstui.tui.screens.tasks import TasksScreen
from opstui.tui.store import LivePhase
from tests.conftest import TOKEN
from tests.tui.clients import TestClient
from tests.tui.conftest import MakeApp, action_bodies, settle, until

IDLE = "snaplogic-orders-sync"
"""A task that is not running at time zero, and can run."""


class FeedHost(App[None]):
    """A bare app that runs a task feed, and records every change the store publishes."""

    def __init__(self, sim: SimServer, clock: ManualClock, *, refresh: float = 3600) -> None:
        super().__init__()
        self.client = TestClient(sim.base_url, TOKEN, retry=RetryPolicy(attempts=1))
        self.feed = TaskFeed(self, self.client, refresh=refresh, now=clock.now)
        self.changes: list[TasksChanged] = []

    def compose(self) -> ComposeResult:
        yield Static("tasks")

    def on_mount(self) -> None:
        self.feed.store.changed.subscribe(self, self.changes.append, immediate=True)

    async def on_unmount(self) -> None:
        await self.client.aclose()


def lists(sim: SimServer) -> int:
    """How many task lists the simulator was asked for."""
    return sum(1 for r in sim.requests if (r.method, r.path) == ("GET", "/api/v2/tasks"))


def status_reads(sim: SimServer) -> list[Any]:
    """The targets of every task status read the simulator received."""
    return [
        r.body["target"]
        for r in sim.requests
        if r.path == "/api/v2/actions"
        and isinstance(r.body, dict)
        and (r.body.get("action"), r.body.get("type")) == ("status", "task")
    ]


def named(feed: TaskFeed, name: str) -> Task:
    return next(task for task in feed.store.tasks.values() if task.name == name)


async def watched(pilot: Pilot[Any], feed: TaskFeed) -> None:
    """Watch ``feed`` (as a screen does) and wait for its first list."""
    feed.watch(pilot.app)
    await settle(pilot)
    assert feed.store.loaded


# -- merge --------------------------------------------------------------------------------


async def test_a_list_keeps_unchanged_tasks_and_replaces_the_updated(
    sim: SimServer, clock: ManualClock
) -> None:
    app = FeedHost(sim, clock)
    async with app.run_test() as pilot:
        await watched(pilot, app.feed)
        store = app.feed.store
        first = app.changes[-1]
        assert first.added == frozenset(doc["_id"] for doc in sim.world.list_tasks().items)
        assert len(store.tasks) == 12 and not first.removed and not first.updated
        before = dict(store.tasks)

        clock.advance(30)  # the running tasks end; the world may start another
        app.feed.refresh()
        await settle(pilot)
        change = app.changes[-1]
        updated = {
            doc["_id"]
            for doc in sim.world.list_tasks().items
            if doc["updatedAt"] != before[doc["_id"]].document()["updatedAt"]
        }
        assert updated and change.updated == updated and change.changed == updated
        assert not change.added and not change.removed
        for key, task in store.tasks.items():
            assert (task is before[key]) == (key not in updated), "the same object if unchanged"

        app.feed.refresh()  # nothing moved: every task the same object, nothing changed
        await settle(pilot)
        assert not app.changes[-1].changed and not app.changes[-1].removed


async def test_the_newer_document_wins_and_an_action_read_never_cancels_a_list(
    sim: SimServer, clock: ManualClock
) -> None:
    app = FeedHost(sim, clock)
    async with app.run_test() as pilot:
        await watched(pilot, app.feed)
        feed, store = app.feed, app.feed.store
        idle = named(feed, IDLE)
        arrived, release = asyncio.Event(), asyncio.Event()

        async def hold(listing: Listing[Task]) -> Listing[Task]:
            arrived.set()
            await release.wait()
            return listing

        app.client.reshape_tasks = hold
        clock.advance(1)
        feed.refresh()  # a list leaves, and its answer (idle still idle) is held back...
        await until(pilot, arrived.is_set)
        sim.world.run_tasks([idle.id])  # ...while an action starts the task,
        feed.refresh([idle.id])  # and the action's status read lands first
        await until(pilot, lambda: store.tasks[idle.id].status is PipelineStatus.RUNNING)
        assert feed.listing, "the list in flight was not cancelled"
        assert status_reads(sim) == [[idle.id]]

        release.set()  # the older answer lands: it does not undo the newer document
        await until(pilot, lambda: not feed.listing)
        await settle(pilot)
        assert store.tasks[idle.id].status is PipelineStatus.RUNNING
        assert idle.id not in app.changes[-1].changed
        assert store.state.phase is LivePhase.LIVE
        assert lists(sim) == 2


async def test_a_refresh_asked_for_during_a_list_runs_once_after_it(
    sim: SimServer, clock: ManualClock
) -> None:
    app = FeedHost(sim, clock)
    async with app.run_test() as pilot:
        await watched(pilot, app.feed)
        feed = app.feed
        arrived, release = asyncio.Event(), asyncio.Event()

        async def hold(listing: Listing[Task]) -> Listing[Task]:
            arrived.set()
            await release.wait()
            return listing

        app.client.reshape_tasks = hold
        feed.refresh()
        await until(pilot, arrived.is_set)
        feed.refresh()  # ctrl+r, twice, while the list is on its way
        feed.refresh()
        await pilot.pause()
        assert lists(sim) == 2, "never two lists at once"
        release.set()
        await until(pilot, lambda: lists(sim) == 3 and not feed.listing)
        await settle(pilot)
        assert lists(sim) == 3, "one more list after the one in flight, not one per ask"
        assert feed.polling, "and then the poll is armed again"


def test_newest_first() -> None:
    docs = [
        {"_id": "a" * 24, "createdAt": "2026-01-01T00:00:00Z"},
        {"_id": "b" * 24, "createdAt": "2026-03-01T00:00:00Z"},
        {"_id": "c" * 24},
        {"_id": "d" * 24, "createdAt": "2026-02-01T00:00:00Z"},
    ]
    tasks = [Task.model_validate(doc) for doc in docs]
    assert newest_first(tasks) == ["b" * 24, "d" * 24, "a" * 24, "c" * 24]


# -- absence ------------------------------------------------------------------------------


async def test_absence_from_an_incomplete_list_is_never_a_deletion(
    sim: SimServer, clock: ManualClock
) -> None:
    app = FeedHost(sim, clock)
    async with app.run_test() as pilot:
        await watched(pilot, app.feed)
        feed, store = app.feed, app.feed.store
        missing = named(feed, IDLE)

        async def without_it(listing: Listing[Task]) -> Listing[Task]:
            assert listing.complete, "the simulator's own list is complete"
            kept = [task for task in listing if task.id != missing.id]
            return Listing(kept, skipped=1, complete=False)

        app.client.reshape_tasks = without_it
        feed.refresh()
        await settle(pilot)
        assert store.tasks[missing.id] is missing
        assert store.skipped == 1
        assert not app.changes[-1].removed

        async def gone(listing: Listing[Task]) -> Listing[Task]:
            # As the server would list it once the task is deleted: every page, nothing moved.
            return Listing([t for t in listing if t.id != missing.id], complete=True)

        app.client.reshape_tasks = gone
        feed.refresh()
        await settle(pilot)
        assert missing.id not in store.tasks
        assert app.changes[-1].removed == {missing.id}
        assert store.skipped == 0

        feed.refresh([missing.id])  # a status read that carries it brings it back
        await settle(pilot)
        assert missing.id in store.tasks
        assert app.changes[-1].added == {missing.id}


# -- back-off -----------------------------------------------------------------------------


async def test_failures_back_off_by_the_one_rule(sim: SimServer, clock: ManualClock) -> None:
    app = FeedHost(sim, clock, refresh=30)
    async with app.run_test() as pilot:
        await watched(pilot, app.feed)
        feed, store = app.feed, app.feed.store
        assert store.next_delay() == 30
        sim.add_fault("GET", "/api/v2/tasks", status=503, times=6)
        waits = []
        for _ in range(6):
            feed.refresh()  # at once, instead of waiting for the armed retry
            await settle(pilot)
            waits.append(store.next_delay())
            assert store.state.phase is LivePhase.OFFLINE
            assert store.state.retry_at == clock.now() + timedelta(seconds=waits[-1])
        assert waits == [5, 10, 20, 40, 60, 60]
        assert len(store.tasks) == 12, "the tasks stay as last seen"
        assert store.state.error

        feed.refresh()
        await settle(pilot)
        assert store.state.phase is LivePhase.LIVE and store.state.retry_at is None
        assert store.next_delay() == 30 and store.failures == 0

        sim.add_fault("GET", "/api/v2/tasks", status=401)
        feed.refresh()
        await settle(pilot)
        assert store.state.phase is LivePhase.REFUSED
        assert store.next_delay() == 60, "a refused token is retried once a minute"


# -- polling only while watched -----------------------------------------------------------


async def test_the_feed_polls_only_while_a_screen_watches_it(
    sim: SimServer, clock: ManualClock
) -> None:
    app = FeedHost(sim, clock, refresh=0.05)  # real seconds: the timer fires by itself
    async with app.run_test() as pilot:
        feed = app.feed
        feed.refresh()
        await settle(pilot)
        assert lists(sim) == 0 and not feed.polling, "nobody watches: no list"

        one, other = Static(), Static()
        feed.watch(one)
        await until(pilot, lambda: lists(sim) >= 3)  # the poll re-arms itself
        feed.watch(other)
        feed.unwatch(one)
        assert feed.polling, "another screen still watches"
        count = lists(sim)
        await until(pilot, lambda: lists(sim) >= count + 2)

        feed.unwatch(other)
        assert not feed.watched and not feed.polling, "no timer armed, no list in flight"
        count = lists(sim)
        feed.refresh()
        for _ in range(5):
            await pilot.pause()
        assert lists(sim) == count
        feed.refresh([named(feed, IDLE).id])  # an action's own read still goes
        await settle(pilot)
        assert status_reads(sim) == [[named(feed, IDLE).id]]
        assert lists(sim) == count


# -- through the app ----------------------------------------------------------------------


async def open_tasks(pilot: Pilot[Any]) -> TasksScreen:
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, TasksScreen)
    return screen


async def run_idle(pilot: Pilot[Any], screen: TasksScreen) -> Task:
    """Highlight the idle task and run it through the app's one action path (``r``, ``y``)."""
    task = next(task for task in screen.tasks.values() if task.name == IDLE)
    assert screen.table.move_cursor(key=task.id)
    await pilot.pause()
    await pilot.press("r")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConfirmDialog)
    await pilot.press("y")
    await settle(pilot)
    return task


async def test_after_an_action_the_app_reads_those_tasks_status(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_tasks(pilot)
        assert app.task_feed.watched
        sim.requests.clear()
        task = await run_idle(pilot, screen)
        assert action_bodies(sim) == [
            {"action": "run", "type": "task", "version": 1, "target": [task.id]}
        ]
        assert status_reads(sim)[-1] == [task.id]
        assert lists(sim) == 0, "one status read, not a list"
        assert screen.tasks[task.id].status is PipelineStatus.RUNNING
        assert screen.check_action("run", ()) is None  # it runs now: run greys out

        await pilot.press("escape")
        await settle(pilot)
        assert not app.task_feed.watched and not app.task_feed.polling


async def test_a_server_without_status_documents_gets_a_list_instead(
    sim: SimServer, clock: ManualClock
) -> None:
    app = FeedHost(sim, clock)
    async with app.run_test() as pilot:
        await watched(pilot, app.feed)
        feed, store = app.feed, app.feed.store
        task = named(feed, IDLE)
        sim.world.run_tasks([task.id])
        sim.options.status_shape = "v1"
        sim.requests.clear()
        feed.refresh([task.id])
        await settle(pilot)
        assert status_reads(sim) == [[task.id]]
        assert lists(sim) == 1, "the v1 status answer said nothing: the feed listed"
        assert store.tasks[task.id].status is PipelineStatus.RUNNING
        assert len(store.tasks) == 12, "and removed nothing for it"

        sim.requests.clear()
        feed.refresh([task.id])  # known now: straight to the list
        await settle(pilot)
        assert status_reads(sim) == [] and lists(sim) == 1
