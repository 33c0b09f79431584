"""Absence is not deletion: a row goes only for a 404, a delete that succeeded, or a complete list.

Through the real app against the seeded simulator. A list or status answer the simulator would
not send on its own (one record left out, records skipped, an answer held back) is the real
answer reshaped by the test client (``tests/tui/clients.py``); a v1-shaped status answer is a
fault on the wire.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Static
from textual.worker import WorkerState

from opstui.api import Listing, Pipeline, PipelineStatus, Task
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.actions import Performed
from opstui.tui.dialogs import ConfirmDialog
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.tasks import TasksScreen
from opstui.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import (
    MakeApp,
    action_bodies,
    audit_lines,
    client_of,
    first_with,
    highlight,
    notes,
    refresh,
    row_cells,
    screen_of,
    settle,
    shown_text,
    table_of,
    until,
)

V1_STATUS = '{"status":"success","message":"ok"}'
"""A status answer in the v1 shape the contract allows: a word and a message, no documents."""


def status_reads(sim: SimServer) -> list[list[str]]:
    """The targets of every status request received, in order."""
    return [
        request.body["target"]
        for request in sim.requests
        if request.path == "/api/v2/actions"
        and isinstance(request.body, dict)
        and request.body.get("action") == "status"
    ]


def list_reads(sim: SimServer, path: str = "/api/v2/pipelines") -> int:
    """How many list requests (pages) were received."""
    return sum(1 for r in sim.requests if r.method == "GET" and r.path == path)


async def test_a_v1_status_answer_after_an_action_removes_no_row(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, target)
        sim.requests.clear()

        def v1_next(done: Performed) -> None:  # the read of the rows right after the run
            sim.add_fault("POST", "/api/v2/actions", status=200, body=V1_STATUS)

        app.action_done.subscribe(app, v1_next, immediate=True)
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)

        assert action_bodies(sim) == [
            {"action": "run", "type": "pipeline", "version": 1, "target": [target.id]}
        ]
        assert status_reads(sim) == [[target.id], [target.id]]  # the re-check, then the rows
        assert target.id in app.store.pipelines
        assert target.id in table_of(app).row_keys
        assert not any("exist" in n or "deleted" in n for n in notes(app))
        (entry,) = audit_lines(audit_path)
        assert entry["action"] == "run" and entry["outcomes"][0]["ok"] is True


async def test_a_404_for_the_rows_of_an_action_removes_that_row(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, target)
        sim.requests.clear()

        def deleted_meanwhile(done: Performed) -> None:  # before the rows are read again
            sim.world.delete_pipelines([target.id])

        app.action_done.subscribe(app, deleted_meanwhile, immediate=True)
        await pilot.press("r", "y")
        await settle(pilot)
        assert status_reads(sim) == [[target.id], [target.id]]
        assert target.id not in app.store.pipelines and target.id not in table_of(app).row_keys
        (entry,) = audit_lines(audit_path)
        assert entry["action"] == "run"


async def test_a_list_without_a_pipeline_keeps_its_row_and_mark_until_a_complete_list(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        missing = table.row_keys[5]
        await highlight(pilot, missing)
        await pilot.press("space")
        assert screen_of(app).marked == {missing}
        sim.requests.clear()

        async def without_it(listing: Listing[Pipeline]) -> Listing[Pipeline]:
            # What a list read across pages that shifted looks like: one pipeline missed.
            kept = [pipeline for pipeline in listing if pipeline.id != missing]
            return Listing(kept, skipped=listing.skipped, complete=False)

        client_of(app).reshape_list = without_it
        await refresh(pilot)
        assert list_reads(sim) >= 1
        assert missing in app.store.pipelines and missing in table.row_keys
        assert screen_of(app).marked == {missing}, "the mark stays"

        sim.world.delete_pipelines([missing])
        await refresh(pilot)  # a complete list, read in a stable order: now it is gone
        assert missing not in app.store.pipelines and missing not in table.row_keys
        assert screen_of(app).marked == set()
        assert action_bodies(sim) == []
        assert audit_lines(audit_path) == []


async def test_records_the_list_could_not_read_are_counted_in_the_status_line(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = screen_of(app).query_one(StatusBar)
        assert "could not be read" not in bar.right_text.plain
        sim.requests.clear()

        async def two_skipped(listing: Listing[Pipeline]) -> Listing[Pipeline]:
            return Listing(listing, skipped=2, complete=listing.complete)

        client_of(app).reshape_list = two_skipped
        await refresh(pilot)
        assert list_reads(sim) >= 1
        assert bar.right_text.plain == "2 pipelines could not be read · updated just now"
        assert table_of(app).row_count == 40

        await refresh(pilot)  # the next list read every record
        assert "could not be read" not in bar.right_text.plain
        assert audit_lines(audit_path) == []


async def test_the_rows_of_an_action_never_cancel_a_full_poll_and_the_newer_document_wins(
    make_app: MakeApp, sim: SimServer, clock: ManualClock, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, target)
        release = asyncio.Event()
        read: list[Listing[Pipeline]] = []

        async def held(listing: Listing[Pipeline]) -> Listing[Pipeline]:
            read.append(listing)  # read now, before the action: it lands after it
            await release.wait()
            return listing

        client_of(app).reshape_list = held
        sim.requests.clear()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: read)
        (poll,) = [worker for worker in app.workers if worker.group == "refresh"]
        clock.advance(1)  # the run's document is updated after the list was read

        await pilot.press("r", "y")
        await until(pilot, lambda: len(status_reads(sim)) == 2)  # re-check, then the rows
        await until(pilot, lambda: app.store.pipelines[target.id].status is PipelineStatus.RUNNING)
        assert poll.state is WorkerState.RUNNING, "the full poll is still on its way"

        release.set()
        await settle(pilot)
        assert poll.state is WorkerState.SUCCESS, "the poll landed: it was not cancelled"
        stale = next(p for p in read[0] if p.id == target.id)
        assert stale.status is PipelineStatus.SUCCESS  # what the late list said
        assert app.store.pipelines[target.id].status is PipelineStatus.RUNNING
        assert row_cells(table_of(app), target.id)[1].plain == "running"
        assert len(action_bodies(sim, "run")) == 1
        (entry,) = audit_lines(audit_path)
        assert entry["action"] == "run"


async def test_the_details_screen_says_deleted_only_after_a_404(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.FAILED)
        await highlight(pilot, target)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        sim.requests.clear()

        sim.add_fault("POST", "/api/v2/actions", status=200, body=V1_STATUS)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert status_reads(sim) == [[target.id]]
        assert not screen.deleted
        assert not screen.query_one("#details-notice").has_class("-shown")
        assert screen.live.text(app.now()).plain.startswith("no status in the last answer")
        assert screen.check_action("reset", ()) is True

        sim.world.delete_pipelines([target.id])
        await pilot.press("ctrl+r")  # now the server answers 404 for it
        await settle(pilot)
        assert screen.deleted
        assert "deleted" in screen.live.text(app.now()).plain or screen.has_class("-deleted")
        assert action_bodies(sim) == []
        assert audit_lines(audit_path) == []


async def test_a_task_list_without_a_task_keeps_its_row_and_counts_the_skipped(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TasksScreen)
        missing = screen.highlighted
        assert missing is not None
        await pilot.press("space")
        sim.requests.clear()

        async def without_it(listing: Listing[Task]) -> Listing[Task]:
            kept = [task for task in listing if task.id != missing.id]
            return Listing(kept, skipped=2, complete=False)

        client_of(app).reshape_tasks = without_it
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert list_reads(sim, "/api/v2/tasks") >= 1
        assert missing.id in screen.tasks and screen.marked == {missing.id}
        assert screen.table.row_count == 12
        status = screen.query_one("#tasks-status", Static)
        assert (
            shown_text(status, 80).rstrip().endswith("2 tasks could not be read · updated just now")
        )
        assert action_bodies(sim) == []
        assert audit_lines(audit_path) == []
