"""What a key press makes the app do, counted (never timed), on a tenant of 300 pipelines.

- the footer builds its key widgets again only when other keys show: a cursor move that greys
  or ungreys keys patches them in place, and what they show is what the bindings say;
- the footer's leak workaround holds across rebuilds (one binding per key shown);
- a table taller than its region takes a new number of rows without a layout of the screen,
  and a short one still shrinks to its rows;
- the filter bar's summary is repainted only when it changed;
- a refresh repaints only the table lines that read otherwise (a relative time that moved, a
  row that changed on screen), never the whole table;
- no key is lost while a refresh lands: forty Down keys typed ahead move the cursor forty rows.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from textual import events
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from opstui.sim.clock import ManualClock
from opstui.sim.world import World
from opstui.tui.format import relative
from opstui.tui.screens.pipelines import PipelinesScreen
from opstui.tui.widgets.filter_bar import FilterBar
from opstui.tui.widgets.footer import KeysFooter, forget_closed_watchers
from tests.tui.conftest import MakeApp, refresh, screen_of, settle, table_of
from tests.tui.test_virtual_table import NOW, TableApp, make_jobs

PIPELINES = 300


@pytest.fixture
def world(clock: ManualClock) -> World:
    """More pipelines than a screen shows, so that a cursor can move forty rows."""
    return World(seed=7, pipelines=PIPELINES, tasks=0, clock=clock)


def footer_of(screen: PipelinesScreen) -> KeysFooter:
    return screen.query_one(KeysFooter)


def greyed(footer: KeysFooter) -> dict[str, bool]:
    """Each key shown (by action) and whether it is greyed."""
    return {key.action: key.has_class("-disabled") for key in footer.query(FooterKey)}


def should_grey(screen: PipelinesScreen) -> dict[str, bool]:
    """What the screen's bindings say now: each key the footer should show, greyed or not."""
    shown: dict[str, bool] = {}
    for key, (_, binding, enabled, _) in screen.active_bindings.items():
        if binding.show or key == screen.app.COMMAND_PALETTE_BINDING:
            shown.setdefault(binding.action, not enabled)
    return shown


def watcher_count(footer: KeysFooter) -> int:
    watchers: dict[str, list[object]] = getattr(footer, "__watchers", {})
    return sum(len(entries) for entries in watchers.values())


async def test_moving_the_cursor_greys_keys_in_place_without_a_rebuild(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        footer = footer_of(screen)
        rebuilds = footer.rebuilds
        widgets = list(footer.query(FooterKey))
        seen: set[tuple[tuple[str, bool], ...]] = set()
        for _ in range(60):
            await pilot.press("down")
            await pilot.pause()
            assert greyed(footer) == should_grey(screen)
            seen.add(tuple(sorted(greyed(footer).items())))
        assert len(seen) > 1, "the keys that apply changed along the way"
        assert footer.rebuilds == rebuilds, "no key widget was built again"
        assert list(footer.query(FooterKey)) == widgets


async def test_other_keys_rebuild_the_footer_and_leave_no_bindings_behind(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        footer = footer_of(screen)
        rebuilds = footer.rebuilds
        for _ in range(3):
            await pilot.press("slash")  # the filter field has the focus: its keys show
            await pilot.pause()
            assert greyed(footer) == should_grey(screen)
            await pilot.press("escape")
            await pilot.pause()
            assert greyed(footer) == should_grey(screen)
        assert footer.rebuilds >= rebuilds + 6
        bound = sum(1 for key in footer.query(FooterKey) if not key.has_class("-command-palette"))
        assert watcher_count(footer) == bound > 0, "one binding per key shown"
        assert forget_closed_watchers(footer) == 0


async def test_a_clamped_table_takes_a_filter_without_a_layout(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = table_of(app)
        height = table.size.height
        layouts: list[bool] = []
        refresh = table.refresh

        def counting(*regions: Any, **options: Any) -> Any:
            layouts.append(bool(options.get("layout")))
            return refresh(*regions, **options)

        table.refresh = counting  # type: ignore[method-assign]
        await pilot.press("slash", "1")  # still many more rows than the screen shows
        await pilot.pause()
        assert height < table.row_count + 1 < PIPELINES
        assert not any(layouts), "the table asked for no layout"
        assert table.vertical_scrollbar.window_virtual_size == table.row_count + 1
        assert table.size.height == height

        for key in "zzqx":  # no pipeline matches: the table shrinks to its header
            await pilot.press(key)
        await pilot.pause()
        assert table.row_count == 0
        assert table.size.height <= 2 < height, "laid out again: the table shrank to its header"


async def test_the_summary_is_repainted_only_when_it_changes(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(FilterBar)
        updates: list[str] = []
        for part in bar.query(Static):
            update = part.update

            def counting(*args: Any, _id: str | None = part.id, _u: Any = update, **kw: Any) -> Any:
                updates.append(str(_id))
                return _u(*args, **kw)

            part.update = counting  # type: ignore[method-assign]
        for _ in range(5):
            await pilot.press("down")
        await refresh(pilot)  # a refresh where nothing moved: the same counts
        assert updates == [], "nothing of the summary changed"
        await pilot.press("asterisk")
        await pilot.pause()
        assert updates == ["summary-left"], "the marks are counted on the left"
        assert f"{PIPELINES} marked" in str(bar.query_one("#summary-left", Static).content)


async def test_every_sort_says_so_without_a_layout(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        right = app.screen.query_one("#summary-right", Static)
        width = right.size.width
        layouts: list[bool] = []
        update = right.update

        def counting(*args: Any, **options: Any) -> Any:
            layouts.append(bool(options.get("layout", True)))
            return update(*args, **options)

        right.update = counting  # type: ignore[method-assign]
        said = set()
        for key in ("o", "o", "o", "O", "o"):  # state, last run, run number, reversed, name
            await pilot.press(key)
            await pilot.pause()
            said.add(str(right.content).strip())
            assert right.size.width == width
        assert len(said) == 5, said
        assert layouts == [False] * 5, "another sort's words took the same width"


def type_ahead(app: object, keys: list[str]) -> None:
    """Post keys straight to the driver, as a terminal sends them, without waiting in between."""
    driver = app._driver  # type: ignore[attr-defined]
    for key in keys:
        event = events.Key(key, None)
        event.set_sender(app)  # type: ignore[arg-type]
        driver.send_message(event)


async def test_no_down_key_is_lost_while_a_refresh_lands(
    make_app: MakeApp, clock: ManualClock
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        start = table.cursor_row
        before = dict(app.store.pipelines)
        clock.advance(20 * 60)  # many states move meanwhile
        app.refresh_pipelines()
        type_ahead(app, ["down"] * 20)
        await asyncio.sleep(0)
        type_ahead(app, ["down"] * 20)
        await settle(pilot)
        assert any(app.store.pipelines[key] is not before[key] for key in before), "it landed"
        assert table.cursor_row == start + 40


async def test_a_refresh_repaints_only_the_lines_that_read_otherwise() -> None:
    app = TableApp(make_jobs(10_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.table
        lines: list[int] = []
        refresh_line = table.refresh_line

        def counting(y: int) -> Any:
            lines.append(y)
            return refresh_line(y)

        table.refresh_line = counting  # type: ignore[method-assign]
        full: list[bool] = []
        refresh = table.refresh

        def counting_full(*regions: Any, **options: Any) -> Any:
            full.append(not regions)
            return refresh(*regions, **options)

        table.refresh = counting_full  # type: ignore[method-assign]

        app.clock = NOW + timedelta(seconds=1)  # "5m ago" still reads "5m ago"
        table.retime()
        await pilot.pause()
        assert lines == [] and not any(full), "no relative time reads otherwise: nothing"

        app.clock = NOW + timedelta(minutes=5)
        expected = [
            y + 1
            for y, key in enumerate(table.visible_keys)
            if app.jobs[key].last is not None  # "never" reads the same at any time
        ]
        table.retime()
        await pilot.pause()
        assert sorted(lines) == expected and not any(full)
        first = table.visible_keys[expected[0] - 1]
        assert relative(app.jobs[first].last, app.clock) in table.render_line(expected[0]).text

        lines.clear()
        far = table.row_keys[9000]
        app.jobs[far] = replace(app.jobs[far], state="failed")
        table.apply(changed=[far], order=list(table.row_keys))  # a refresh: same order
        await pilot.pause()
        assert lines == [] and not any(full), "nothing on screen changed: nothing repainted"

        near = table.row_keys[4]
        app.jobs[near] = replace(app.jobs[near], state="failed")
        table.apply(changed=[near], order=list(table.row_keys))
        await pilot.pause()
        assert lines == [5] and not any(full), "the one row on screen that changed"
        assert table.render_line(5).text.split()[0] == "failed"
