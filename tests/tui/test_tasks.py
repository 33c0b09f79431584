"""The tasks screen against the seeded simulator, with a manual clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen

from opstui.api import Task
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.actions import Performed
from opstui.tui.data.tasks import TaskFeed
from opstui.tui.screens.tasks import TasksScreen
from opstui.tui.widgets.task_table import TASK_COLUMNS, mark_symbol
from opstui.tui.widgets.vtable import layout_columns
from tests.tui.conftest import action_bodies
from tests.tui.test_details import HostApp, settle, text_of

RUNNING = ("sync-service-cloud-repo", "sync-sales-cloud-repo")
"""The two tasks running at time zero (rows 8 and 9, newest first)."""


class TasksHost(HostApp):
    """The stand-in app, with a task feed built from its client (as the real app builds it)."""

    def __init__(
        self, make_screen: Callable[[TasksHost], Screen[Any]], base_url: str, clock: ManualClock
    ) -> None:
        super().__init__(make_screen, base_url, clock)  # type: ignore[arg-type]
        self.task_feed = TaskFeed(self, self.client, refresh=3600, now=clock.now)


def tasks_app(sim: SimServer, clock: ManualClock) -> TasksHost:
    """A host app showing the tasks; the feed lists them again only when told (an hour's
    refresh), or after a failure (5 s, real time: longer than any test here waits)."""
    return TasksHost(lambda app: TasksScreen(app.task_feed, now=app.now), sim.base_url, clock)


def screen_of(pilot: Pilot[Any]) -> TasksScreen:
    screen = pilot.app.screen
    assert isinstance(screen, TasksScreen)
    return screen


def row_keys(screen: TasksScreen) -> list[str]:
    return list(screen.table.row_keys)


def cell(screen: TasksScreen, task_id: str, column: str) -> str:
    """What the row of ``task_id`` shows in ``column``, as painted (the row must be on screen)."""
    table = screen.table
    line = table.row_keys.index(task_id) - table.scroll_offset.y + 1
    assert 1 <= line < table.size.height, "the row is on screen"
    text = table.render_line(line).text
    x = 0
    for shown, width in table.column_layout:
        if shown.key == column:
            return text[x + 1 : x + 1 + width].strip()
        x += width + 2
    raise LookupError(column)


def status_line(screen: TasksScreen, width: int = 120) -> str:
    """The status line's words, runs of spaces folded to one."""
    text = text_of(screen.query_one("#tasks-status").content, width)  # type: ignore[attr-defined]
    return " ".join(text.split())


async def goto(pilot: Pilot[Any], name: str) -> Task:
    """Put the cursor on the task called ``name``."""
    screen = screen_of(pilot)
    for task in screen.tasks.values():
        if task.name == name:
            assert screen.table.move_cursor(key=task.id)
            await pilot.pause()
            return task
    raise LookupError(name)


def calls(app: HostApp) -> list[tuple[str, list[str]]]:
    return [(action, [item.name for item in items]) for action, items in app.calls]


async def test_lists_every_task(sim: SimServer, clock: ManualClock) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        world_ids = [doc["_id"] for doc in sim.world.list_tasks().items]
        assert len(world_ids) == 12
        assert row_keys(screen) == world_ids
        assert screen.table.shown_columns == [column.key for column in TASK_COLUMNS]
        for task in screen.tasks.values():
            assert cell(screen, task.id, "state") == task.status.value
            assert cell(screen, task.id, "runs") == str(task.run_count)
        never = next(task for task in screen.tasks.values() if task.run_count == 0)
        assert cell(screen, never.id, "last") == "never"
        assert status_line(screen).startswith(
            "12 tasks · 2 failed · 2 running · 2 stopped · 6 success updated just now"
        )
        assert [(r.method, r.path) for r in sim.requests] == [("GET", "/api/v2/tasks")]


async def test_run_and_stop_the_highlighted_task(sim: SimServer, clock: ManualClock) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        await goto(pilot, "snaplogic-orders-sync")
        assert screen.check_action("run", ()) is True
        assert screen.check_action("stop", ()) is None
        await pilot.press("s")
        await settle(pilot)
        assert app.calls == []
        assert app.notes == ["Snaplogic-orders-sync is not running."]

        sim.requests.clear()
        await pilot.press("r")
        await settle(pilot)
        assert calls(app) == [("run", ["snaplogic-orders-sync"])]
        assert sim.requests == [], "the app acts; the feed reads again on action_done"

        await goto(pilot, RUNNING[0])
        assert screen.check_action("run", ()) is None
        assert screen.check_action("stop", ()) is True
        await pilot.press("r", "s")
        await settle(pilot)
        assert app.notes[-1] == f"{RUNNING[0].capitalize()} is already running."
        assert calls(app)[-1] == ("stop", [RUNNING[0]])


async def test_marked_tasks_go_as_one_batch(sim: SimServer, clock: ManualClock) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        first = await goto(pilot, RUNNING[0])
        await pilot.press("space")  # marks, and moves down to the other running task
        await pilot.press("space")
        assert screen.marked == {
            first.id,
            *(t.id for t in screen.tasks.values() if t.name == RUNNING[1]),
        }
        assert cell(screen, first.id, "mark") == screen.table.mark
        assert "2 marked" in status_line(screen)
        assert screen.check_action("run", ()) is None
        assert screen.check_action("stop", ()) is True

        await pilot.press("r")
        await settle(pilot)
        assert app.calls == []
        assert app.notes[-1].startswith("None of the 2 marked tasks can run: ")
        await pilot.press("s")
        await settle(pilot)
        assert calls(app) == [("stop", list(RUNNING))]

        await goto(pilot, "snaplogic-orders-sync")
        await pilot.press("space")
        assert screen.check_action("run", ()) is True  # one of the three can run
        await pilot.press("r")
        await settle(pilot)
        assert calls(app)[-1] == ("run", ["snaplogic-orders-sync", *RUNNING]), "in table order"

        await pilot.press("u")
        assert screen.marked == set()
        assert cell(screen, first.id, "mark") == ""
        assert "marked" not in status_line(screen)


def test_the_mark_falls_back_to_ascii_where_the_font_may_lack_it() -> None:
    assert mark_symbol("xterm-256color") == "●"
    assert mark_symbol("linux") == "*"
    assert mark_symbol("vt100") == "*"


async def test_refresh_updates_rows_in_place_and_keeps_the_cursor(
    sim: SimServer, clock: ManualClock
) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        order = row_keys(screen)
        running = await goto(pilot, RUNNING[1])
        row = screen.table.cursor_row
        assert cell(screen, running.id, "state") == "running"
        before = dict(screen.tasks)

        clock.advance(30)  # longer than any task run (5 to 25 s)
        screen.refresh_now()
        await settle(pilot)

        assert row_keys(screen) == order
        assert screen.table.cursor_row == row
        assert screen.highlighted is not None
        assert screen.highlighted.id == running.id
        assert cell(screen, running.id, "state") in ("success", "failed")
        assert cell(screen, running.id, "runs") == str(running.run_count)
        screen._tick()  # the one-second tick brings the table's time to the clock's
        await pilot.pause()
        assert cell(screen, running.id, "last").endswith("s ago")  # it ended within the 30 s
        assert "running" not in status_line(screen)
        # Only the tasks the server updated are new objects; the table repaints those by key.
        moved = {key for key, task in screen.tasks.items() if task is not before[key]}
        updated = {
            doc["_id"]
            for doc in sim.world.list_tasks().items
            if doc["updatedAt"] != before[doc["_id"]].document()["updatedAt"]
        }
        assert moved == updated and {t.id for t in before.values() if t.name in RUNNING} <= moved

        created = sim.world.create_task(
            {"name": "[b]new[/b]\x1b[2J", "type": "gitscraper", "owner_name": "Ada Lovelace"}
        )
        screen.refresh_now()
        await settle(pilot)
        assert row_keys(screen) == [*order, created["_id"]], "a new task comes in at the end"
        assert cell(screen, created["_id"], "name") == "[b]new[/b]\ufffd[2J"
        assert screen.highlighted is not None
        assert screen.highlighted.id == running.id


async def test_relative_times_move_with_the_clock_without_a_request(
    sim: SimServer, clock: ManualClock
) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        task = await goto(pilot, "snaplogic-orders-sync")
        assert cell(screen, task.id, "last") == "11m ago"
        sim.requests.clear()
        clock.advance(3600)
        screen._tick()  # the screen's one-second tick: a repaint of the rows shown
        await pilot.pause()
        assert cell(screen, task.id, "last") == "1h ago"
        assert "updated 1h ago" in status_line(screen)
        assert sim.requests == []


async def test_reads_the_status_of_the_tasks_an_action_was_sent_for(
    sim: SimServer, clock: ManualClock
) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        idle = await goto(pilot, "snaplogic-orders-sync")
        await pilot.press("space")
        other = await goto(pilot, "aks-cluster-dev")
        await pilot.press("space")
        sim.requests.clear()
        app.action_done.publish(Performed("run", "pipeline", sent=[idle.id]))
        await settle(pilot)
        assert sim.requests == []
        assert screen.marked == {idle.id, other.id}

        sim.world.run_tasks([idle.id])  # what the app's action did on the server
        app.action_done.publish(
            Performed("run", "task", sent=[idle.id, other.id], succeeded=[idle.id])
        )
        await settle(pilot)
        assert [(r.method, r.path) for r in sim.requests] == [("POST", "/api/v2/actions")]
        assert sim.requests[0].body == {
            "action": "status",
            "type": "task",
            "version": 1,
            "target": [idle.id, other.id],
        }
        assert action_bodies(sim) == []
        assert cell(screen, idle.id, "state") == "running"
        assert cell(screen, idle.id, "mark") == ""
        assert screen.marked == {other.id}, "the mark of a task that did not succeed stays"
        assert cell(screen, other.id, "mark") == screen.table.mark


async def test_offline_keeps_the_rows(sim: SimServer, clock: ManualClock) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        order = row_keys(screen)
        sim.add_fault("GET", "/api/v2/tasks", status=503)
        clock.advance(4)
        screen.refresh_now()
        await settle(pilot)
        assert row_keys(screen) == order
        line = status_line(screen)
        assert "12 tasks" in line
        # The one back-off rule: 5 s after the first failure, whatever the refresh interval.
        assert "offline · retrying in 5s · last update 4s ago · HTTP 503" in line
        narrow = status_line(screen, 70)  # the live state wins the room, the counts give way
        assert narrow.startswith("offline · retrying in 5s · last update 4s ago · HTTP 503")
        assert screen.query_one("#tasks-status").has_class("-offline")

        screen.refresh_now()
        await settle(pilot)
        assert "12 tasks" in status_line(screen)
        assert "updated just now" in status_line(screen)
        assert not screen.query_one("#tasks-status").has_class("-offline")


async def test_a_refused_token_says_so(sim: SimServer, clock: ManualClock) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(pilot)
        sim.add_fault("GET", "/api/v2/tasks", status=401)
        screen.refresh_now()
        await settle(pilot)
        assert "token refused · retrying in 1h 00m · last update 0s ago" in status_line(screen)
        assert screen.query_one("#tasks-status").has_class("-offline")


async def test_back_to_pipelines(sim: SimServer, clock: ManualClock) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, TasksScreen)
        assert not app.task_feed.watched
        app.push_screen(TasksScreen(app.task_feed, now=app.now))
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        assert len(app.screen.table.row_keys) == 12
        await pilot.press("enter")  # a task has nothing to open: enter stays here
        await pilot.pause()
        assert isinstance(app.screen, TasksScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TasksScreen)
        assert len(app.screen_stack) == 1
        assert not app.task_feed.watched


@pytest.mark.parametrize("width", [39, 49, 60, 80, 100, 120, 200])
def test_columns_fit_the_width(width: int) -> None:
    # The table's width: the terminal's less the scrollbar gutter.
    layout = dict((column.key, cells) for column, cells in layout_columns(TASK_COLUMNS, width - 1))
    assert sum(cells + 2 for cells in layout.values()) <= width - 1
    assert {"mark", "state", "name"} <= layout.keys()
    assert layout["name"] >= 12
    if width >= 80:
        assert list(layout) == [column.key for column in TASK_COLUMNS]
        assert layout["name"] >= 26, "the seeded world's longest name shows whole"
    if width >= 120:
        assert layout["type"] >= 22 and layout["owner"] >= 17, "and its types and owners"
    if width < 70:
        assert "owner" not in layout, "the owner gives way first"


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot(
    snap_compare: Any, sim: SimServer, clock: ManualClock, size: tuple[int, int]
) -> None:
    async def mark_two(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("down", "space", "down", "space", "up", "up")
        await settle(pilot)

    assert snap_compare(tasks_app(sim, clock), terminal_size=size, run_before=mark_two)
