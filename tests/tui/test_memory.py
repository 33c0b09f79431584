"""Memory that does not grow with what the app has seen: popped screens, caches, actions."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from textual import events
from textual._styles_cache import StylesCache
from textual.cache import LRUCache
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets._toast import Toast

from opstui.api import PipelineStatus
from opstui.audit import AuditTarget
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.actions import BATCH
from opstui.tui.dialogs import HelpScreen
from opstui.tui.flights import InFlight
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.tasks import TasksScreen
from tests.tui.conftest import (
    MakeApp,
    action_bodies,
    first_with,
    highlight,
    refresh,
    screen_of,
    settle,
    table_of,
)


async def test_popped_details_and_tasks_screens_are_let_go(
    make_app: MakeApp, sim: SimServer
) -> None:
    # A stopped timer's handle stays in asyncio's queue until it would have fired, holding its
    # screen until then: with a short refresh, that is soon. A signal would hold it for good.
    app = make_app(refresh=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        gone: list[weakref.ref[Screen[Any]]] = []
        for _ in range(2):
            await highlight(pilot, first_with(app, PipelineStatus.RUNNING))
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, DetailsScreen)
            gone.append(weakref.ref(app.screen))
            await pilot.press("escape")
            await pilot.press("t")
            await settle(pilot)
            assert isinstance(app.screen, TasksScreen)
            gone.append(weakref.ref(app.screen))
            await pilot.press("escape")
            await settle(pilot)
        subscribers = [
            node
            for signal in (app.action_done, app.store.changed, app.store.live)
            for node in signal._subscriptions
        ]
        assert not any(isinstance(node, DetailsScreen | TasksScreen) for node in subscribers)
        for _ in range(100):
            gc.collect()
            if all(ref() is None for ref in gone):
                break
            await pilot.pause(0.05)
        assert [ref() for ref in gone] == [None] * 4, "no popped screen is still held"
        assert action_bodies(sim) == []


async def test_the_view_holds_only_the_pipelines_the_store_holds(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "a", "enter")  # the filter reads every pipeline's text
        for _ in range(5):
            clock.advance(10 * 60)  # runs move along: new documents, new text
            await refresh(pilot)
        store = app.store
        held = screen_of(app).view._entries
        assert held.keys() == store.pipelines.keys()
        assert all(held[key] is pipeline for key, pipeline in store.pipelines.items())

        doomed = table_of(app).row_keys[:3]
        sim.world.delete_pipelines(doomed)
        await refresh(pilot)  # a complete list: they are gone from the store and the view
        assert not set(doomed) & set(screen_of(app).view._entries)
        assert not set(doomed) & set(store.pipelines)
        assert screen_of(app).marked == set()


async def test_finished_actions_leave_nothing_behind(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for status, key in ((PipelineStatus.SUCCESS, "r"), (PipelineStatus.RUNNING, "s")):
            await highlight(pilot, first_with(app, status))
            await pilot.press(key, "y")
            await settle(pilot)
        assert len(action_bodies(sim)) == 2
        assert app.actions.in_flight == []
        assert app.actions.flights._flights == [] and app.actions._in_flight == set()


def _alive(kind: type) -> int:
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


async def test_widgets_that_went_leave_no_rendered_lines_behind(make_app: MakeApp) -> None:
    # Each widget draws through its own StylesCache, which keeps the lines it drew. Textual's
    # StylesCache.get_inner_outer is an lru_cache on the instance: its 1,024 keys would keep the
    # StylesCache (and the lines) of every dialog, toast and footer key long after it went
    # (Textualize/textual#6665); opstui's footer module makes it cache by colours alone.
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        before = _alive(StylesCache)
        for round_ in range(8):
            await pilot.press("question_mark")  # the help: a screen of widgets, drawn
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            app.notify(f"toast {round_}", timeout=0.01)  # drawn, then gone
            await settle(pilot)
        for _ in range(100):
            if not app.screen.query(Toast):
                break
            await pilot.pause(0.02)
        caches = _alive(StylesCache)
        widgets = sum(1 for obj in gc.get_objects() if isinstance(obj, Widget))
        assert caches <= widgets, "no StylesCache outlives its widget"
        assert caches - before < 20, "eight help screens and toasts later, about as many caches"


def _orphaned_links(garbage: list[object]) -> int:
    """How many of ``garbage`` are LRUCache entries still in a ring (``[prev, next, key, value]``)
    that no cache holds: a dead widget's caches die with it, these were cleared and left."""
    held = {
        id(link) for obj in garbage if isinstance(obj, LRUCache) for link in obj._cache.values()
    }
    return sum(
        1
        for obj in garbage
        if type(obj) is list
        and len(obj) == 4
        and type(obj[0]) is list
        and type(obj[1]) is list
        and id(obj) not in held
    )


async def test_a_table_that_clears_its_caches_leaves_nothing_to_the_cycle_collector(
    make_app: MakeApp,
) -> None:
    # A table clears its render caches when its rows change wholesale (a filter).
    # Textual's LRUCache.clear kept its entries' ring: each entry, with the lines it held, waited
    # as a reference cycle for a full collection (seldom), and Python's arenas grew each wave.
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        gc.unfreeze()  # the first load was frozen (out of get_objects' sight): every cache counts
        gc.collect()
        cached = sum(len(cache) for cache in gc.get_objects() if isinstance(cache, LRUCache))
        assert cached > 50, "the screen drew through its caches"
        gc.disable()
        try:
            for keys in (["slash", "a", "enter"], ["escape"], ["slash", "e", "enter"]):
                await pilot.press(*keys)  # filters: the table refilled
                await settle(pilot)
            gc.set_debug(gc.DEBUG_SAVEALL)
            gc.collect()
            links = _orphaned_links(gc.garbage)
            gc.garbage.clear()
        finally:
            gc.set_debug(0)
            gc.enable()
            gc.collect()
        assert links == 0, f"{links} cache entries were left to the cycle collector"


def test_a_cleared_cache_leaves_no_ring_of_entries_to_the_cycle_collector() -> None:
    """The workaround itself (``widgets/footer.py``), without an app: fill, clear, collect."""
    cache: LRUCache[int, list[int]] = LRUCache(64)
    for key in range(64):
        cache[key] = [key] * 8
    gc.collect()
    gc.disable()
    try:
        cache.clear()
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        links = _orphaned_links(gc.garbage)
        gc.garbage.clear()
    finally:
        gc.set_debug(0)
        gc.enable()
        gc.collect()
    assert links == 0, f"{links} cleared entries were left to the cycle collector"
    assert len(cache) == 0


class _Cycle:
    """An object in a reference cycle with itself: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


async def test_the_idle_collection_runs_and_frees_cyclic_garbage(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        collector = app.idle_collector
        assert collector._timer is not None  # started with the app
        assert not collector.tick()  # the oldest generation has not grown enough yet
        collector.growth = 0
        gc.disable()  # no automatic pass may free it first
        try:
            garbage = _Cycle()
            gone = weakref.ref(garbage)
            del garbage
            assert gone() is not None
            runs = collector.collected.runs
            assert collector.tick()  # the app is idle after settling
            assert gone() is None
            assert collector.collected.runs == runs + 1
            assert collector.collected.found >= 1
        finally:
            gc.enable()


async def test_the_idle_collection_waits_for_the_frozen_first_load_and_for_quiet(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        collector = app.idle_collector
        collector.growth = 0
        runs = collector.collected.runs
        app.post_message(events.Callback(callback=lambda: None))
        assert not collector.tick()  # a message is waiting: not now
        assert collector.collected.runs == runs
        await pilot.pause()
        assert app.data.froze
        assert collector.tick()
        assert collector.collected.runs == runs + 1
        app.data.stop()  # unfreezes: as before the first load was frozen, a pass would walk it all
        assert not app.data.froze
        assert not collector.tick()
        assert collector.collected.runs == runs + 1


class _Leaf:
    """An object in no cycle: its reference count frees it, frozen or not."""


def _is_collectable(thing: object) -> bool:
    return any(other is thing for other in gc.get_objects(generation=2))


async def test_a_pass_that_leaves_a_new_generation_of_data_freezes_it(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        collector = app.idle_collector
        collector.growth = 0
        assert collector.tick()
        assert collector.collected.freezes == 0  # forty pipelines leave far less than that

        collector.freeze_at = 1  # as a new generation of ten thousand records would
        data = [_Leaf() for _ in range(3)]
        assert collector.tick()
        assert collector.collected.freezes == 1
        assert collector.collected.frozen >= len(data)
        assert not _is_collectable(data)  # out of every later pass's way
        gone = weakref.ref(data[0])
        del data
        assert gone() is None  # let go, it is freed all the same: frozen is not kept
        app.data.stop()  # unfreezes what the first load and the pass froze alike
        assert not app.data.froze


async def test_no_freeze_while_a_dialog_is_open(make_app: MakeApp, sim: SimServer) -> None:
    # A dialog (or another screen) is a cycle of widgets soon let go: frozen, it would never be
    # collected.
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        collector = app.idle_collector
        collector.growth = 0
        collector.freeze_at = 1
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        dialog = app.screen
        assert collector.tick()
        assert collector.collected.freezes == 0
        assert _is_collectable(dialog)
        await pilot.press("escape")
        await settle(pilot)
        assert collector.tick()
        assert collector.collected.freezes == 1


async def test_no_idle_collection_while_a_batch_is_on_its_way(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        collector = app.idle_collector
        collector.growth = 0
        flights = app.actions.flights
        one = flights.begin(InFlight("run", "pipeline", [AuditTarget("p1", "one")], sent=True))
        assert collector.tick()  # one pipeline's action brings nothing worth waiting for
        targets = [AuditTarget(f"p{n}", f"pipeline {n}") for n in range(BATCH)]
        batch = flights.begin(InFlight("run", "pipeline", targets, sent=True))
        assert not collector.tick()  # each step of a batch brings new records: later
        flights.end(batch)
        assert collector.tick()
        flights.end(one)


async def test_an_idle_look_counts_the_oldest_generation_only_after_a_pass_promoted_to_it(
    make_app: MakeApp, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        collector = app.idle_collector
        collector.growth = 10**9  # never enough: a look only counts
        counts: list[int] = []
        get_objects = gc.get_objects

        def counting(*args: Any, **kwargs: Any) -> list[Any]:
            counts.append(1)
            return get_objects(*args, **kwargs)

        monkeypatch.setattr(gc, "get_objects", counting)
        gc.disable()  # no pass between the looks
        try:
            gc.collect(1)  # a middle-generation pass: the next look counts
            assert not collector.tick()
            assert len(counts) == 1
            assert not collector.tick()  # nothing promoted since: no count
            assert len(counts) == 1
            gc.collect(1)
            assert not collector.tick()
            assert len(counts) == 2
        finally:
            gc.enable()


async def test_the_idle_collection_is_timed_by_the_app(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        collector = app.idle_collector
        collector.stop()
        assert collector._timer is None
        collector.interval = 0.05
        collector.growth = 0
        collector.start()
        for _ in range(200):  # bounded polling on the condition, not a timing assertion
            if collector.collected.runs >= 2:
                break
            await pilot.pause(0.05)
        assert collector.collected.runs >= 2


async def test_the_table_keeps_one_line_a_row_whatever_changed(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    # A line kept under its stamp (version, state, cursor) could never be asked for again once
    # the row moved on; kept until evicted, such lines filled the 1,024-line cache over ten
    # minutes of soak (550 dead lines holding 36,000 objects). One line a row, replaced in place.
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        shown: set[str] = set()
        for _ in range(4):
            clock.advance(10 * 60)  # runs move along: rows change
            await refresh(pilot)
            await pilot.press("space", "down", "space", "up")  # marks and the cursor move
            await pilot.pause()
            table.retime()
            await pilot.pause()
            shown.update(table.visible_keys)
        kept = table._lines._strips
        assert 0 < len(kept) <= len(shown)
        assert set(kept.keys()) <= shown
