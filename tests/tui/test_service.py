"""The data service, the app's one poll: the hot set by status, the full list rarely, pages as they
land. Through the real app against the seeded simulator, counting what reached the server.

The refresh interval is an hour, so no poll fires by itself: a test polls with
``app.data.poll_now()`` (what the timer calls) and lists with ``ctrl+r``. Here the service runs in
its fallback, the hot set by status (what a server that does not sort by last update gets; the
default read, what changed since the watermark, is ``test_changes.py``'s), and ``full_every`` is
set to twelve polls, what a five-second refresh gives (a full list about once a minute).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator, Callable
from typing import Any

from textual.worker import WorkerState

from opstui.api import OpseraClient, Pipeline, PipelineStatus
from opstui.api.listing import ListPage
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.app import OpstuiApp
from opstui.tui.data.service import BACK_ONLINE, V1_FALLBACK
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.store import HOT_STATUSES
from opstui.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import (
    MakeApp,
    first_with,
    highlight,
    notes,
    row_cells,
    screen_of,
    settle,
    table_of,
    until,
)

FULL_EVERY = 12


def status_reads(sim: SimServer) -> list[list[str]]:
    """The targets of every status request received, in order."""
    return [
        request.body["target"]
        for request in sim.requests
        if request.path == "/api/v2/actions"
        and isinstance(request.body, dict)
        and request.body.get("action") == "status"
    ]


def list_reads(sim: SimServer) -> int:
    """How many list pages were requested."""
    return sum(1 for r in sim.requests if r.method == "GET" and r.path == "/api/v2/pipelines")


def hot_ids(app: OpstuiApp) -> list[str]:
    """Running, paused and awaiting approval, as the store holds them, and what the screens show
    (their rows on screen and their marks), sorted."""
    moving = {key for key, p in app.store.pipelines.items() if p.status in HOT_STATUSES}
    return sorted(moving | app.store.interest())


def status_line(app: OpstuiApp) -> str:
    return screen_of(app).query_one(StatusBar).right_text.plain


def service_app(make_app: MakeApp, **overrides: Any) -> OpstuiApp:
    """The app with its service in the fallback (the hot set by status, a full list once in
    twelve polls), what a server that does not sort by last update gets; the changes read that
    is the default is tested in ``test_changes.py``."""
    app = make_app(**overrides)
    app.data.changes = False
    app.data.full_every = FULL_EVERY
    return app


async def poll(pilot: Any, app: OpstuiApp) -> None:
    """One poll, as the timer starts it, and wait for it to land."""
    app.data.poll_now()
    await settle(pilot)


PagesHook = Callable[[int], Any]


def hook_pages(app: OpstuiApp, before_yield: PagesHook) -> None:
    """Make every list read of ``app`` await ``before_yield(n)`` after its page ``n`` (1-based)
    was fetched and decoded, before it is handed to the app."""
    original = app.client.pipeline_pages

    async def pages(**filters: Any) -> AsyncGenerator[ListPage[Pipeline]]:
        number = 0
        async for page in original(**filters):
            number += 1
            await before_yield(number)
            yield page

    app.client.pipeline_pages = pages  # type: ignore[method-assign]


# -- the hot set, and the full list rarely --------------------------------------------------


async def test_each_poll_reads_the_hot_set_by_status_and_the_full_list_comes_rarely(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert list_reads(sim) == 1 and status_reads(sim) == []
        hot = hot_ids(app)
        assert 0 < len(hot) < len(app.store.pipelines)
        moving = {key for key, p in app.store.pipelines.items() if p.status in HOT_STATUSES}
        assert set(app.store.hot()) == moving, "the store keeps the moving ones as it merges"
        assert app.store.interest(), "the pipelines screen says which rows it shows"
        assert set(hot) == app.data.hot_set()
        sim.clear_requests()

        for _ in range(FULL_EVERY - 1):
            await poll(pilot, app)
        assert list_reads(sim) == 0, "no full list until its turn"
        assert status_reads(sim) == [hot] * (FULL_EVERY - 1), "one batch a poll: the hot set"
        summary = sim.request_summary()
        assert summary["received"] == FULL_EVERY - 1

        sim.requests.clear()
        await poll(pilot, app)  # the twelfth: the full list instead
        assert list_reads(sim) == 1 and status_reads(sim) == []
        await poll(pilot, app)
        assert status_reads(sim) == [hot_ids(app)] and list_reads(sim) == 1


async def test_what_screens_look_at_and_the_open_details_join_the_hot_set(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        idle = first_with(app, PipelineStatus.SUCCESS)
        shown = first_with(app, PipelineStatus.FAILED)
        owner = object()
        app.store.set_interest(owner, [shown.id, "f" * 24])  # an unknown id is not asked for
        await highlight(pilot, idle)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        sim.requests.clear()

        await poll(pilot, app)
        (target,) = status_reads(sim)
        assert target == sorted({*hot_ids(app), idle.id, shown.id})
        assert [r.path for r in sim.requests] == ["/api/v2/actions", "/api/v1/pipeline/logs"]

        await pilot.press("escape")
        app.store.set_interest(owner, ())
        sim.requests.clear()
        await poll(pilot, app)
        assert status_reads(sim) == [hot_ids(app)], "closed and withdrawn: out of the hot set"


async def test_a_poll_merges_by_updated_at_and_tells_the_notifier_only_what_changed(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = service_app(make_app)
    seen: list[list[str]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        observe = app.notifier.observe_changes

        def record(changed: Any, removed: Any = (), **kwargs: Any) -> Any:
            changed = list(changed)
            seen.append([pipeline.id for pipeline in changed])
            return observe(changed, removed, **kwargs)

        app.notifier.observe_changes = record  # type: ignore[method-assign]
        before = dict(app.store.pipelines)
        await poll(pilot, app)
        assert seen == [], "nothing changed: nothing replaced, nothing observed"
        assert all(app.store.pipelines[key] is before[key] for key in before)

        clock.advance(60)
        await poll(pilot, app)
        replaced = {key for key in before if app.store.pipelines[key] is not before[key]}
        assert replaced, "a minute moves some runs along"
        assert replaced <= set(hot_ids(app)) | {
            key for key in before if before[key].status in HOT_STATUSES
        }
        assert len(seen) == 1 and set(seen[0]) == replaced, "only the changed ones"
        for key in replaced:
            new, old = app.store.pipelines[key], before[key]
            assert new.updated_at is not None and old.updated_at is not None
            assert new.updated_at > old.updated_at

        # An older document (what a late answer may bring) never replaces a newer one.
        key = next(iter(replaced))
        change = app.store.apply_status([key], [before[key]])
        assert change.empty and app.store.pipelines[key] is not before[key]


async def test_a_new_pipeline_appears_with_the_next_full_list(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        source = sim.world.get_pipeline(table_of(app).row_keys[0])
        assert source is not None
        source.pop("_id")
        source["name"] = "aaa-brand-new"
        created = sim.world.create_pipeline(source)
        for _ in range(FULL_EVERY - 1):
            await poll(pilot, app)
        assert created["_id"] not in app.store.pipelines, "a status poll cannot know it"
        await poll(pilot, app)
        assert created["_id"] in app.store.pipelines
        assert table_of(app).row_keys[0] == created["_id"]


async def test_a_deleted_hot_pipeline_stays_until_the_full_list_says_it_is_gone(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        gone = hot_ids(app)[0]
        sim.world.delete_pipelines([gone])
        sim.requests.clear()
        await poll(pilot, app)
        assert status_reads(sim) and gone in status_reads(sim)[0]
        assert gone in app.store.pipelines, "absent from a status answer is not deleted"
        assert list_reads(sim) == 0

        await poll(pilot, app)  # a missing pipeline brings the full list forward
        assert list_reads(sim) == 1
        assert gone not in app.store.pipelines and gone not in table_of(app).row_keys


async def test_a_404_for_the_open_pipeline_says_deleted(make_app: MakeApp, sim: SimServer) -> None:
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, target)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen) and not screen.deleted
        assert not any(isinstance(value, OpseraClient) for value in vars(screen).values())
        sim.world.delete_pipelines([target.id])
        sim.requests.clear()

        await poll(pilot, app)  # the batch misses it; alone, it is a 404
        reads = status_reads(sim)
        assert len(reads) == 2 and target.id in reads[0] and reads[1] == [target.id]
        assert screen.deleted and screen.has_class("-deleted")
        assert target.id not in app.store.pipelines
        others = set(reads[0]) - {target.id}
        assert others <= set(app.store.pipelines), "one row went, no other"


# -- pages as they land ------------------------------------------------------------------


async def test_the_first_page_is_on_screen_while_the_rest_loads(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = service_app(make_app)
    app.data.page_size = 10
    release = asyncio.Event()

    async def hold_after_the_first(number: int) -> None:
        if number == 2:
            await release.wait()

    hook_pages(app, hold_after_the_first)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: table_of(app).row_count == 10)
        await pilot.pause()
        assert status_line(app) == "loading 10 / 40"
        assert app.store.loaded
        release.set()
        await settle(pilot)
        assert table_of(app).row_count == 40
        assert status_line(app) == "updated just now"
        assert list_reads(sim) == 4


async def test_a_failed_page_keeps_the_pages_that_landed(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = service_app(make_app)
    app.data.page_size = 10
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.client.retry = app.client.retry.__class__(attempts=1)
        order = list(app.store.pipelines)  # the stable order: ten a page
        before = dict(app.store.pipelines)
        gone = order[35]  # on the last page, which never lands
        sim.world.delete_pipelines([gone])
        clock.advance(15 * 60)

        failed: list[int] = []

        async def fail_the_third(number: int) -> None:
            if number == 2 and not failed:  # the third page of this read only
                failed.append(number)
                sim.add_fault("GET", "/api/v2/pipelines", status=503)

        hook_pages(app, fail_the_third)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert status_line(app).startswith("offline")
        landed = order[:20]
        assert any(app.store.pipelines[key] is not before[key] for key in landed)
        assert all(app.store.pipelines[key] is before[key] for key in order[20:] if key != gone)
        assert gone in app.store.pipelines, "an incomplete list removes nothing"
        assert len([n for n in notes(app) if "Cannot refresh" in n]) == 1

        await pilot.press("ctrl+r")  # the whole list, this time: now it is gone
        await settle(pilot)
        assert gone not in app.store.pipelines
        assert len([n for n in notes(app) if n == BACK_ONLINE]) == 1


async def test_an_action_during_a_full_list_cancels_nothing_and_the_newer_document_wins(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = service_app(make_app)
    app.data.page_size = 10
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        order = list(app.store.pipelines)
        target = next(
            app.store.pipelines[key]
            for key in order[10:20]
            if app.store.pipelines[key].status is PipelineStatus.SUCCESS
            and app.store.pipelines[key].active
        )
        release = asyncio.Event()
        fetched = asyncio.Event()

        async def hold_the_second(number: int) -> None:
            if number == 2:  # page two was read before the action: it lands after it
                fetched.set()
                await release.wait()

        hook_pages(app, hold_the_second)
        await pilot.press("ctrl+r")
        await until(pilot, fetched.is_set)
        (listing,) = [w for w in app.workers if w.group == "refresh"]
        clock.advance(1)
        sim.requests.clear()
        await highlight(pilot, target)
        await pilot.press("r", "y")
        await until(pilot, lambda: len(status_reads(sim)) == 2)  # the re-check, then the rows
        await until(pilot, lambda: app.store.pipelines[target.id].status is PipelineStatus.RUNNING)
        assert listing.state is WorkerState.RUNNING, "the full list goes on"

        release.set()
        await settle(pilot)
        assert listing.state is WorkerState.SUCCESS
        assert app.store.pipelines[target.id].status is PipelineStatus.RUNNING
        assert row_cells(table_of(app), target.id)[1].plain == "running"


# -- a server that answers status without documents ---------------------------------------


async def test_v1_status_answers_make_every_poll_a_full_list_said_once(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sim.options.status_shape = "v1"
        sim.requests.clear()
        await poll(pilot, app)
        assert len(status_reads(sim)) == 1 and list_reads(sim) == 1, "tried, then listed"
        assert app.data.fallback
        assert table_of(app).row_count == 40, "no row lost to an answer without documents"
        sim.requests.clear()
        for _ in range(3):
            await poll(pilot, app)
        assert status_reads(sim) == [] and list_reads(sim) == 3
        assert len([n for n in notes(app) if n == V1_FALLBACK]) == 1
        assert status_line(app) == "updated just now"


async def test_a_failing_poll_backs_off_by_the_one_rule_and_says_so_once(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.client.retry = app.client.retry.__class__(attempts=1)
        sim.add_fault("POST", "/api/v2/actions", status=503, times=2, action="status")
        await poll(pilot, app)
        assert status_line(app) == "offline · retrying in 5s"
        assert app.store.next_delay() == 5
        await poll(pilot, app)
        assert app.store.next_delay() == 10
        assert len([n for n in notes(app) if "Cannot refresh" in n]) == 1
        assert table_of(app).row_count == 40
        await poll(pilot, app)
        assert status_line(app) == "updated just now"
        assert app.store.next_delay() == 3600
        assert len([n for n in notes(app) if n == BACK_ONLINE]) == 1


async def test_the_first_load_is_frozen_out_of_the_collectors_way_until_the_end(
    make_app: MakeApp,
) -> None:
    """Textual's cyclic garbage then waits less for a full pass, and the arenas stay small
    (what ``make soak-long`` measures); the end unfreezes it, so a process running app after
    app (this one) never piles them up uncollectable."""
    app = service_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
