"""The tasks screen against the seeded simulator, with a manual clock."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from opstui.api import Task
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.actions import Performed
from opstui.tui.screens.tasks import COLUMNS, TasksScreen, column_widths
from tests.tui.test_details import HostApp, settle, text_of

RUNNING = ("sync-service-cloud-repo", "sync-sales-cloud-repo")
"""The two tasks running at time zero (rows 8 and 9, newest first)."""


def tasks_app(sim: SimServer, clock: ManualClock) -> HostApp:
    """A host app showing the tasks; lists them again only when told (``refresh_now``)."""
    return HostApp(
        lambda app: TasksScreen(client=app.client, now=app.now, refresh=3600),
        sim.base_url,
        clock,
    )


def screen_of(pilot: Pilot[Any]) -> TasksScreen:
    screen = pilot.app.screen
    assert isinstance(screen, TasksScreen)
    return screen


def row_keys(screen: TasksScreen) -> list[str]:
    return [str(row.key.value) for row in screen.table.ordered_rows]


def cell(screen: TasksScreen, task_id: str, column: str) -> str:
    return str(screen.table.get_cell(task_id, column))


def status_line(screen: TasksScreen, width: int = 120) -> str:
    """The status line's words, runs of spaces folded to one."""
    text = text_of(screen.query_one("#tasks-status").content, width)  # type: ignore[attr-defined]
    return " ".join(text.split())


async def goto(pilot: Pilot[Any], name: str) -> Task:
    """Put the cursor on the task called ``name``."""
    screen = screen_of(pilot)
    for index, task in enumerate(screen.tasks.values()):
        if task.name == name:
            screen.table.move_cursor(row=index, animate=False)
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
        assert [key for key, _ in COLUMNS] == [
            str(column.key.value) for column in screen.table.ordered_columns
        ]
        for task in screen.tasks.values():
            assert cell(screen, task.id, "state") == task.status.value
            assert cell(screen, task.id, "runs") == str(task.run_count)
        never = next(task for task in screen.tasks.values() if task.run_count == 0)
        assert cell(screen, never.id, "last") == "never"
        assert status_line(screen).startswith(
            "12 tasks · 2 failed · 2 running · 2 stopped · 6 success updated 0s ago"
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
        assert sim.requests == [], "the app acts; the screen lists again on action_done"

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
        assert cell(screen, first.id, "mark") == "*"
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
        assert calls(app)[-1] == ("run", ["snaplogic-orders-sync", *RUNNING])

        await pilot.press("u")
        assert screen.marked == set()
        assert cell(screen, first.id, "mark") == ""
        assert "marked" not in status_line(screen)


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

        clock.advance(30)  # longer than any task run (5 to 25 s)
        screen.refresh_now()
        await settle(pilot)

        assert row_keys(screen) == order
        assert screen.table.cursor_row == row
        assert screen.highlighted is not None
        assert screen.highlighted.id == running.id
        assert cell(screen, running.id, "state") in ("success", "failed")
        assert cell(screen, running.id, "runs") == str(running.run_count)
        assert cell(screen, running.id, "last") == "1s ago" or "ago" in cell(
            screen, running.id, "last"
        )
        assert "0 running" not in status_line(screen)
        assert "running" not in status_line(screen)

        created = sim.world.create_task(
            {"name": "[b]new[/b]\x1b[2J", "type": "gitscraper", "owner_name": "Ada Lovelace"}
        )
        screen.refresh_now()
        await settle(pilot)
        assert row_keys(screen) == [*order, created["_id"]]
        assert cell(screen, created["_id"], "name") == "[b]new[/b]\ufffd[2J"
        assert screen.highlighted is not None
        assert screen.highlighted.id == running.id


async def test_lists_again_when_the_app_says_a_task_action_was_sent(
    sim: SimServer, clock: ManualClock
) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sim.requests.clear()
        app.action_done.publish(Performed("run", "pipeline", sent=["a" * 24]))
        await settle(pilot)
        assert sim.requests == []
        app.action_done.publish(Performed("run", "task", sent=["a" * 24]))
        await settle(pilot)
        assert [r.path for r in sim.requests] == ["/api/v2/tasks"]


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
        assert "offline · retrying in 1h 00m · last update 4s ago · HTTP 503" in line
        narrow = status_line(screen, 78)  # the live state wins the room, the counts give way
        assert narrow.startswith("offline · retrying in 1h 00m · last update 4s ago · HTTP 503")
        assert screen.query_one("#tasks-status").has_class("-offline")


async def test_back_to_pipelines(sim: SimServer, clock: ManualClock) -> None:
    app = tasks_app(sim, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        assert not isinstance(app.screen, TasksScreen)
        app.push_screen(TasksScreen(client=app.client, now=app.now, refresh=3600))
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, TasksScreen)
        assert len(app.screen_stack) == 1


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
def test_columns_fit_the_width(width: int) -> None:
    natural = {"name": 27, "type": 22, "owner": 17}
    widths = column_widths(width, natural)
    total = sum(widths.values()) + 2 * len(COLUMNS) + 2
    assert total <= width or widths["name"] == 12
    if width >= 110:
        assert widths["name"] == 27
        assert widths["owner"] == 17


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot(
    snap_compare: Any, sim: SimServer, clock: ManualClock, size: tuple[int, int]
) -> None:
    async def mark_two(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("down", "space", "down", "space", "up", "up")
        await settle(pilot)

    assert snap_compare(tasks_app(sim, clock), terminal_size=size, run_before=mark_two)
