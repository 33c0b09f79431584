"""What the app promises, at 10,000 pipelines, through the real app at 80x24.

The same promises the other tests check on the default world of 40 (``test_app.py``,
``test_approvals.py``, ``test_details.py``, ``test_batch_off_loop.py``), here against a seeded
simulator world of 10,000 pipelines over HTTP on 127.0.0.1, with a manual clock: filter as you
type, the quick views, the sorts, marks and a batch action, the cursor and the scroll kept across
refreshes, changed rows highlighted, the details live, the inbox and its three-key approve.

Each expectation is worked out apart from the app (from the simulator's documents, or from the
store's pipelines by a sort or a filter of the test's own), so a view that dropped, kept or
misplaced one row in ten thousand fails.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest
from rich.style import Style
from textual.pilot import Pilot

from opstui.api import Pipeline, PipelineStatus
from opstui.api.rules import why_not
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.app import OpstuiApp
from opstui.tui.dialogs import ConfirmDialog
from opstui.tui.format import STATUS_ORDER
from opstui.tui.screens import pipelines as pipelines_screen
from opstui.tui.screens.approvals import ApprovalsScreen, InboxBar
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.widgets.filter_bar import FilterInput
from opstui.tui.widgets.status_bar import StatusBar
from opstui.tui.widgets.vtable import RowState
from tests.tui.conftest import (
    MakeApp,
    action_bodies,
    highlight,
    notes,
    refresh,
    row_cells,
    screen_of,
    settle,
    table_of,
)
from tests.tui.test_details import plan_lines, shown

PIPELINES = 10_000
SIZE = (80, 24)


def _pickled(world: World) -> bytes:
    """``world`` as bytes; its lock (never held here) is pickled as a new one."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        type(threading.RLock()): lambda lock: (threading.RLock, ()),
    }
    pickler.dump(world)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pristine() -> bytes:
    """The world of 10,000 pipelines as seeded, built once (3 s) and kept as bytes: no test can
    change it, and each test unpickles a world of its own from it (0.6 s)."""
    return _pickled(World(seed=7, pipelines=PIPELINES, tasks=0, clock=ManualClock()))


@pytest.fixture
def world(pristine: bytes, clock: ManualClock) -> World:
    """A fresh tenant of 10,000 pipelines (the default world has 40), on this test's clock."""
    world = pickle.loads(pristine)
    assert isinstance(world, World)
    assert world.now() == clock.now()  # both start at the manual clock's start
    world.clock = clock
    return world


def body(action: str, ids: list[str]) -> dict[str, object]:
    """The exact body the contract says an action request carries."""
    return {"action": action, "type": "pipeline", "version": 1, "target": ids}


def by_name(pipelines: Iterable[Pipeline]) -> list[Pipeline]:
    """A to Z by casefolded name, ties by id: the table's first order, worked out here."""
    return sorted(pipelines, key=lambda p: (p.name.casefold(), p.id))


def summary(app: OpstuiApp) -> str:
    """What the line under the table says (left part)."""
    return str(screen_of(app).query_one("#summary-left").render())


def shown_ids(app: OpstuiApp) -> list[str]:
    """The ids the pipelines table shows, top to bottom."""
    return list(table_of(app).row_keys)


def rows_in(app: OpstuiApp, status: PipelineStatus) -> list[str]:
    """The ids of the table's rows in ``status``, top to bottom."""
    pipelines = app.store.pipelines
    return [key for key in table_of(app).row_keys if pipelines[key].status is status]


async def loaded(pilot: Pilot[Any], app: OpstuiApp) -> None:
    """Wait for the first load: every pipeline of the world in the store and the table."""
    await settle(pilot)
    assert len(app.store.pipelines) == PIPELINES
    assert table_of(app).row_count == PIPELINES


# -- the views ----------------------------------------------------------------------------------


async def test_first_load_shows_every_pipeline_by_name_and_counts_them(
    make_app: MakeApp, sim: SimServer
) -> None:
    served = [Pipeline.model_validate(doc) for doc in sim.world.list_pipelines().items]
    counts = Counter(p.status for p in served)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        table = table_of(app)
        ordered = by_name(served)
        assert shown_ids(app) == [p.id for p in ordered]
        assert table.shown_columns == ["mark", "state", "name", "step", "run", "last"]
        visible = list(table.visible_keys)
        assert visible == [p.id for p in ordered[: len(visible)]] and len(visible) >= 10
        for line, pipeline in enumerate(ordered[: len(visible)], start=1):
            text = table.render_line(line).text
            assert pipeline.status.value in text and pipeline.name[:20] in text, line
        bar = screen_of(app).query_one(StatusBar)
        assert bar.left_text.plain == (
            f"sim · {counts[PipelineStatus.AWAITING_APPROVAL]} awaiting approval"
            f" · {counts[PipelineStatus.RUNNING]} running"
            f" · {counts[PipelineStatus.FAILED]} failed"
            f" · {counts[PipelineStatus.PAUSED]} paused"
        )
        assert bar.right_text.plain == "updated just now"
        assert summary(app).startswith(f"All pipelines · {PIPELINES}")


async def test_filter_as_you_type_shows_exactly_the_matches_in_order(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        table = table_of(app)
        everything = by_name(app.store.pipelines.values())
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput)
        typed = ""
        sizes = []
        for key in "pay ci":
            await pilot.press("space" if key == " " else key)
            await pilot.pause()
            typed += key
            words = typed.casefold().split()
            expected = [p.id for p in everything if all(w in p.search_text for w in words)]
            assert screen_of(app).filter_text == typed
            assert shown_ids(app) == expected, typed
            assert list(table.visible_keys) == expected[: len(table.visible_keys)]
            sizes.append(len(expected))
        assert PIPELINES > sizes[0] > sizes[-1] > 0, sizes
        assert summary(app).startswith(f"All pipelines · {sizes[-1]} of {PIPELINES}")
        await pilot.press("enter")
        assert table.has_focus and table.row_count == sizes[-1]
        await pilot.press("escape")
        assert shown_ids(app) == [p.id for p in everything]


async def test_quick_views_show_exactly_each_state(make_app: MakeApp, sim: SimServer) -> None:
    served = [Pipeline.model_validate(doc) for doc in sim.world.list_pipelines().items]
    counts = Counter(p.status for p in served)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        for key, status, title in (
            ("2", PipelineStatus.AWAITING_APPROVAL, "Awaiting approval"),
            ("3", PipelineStatus.RUNNING, "Running"),
            ("4", PipelineStatus.FAILED, "Failed"),
        ):
            await pilot.press(key)
            expected = [p.id for p in by_name(served) if p.status is status]
            assert len(expected) == counts[status] > 100
            assert shown_ids(app) == expected, title
            assert summary(app).startswith(f"{title} · {counts[status]} of {PIPELINES}")
            assert table_of(app).cursor_key == expected[0]
            for key_shown in table_of(app).visible_keys:
                assert row_cells(table_of(app), key_shown)[1].plain == status.value
        await pilot.press("1")
        assert shown_ids(app) == [p.id for p in by_name(served)]
        assert summary(app).startswith(f"All pipelines · {PIPELINES}")


async def test_each_sort_orders_all_ten_thousand(make_app: MakeApp) -> None:
    def last_run(p: Pipeline) -> float:
        completed = p.last_run_completed
        return completed.timestamp() if completed is not None else float("-inf")

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        screen = screen_of(app)
        pipelines = list(app.store.pipelines.values())
        name = by_name(pipelines)
        # Each sort's primary value, stably over the order by name: ties stay A to Z.
        expected = {
            ("state", False): sorted(name, key=lambda p: STATUS_ORDER[p.status]),
            ("state", True): sorted(name, key=lambda p: -STATUS_ORDER[p.status]),
            ("last", True): sorted(name, key=lambda p: -last_run(p)),
            ("last", False): sorted(name, key=last_run),
            ("run", True): sorted(name, key=lambda p: -p.run_count),
            ("run", False): sorted(name, key=lambda p: p.run_count),
            ("name", False): name,
            ("name", True): name[::-1],
        }
        seen = []
        for _ in range(4):
            await pilot.press("o")
            sort = (screen.sort_key, screen.sort_descending)
            assert shown_ids(app) == [p.id for p in expected[sort]], sort
            await pilot.press("O")
            reverse = (screen.sort_key, screen.sort_descending)
            assert reverse == (sort[0], not sort[1])
            assert shown_ids(app) == [p.id for p in expected[reverse]], reverse
            await pilot.press("O")
            seen.append(sort)
        assert seen == [("state", False), ("last", True), ("run", True), ("name", False)]


# -- marks and a batch --------------------------------------------------------------------------


async def test_mark_all_unmark_and_one_run_request_for_every_eligible(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        screen, table = screen_of(app), table_of(app)
        await pilot.press("asterisk")
        assert screen.marked == set(app.store.pipelines) and len(screen.marked) == PIPELINES
        assert f"{PIPELINES} marked" in summary(app)
        assert {row_cells(table, key)[0].plain for key in table.visible_keys} == {"●"}
        await pilot.press("u")
        assert screen.marked == set()
        assert {row_cells(table, key)[0].plain for key in table.visible_keys} == {" "}

        await pilot.press("4", "asterisk")  # the failed ones only
        failed = {k for k, p in app.store.pipelines.items() if p.status is PipelineStatus.FAILED}
        assert screen.marked == failed
        await pilot.press("1")
        assert f"{len(failed)} marked" in summary(app)  # kept across views
        await pilot.press("u", "asterisk")

        eligible = [p.id for p in app.store.pipelines.values() if why_not("run", p) is None]
        assert 0 < len(eligible) < PIPELINES
        sim.requests.clear()
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert [t.id for t in dialog.targets] == eligible
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [body("run", eligible)]
        assert app.screen is screen


# -- live ---------------------------------------------------------------------------------------


async def test_cursor_and_scroll_stay_across_refreshes_far_down(
    make_app: MakeApp, clock: ManualClock
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        table = table_of(app)
        await highlight(pilot, table.row_keys[6000])
        await pilot.press("pagedown", "pagedown", "down", "down")
        cursor, row, scroll = table.cursor_key, table.cursor_row, table.scroll_y
        visible = list(table.visible_keys)
        assert row > 6000 and cursor in visible

        before = {key: p.status for key, p in app.store.pipelines.items()}
        clock.advance(15 * 60)
        await refresh(pilot)  # the full list (ctrl+r)
        moved = {k for k, p in app.store.pipelines.items() if p.status is not before[k]}
        assert len(moved) > 100, "fifteen minutes move many runs along"
        assert set(visible) & moved, "rows on screen changed too"
        assert (table.cursor_key, table.cursor_row, table.scroll_y) == (cursor, row, scroll)
        assert list(table.visible_keys) == visible
        for key in visible:
            assert row_cells(table, key)[1].plain == app.store.pipelines[key].status.value

        before = {key: p.status for key, p in app.store.pipelines.items()}
        clock.advance(60)
        app.data.poll_now()  # the live refresh: what changed since the last look
        await settle(pilot)
        assert any(p.status is not before[k] for k, p in app.store.pipelines.items())
        assert (table.cursor_key, table.cursor_row, table.scroll_y) == (cursor, row, scroll)
        assert list(table.visible_keys) == visible

        # Sorted by state, a refresh moves rows about: the cursor stays on its pipeline, on screen.
        await pilot.press("o")
        running = rows_in(app, PipelineStatus.RUNNING)
        await highlight(pilot, running[len(running) // 2])
        cursor, row = table.cursor_key, table.cursor_row
        assert cursor is not None
        status = app.store.pipelines[cursor].status
        for _ in range(20):
            clock.advance(60)
            await refresh(pilot)
            assert table.cursor_key == cursor
            assert cursor in table.visible_keys
            if app.store.pipelines[cursor].status is not status:
                break
        assert app.store.pipelines[cursor].status is not status, "its run moved on"
        assert table.row_keys.index(cursor) == table.cursor_row
        assert abs(table.cursor_row - row) > len(visible), "its row went far: the view followed"


async def test_rows_whose_state_moved_are_highlighted_and_only_those(
    make_app: MakeApp, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The highlight lasts two seconds of wall time; here long enough for any machine.
    monkeypatch.setattr(pipelines_screen, "CHANGE_HIGHLIGHT_SECONDS", 3600.0)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        screen, table = screen_of(app), table_of(app)
        assert screen._changed == {}, "the first load highlights nothing"
        before = {key: p.status for key, p in app.store.pipelines.items()}

        clock.advance(5 * 60)
        app.data.poll_now()
        await settle(pilot)

        moved = {k for k, p in app.store.pipelines.items() if p.status is not before[k]}
        assert 100 < len(moved) < PIPELINES
        assert set(screen._changed) == moved
        for key in app.store.pipelines:
            assert bool(screen.row_state(key) & RowState.CHANGED) == (key in moved)
        for key in moved:
            assert row_cells(table, key)[1].plain == app.store.pipelines[key].status.value

        # On screen: a moved row is painted in the highlight, a row beside it that did not move
        # is not.
        # (far from the cursor, which is painted over whatever the row's state).
        order = list(table.row_keys)
        place = next(
            i for i in range(5000, len(order)) if order[i] in moved and order[i - 1] not in moved
        )
        assert table.scroll_to_key(order[place], center=True)
        await pilot.pause()
        assert order[place - 1] in table.visible_keys and table.cursor_row == 0
        changed = table.get_component_rich_style("virtual-table--changed")

        def name_style(key: str) -> Style | None:
            strip = table.render_line(table.row_keys.index(key) - table.scroll_offset.y + 1)
            name = app.store.pipelines[key].name[:10]
            return next(segment.style for segment in strip if name in segment.text)

        highlighted, plain = name_style(order[place]), name_style(order[place - 1])
        assert highlighted is not None and highlighted.bgcolor == changed.bgcolor
        assert plain is None or plain.bgcolor != changed.bgcolor


async def test_details_of_a_running_pipeline_follow_its_run(
    make_app: MakeApp, clock: ManualClock, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot, app)
        table = table_of(app)
        running = rows_in(app, PipelineStatus.RUNNING)
        target = running[len(running) // 2]
        await highlight(pilot, target)
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        await settle(pilot)
        assert screen.pipeline.id == target
        step = screen.pipeline.current_step_index
        assert step is not None
        assert "running" in shown(screen, "#details-heading")
        assert plan_lines(screen)[step].lstrip().startswith("▶")

        for _ in range(30):  # a step takes seconds; the poll reads the open pipeline
            clock.advance(2)
            app.data.poll_now()
            await settle(pilot)
            if screen.pipeline.current_step_index != step:
                break
        pipeline = screen.pipeline
        assert pipeline is app.store.pipelines[target], "the store's newest document"
        assert pipeline.current_step_index != step, "its run moved on"
        world = Pipeline.model_validate(sim.world.get_pipeline(target))
        assert (pipeline.status, pipeline.current_step_index) == (
            world.status,
            world.current_step_index,
        )
        now = pipeline.current_step_index
        assert pipeline.status is PipelineStatus.RUNNING and now is not None and now > step
        assert "running" in shown(screen, "#details-heading")
        lines = plan_lines(screen)
        assert lines[step].lstrip().startswith("✓") and lines[now].lstrip().startswith("▶")
        assert screen.entries and screen.entries[0].step_name == pipeline.plan[now].name
        assert shown(screen, "#details-status").startswith("updated just now")
        await pilot.press("escape")
        assert app.screen is screen_of(app)
        assert table.cursor_key == target
        assert row_cells(table, target)[1].plain == pipeline.status.value


# -- the inbox ----------------------------------------------------------------------------------


async def test_inbox_lists_every_gate_and_approves_the_second_in_three_keys(
    make_app: MakeApp, sim: SimServer
) -> None:
    served = [Pipeline.model_validate(doc) for doc in sim.world.list_pipelines().items]
    gates = [p for p in served if p.status is PipelineStatus.AWAITING_APPROVAL]
    assert all(p.waiting_since is not None for p in gates)
    gates.sort(key=lambda p: (p.waiting_since, p.name.casefold(), p.id))
    app = make_app(start="approvals")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        inbox = app.screen
        assert isinstance(inbox, ApprovalsScreen)
        assert len(gates) > 1000
        assert list(inbox.table.row_keys) == [p.id for p in gates]
        assert inbox.query_one(InboxBar).left_text.plain == f"Awaiting approval · {len(gates)}"
        assert inbox.table.cursor_key == gates[0].id

        sim.requests.clear()
        await pilot.press("down", "a", "y")
        await settle(pilot)
        assert action_bodies(sim) == [body("approve", [gates[1].id])]
        assert app.store.pipelines[gates[1].id].status is not PipelineStatus.AWAITING_APPROVAL
        assert list(inbox.table.row_keys) == [p.id for p in gates if p is not gates[1]]
        assert inbox.table.cursor_key == gates[2].id
        assert f"Approved {gates[1].name}." in notes(app)
