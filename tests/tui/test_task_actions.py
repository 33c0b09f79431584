"""Task actions in the real app: the tasks screen, the one action path, a body of type task."""

from __future__ import annotations

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from opstui.tui.dialogs import ConfirmDialog
from opstui.tui.screens.tasks import TasksScreen
from tests.tui.conftest import MakeApp, action_bodies, settle


async def test_running_a_task_asks_about_a_task_and_sends_type_task(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TasksScreen)
        for _ in range(len(screen.tasks)):
            task = screen.highlighted
            if task is not None and task.status is not PipelineStatus.RUNNING and task.active:
                break
            await pilot.press("down")
        assert task is not None
        sim.requests.clear()
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert dialog.noun == "task"
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [
            {"action": "run", "type": "task", "version": 1, "target": [task.id]}
        ]


async def test_a_batch_of_marked_tasks_is_one_request_and_the_marks_go(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TasksScreen)
        chosen = []
        for _ in range(len(screen.tasks)):
            task = screen.highlighted
            if task is not None and task.status is not PipelineStatus.RUNNING and task.active:
                chosen.append(task.id)
                await pilot.press("space")  # marks and moves down
                if len(chosen) == 2:
                    break
            else:
                await pilot.press("down")
        assert len(chosen) == 2
        sim.requests.clear()
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        [sent] = action_bodies(sim)
        assert sorted(sent["target"]) == sorted(chosen)
        assert screen.marked == set()
