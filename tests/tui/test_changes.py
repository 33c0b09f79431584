"""The live refresh's default read: what changed since the watermark (``sortOption=lastupdated``).

Through the real app against the seeded simulator and its manual clock, counting what reached the
server. The refresh interval is an hour, so no poll fires by itself: a test polls with
``app.data.poll_now()`` (what the timer calls). The design is argued in
:mod:`opstui.tui.data.changes`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from opstui.api import PipelineStatus
from opstui.config import Secret, Settings
from opstui.sim.clock import ManualClock
from opstui.sim.common import iso
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.app import APP_RETRY, OpstuiApp
from opstui.tui.data import changes
from opstui.tui.data.service import SORT_FALLBACK
from tests.conftest import TOKEN
from tests.tui.clients import TestClient
from tests.tui.conftest import MakeApp, notes, settle


def reads(sim: SimServer, sort: str) -> int:
    """How many pages of the pipeline list were asked for in ``sort`` order."""
    return sum(
        1
        for r in sim.requests
        if r.method == "GET" and r.path == "/api/v2/pipelines" and r.query.get("sortOption") == sort
    )


def status_reads(sim: SimServer) -> int:
    return sum(
        1
        for r in sim.requests
        if r.path == "/api/v2/actions" and isinstance(r.body, dict) and r.body["action"] == "status"
    )


def in_sync(app: OpstuiApp, world: World) -> None:
    """The store holds exactly the world's pipelines, each as last updated."""
    docs = {doc["_id"]: doc for doc in world.list_pipelines().items}
    assert set(app.store.pipelines) == set(docs)
    for key, pipeline in app.store.pipelines.items():
        assert pipeline.updated_at is not None
        assert iso(pipeline.updated_at) == docs[key]["updatedAt"], key
        assert pipeline.name == docs[key]["name"]


FULL_EVERY = 120
"""Polls between two full lists, what a five-second refresh gives (ten minutes)."""


def changes_app(make_app: MakeApp) -> OpstuiApp:
    app = make_app()
    app.data.full_every = FULL_EVERY
    return app


async def poll(pilot: Any, app: OpstuiApp) -> None:
    app.data.poll_now()
    await settle(pilot)


async def test_a_poll_reads_only_what_changed_and_the_store_keeps_up(
    make_app: MakeApp, sim: SimServer, world: World, clock: ManualClock
) -> None:
    app = changes_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.data.changes and app.data.watermark is not None
        in_sync(app, world)
        sim.clear_requests()

        before = dict(app.store.pipelines)
        await poll(pilot, app)
        assert reads(sim, "lastupdated") == 1 and reads(sim, "oldest") == 0
        assert status_reads(sim) == 0, "the hot set is not read by status"
        assert all(app.store.pipelines[key] is before[key] for key in before), "nothing moved"

        for _ in range(5):
            clock.advance(30)
            sim.clear_requests()
            await poll(pilot, app)
            assert reads(sim, "oldest") == 0 and status_reads(sim) == 0
            in_sync(app, world)
        moved = {key for key in before if app.store.pipelines[key] is not before[key]}
        assert moved, "two and a half minutes move some runs along"
        assert len(app.store.pipelines) == len(before)


async def test_a_pipeline_created_elsewhere_arrives_with_the_next_poll(
    make_app: MakeApp, sim: SimServer, world: World, clock: ManualClock
) -> None:
    app = changes_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        source = next(iter(world.list_pipelines().items))
        clock.advance(1)
        made = world.create_pipeline({"name": "made-elsewhere", "workflow": source["workflow"]})
        sim.clear_requests()
        await poll(pilot, app)
        assert made["_id"] in app.store.pipelines
        assert reads(sim, "oldest") == 0, "the count adds up: no full list needed"
        in_sync(app, world)


async def test_a_deletion_is_noticed_by_the_count_and_only_a_complete_list_removes_it(
    make_app: MakeApp, sim: SimServer, world: World, clock: ManualClock
) -> None:
    app = changes_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        gone = sorted(app.store.pipelines)[3]
        world.delete_pipelines([gone])
        clock.advance(5)
        sim.clear_requests()
        await poll(pilot, app)
        assert reads(sim, "lastupdated") == 1, "the poll (a later full list needs no mark)"
        assert reads(sim, "oldest") == 1, "the count fell short: the full list at once"
        assert gone not in app.store.pipelines
        in_sync(app, world)

        # A deletion and a creation in one interval: the count is the same, the ids are not.
        other = sorted(app.store.pipelines)[5]
        world.delete_pipelines([other])
        source = next(iter(world.list_pipelines().items))
        made = world.create_pipeline({"name": "in-its-place", "workflow": source["workflow"]})
        clock.advance(5)
        sim.clear_requests()
        await poll(pilot, app)
        assert reads(sim, "oldest") == 1
        assert other not in app.store.pipelines and made["_id"] in app.store.pipelines
        in_sync(app, world)


class FailFullLists(httpx.AsyncBaseTransport):
    """HTTP to the simulator, but a full list (``sortOption=oldest``) fails with a 503 while
    ``failing``; the changes read goes through."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.failing = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.failing and request.url.params.get("sortOption") == "oldest":
            return httpx.Response(503, json={"status": "failed", "message": "busy"})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def app_with(sim: SimServer, clock: ManualClock, tmp_path: Any, transport: Any) -> OpstuiApp:
    settings = Settings(
        base_url=sim.base_url,
        token=Secret(TOKEN),
        refresh=3600,
        audit_log=tmp_path / "audit.log",
        crash_dir=tmp_path / "crash",
        profile="sim",
        bell=False,
    )
    client = TestClient(sim.base_url, TOKEN, retry=APP_RETRY, transport=transport)
    app = OpstuiApp(settings, now=clock.now, client=client)
    app.data.full_every = FULL_EVERY
    return app


async def test_absence_from_a_changes_read_never_removes_a_row(
    sim: SimServer, world: World, clock: ManualClock, tmp_path: Any
) -> None:
    transport = FailFullLists()
    app = app_with(sim, clock, tmp_path, transport)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        gone = sorted(app.store.pipelines)[7]
        world.delete_pipelines([gone])
        transport.failing = True
        for _ in range(3):
            clock.advance(5)
            await poll(pilot, app)
            assert gone in app.store.pipelines, "absent from the changes read: not deleted"
        transport.failing = False
        clock.advance(60)  # past the back-off
        await poll(pilot, app)
        assert gone not in app.store.pipelines, "the complete full list removes it"
        in_sync(app, world)


@pytest.mark.parametrize(("first", "most"), [(2, 3), (3, 3)])
async def test_equal_stamps_across_a_page_boundary_and_late_writes_are_all_read(
    make_app: MakeApp,
    sim: SimServer,
    world: World,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    first: int,
    most: int,
) -> None:
    # One page of ``first``, then (if smaller) the read starts over in pages of ``most``.
    monkeypatch.setattr(changes, "MIN_PAGE", first)
    monkeypatch.setattr(changes, "MAX_PAGE", most)
    app = changes_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        mark = app.data.watermark
        assert mark is not None
        # Five saves stamped the very millisecond of the watermark (after the app read it), and
        # two stamped just before it whose writes landed late: all within the overlap.
        with world.lock:
            docs = sorted(world.list_pipelines(live=True).items, key=lambda d: d["updatedAt"])
            late = docs[:7]  # the oldest, so that no order puts them on the first page
            for number, doc in enumerate(late):
                stamp = mark if number < 5 else mark - timedelta(seconds=1)
                doc["updatedAt"] = iso(stamp)
                doc["name"] = f"renamed-{number}"
        sim.clear_requests()
        await poll(pilot, app)
        assert reads(sim, "lastupdated") >= 4, "page after page while stamps are within reach"
        assert reads(sim, "oldest") == 0
        for doc in late:
            assert app.store.pipelines[doc["_id"]].name == doc["name"]
        in_sync(app, world)


@pytest.mark.parametrize(("changed", "lists"), [(16, False), (30, True)])
async def test_a_burst_of_changes_is_read_up_to_half_the_full_list_then_listed(
    make_app: MakeApp,
    sim: SimServer,
    world: World,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    changed: int,
    lists: bool,
) -> None:
    # Pages of two: the full list of forty is twenty pages, so a poll reads ten pages of changes
    # at most (more than the fewest, five) before it lists instead.
    monkeypatch.setattr(changes, "MIN_PAGE", 2)
    monkeypatch.setattr(changes, "MAX_PAGE", 2)
    assert changes.most_pages(len(world.pipeline_ids())) == 10
    app = changes_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        clock.advance(5)
        with world.lock:
            docs = world.list_pipelines(sort="oldest", live=True).items[:changed]
            for number, doc in enumerate(docs):
                doc["updatedAt"] = iso(world.now() + timedelta(milliseconds=number))
                doc["name"] = f"burst-{number}"
        sim.clear_requests()
        await poll(pilot, app)
        assert (reads(sim, "oldest") > 0) == lists
        if not lists:
            assert 8 <= reads(sim, "lastupdated") <= 10, "page after page, up to ten"
        in_sync(app, world)


class IgnoresSort(httpx.AsyncBaseTransport):
    """HTTP to the simulator, without the ``sortOption`` of list requests: a server that does
    not sort (the simulator then answers newest created first)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params.remove("sortOption")
        request.url = request.url.copy_with(params=params)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_server_that_ignores_the_sort_gets_the_hot_set_by_status_said_once(
    sim: SimServer, world: World, clock: ManualClock, tmp_path: Any
) -> None:
    app = app_with(sim, clock, tmp_path, IgnoresSort())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        clock.advance(30)
        sim.clear_requests()
        await poll(pilot, app)
        assert not app.data.changes
        assert notes(app).count(SORT_FALLBACK) == 1
        app.data.full_every = 12  # the fallback's: a minute of five-second polls
        assert status_reads(sim) == 1, "the hot set, by status, in the same poll"
        hot = app.data.hot_set()
        assert hot and all(app.store.pipelines[key].status for key in hot)

        for _ in range(2):
            clock.advance(30)
            sim.clear_requests()
            await poll(pilot, app)
            assert status_reads(sim) == 1
            assert sum(1 for r in sim.requests if r.path == "/api/v2/pipelines") == 0
        assert notes(app).count(SORT_FALLBACK) == 1, "said once"
        moving = {
            key
            for key, p in app.store.pipelines.items()
            if p.status in (PipelineStatus.RUNNING, PipelineStatus.AWAITING_APPROVAL)
        }
        docs = {doc["_id"]: doc for doc in world.list_pipelines().items}
        for key in moving:
            stamp = app.store.pipelines[key].updated_at
            assert stamp is not None and iso(stamp) == docs[key]["updatedAt"]


async def test_an_empty_tenant_is_watched_from_the_start(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    empty = World(seed=7, pipelines=0, tasks=0, clock=clock, autorun=False)
    sim.world = empty
    app = changes_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.store.pipelines == {} and app.data.watermark is not None
        clock.advance(5)
        made = empty.create_pipeline({"name": "the-first", "workflow": {"plan": []}})
        sim.clear_requests()
        await poll(pilot, app)
        assert list(app.store.pipelines) == [made["_id"]]
        assert reads(sim, "oldest") == 0


async def test_what_changes_during_a_full_list_is_read_by_the_next_poll(
    make_app: MakeApp, sim: SimServer, world: World, clock: ManualClock
) -> None:
    app = changes_app(make_app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await poll(pilot, app)
        app.data.page_size = 10
        original = app.client.pipeline_pages
        changed: list[str] = []

        async def pages(**filters: Any) -> Any:
            number = 0
            async for page in original(**filters):
                number += 1
                yield page
                if filters.get("sort") is None and number == 1:
                    # Page 1 was read: change one of its pipelines, then (later) one not yet
                    # read, so that the list's newest stamp is past the first change.
                    clock.advance(1)
                    world.update_pipeline(page[0].id, {"name": "changed-behind-the-list"})
                    changed.append(page[0].id)
                    clock.advance(30)

        app.client.pipeline_pages = pages  # type: ignore[method-assign]
        await pilot.press("ctrl+r")
        await settle(pilot)
        app.client.pipeline_pages = original  # type: ignore[method-assign]
        [key] = changed
        assert app.store.pipelines[key].name != "changed-behind-the-list", "page 1 was read before"
        sim.clear_requests()
        await poll(pilot, app)
        assert app.store.pipelines[key].name == "changed-behind-the-list"
        in_sync(app, world)
