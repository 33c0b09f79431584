"""Every action flow of the pipelines screen, from the key to the request the simulator received.

Each flow goes key -> dialog -> status re-check -> one request -> outcome -> notification and
audit line, and every test asserts on what actually reached the server (``sim.requests``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from opstui.api import PipelineStatus
from opstui.api.rules import why_not
from opstui.sim.server import SimServer
from opstui.tui.dialogs import (
    CloneDialog,
    ConfirmDialog,
    DeleteDialog,
    EditPipelineDialog,
    RejectDialog,
)
from opstui.tui.screens.pipelines import PipelinesScreen
from tests.conftest import TOKEN
from tests.tui.conftest import (
    MakeApp,
    action_bodies,
    first_with,
    highlight,
    named,
    notes,
    row_cells,
    screen_of,
    settle,
    table_of,
    until,
)


def body(action: str, ids: list[str], **extra: object) -> dict[str, object]:
    """The exact body the contract says an action request carries."""
    return {"action": action, "type": "pipeline", "version": 1, "target": ids, **extra}


async def test_run_confirmed_sends_one_request_and_refreshes_the_row(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, target)
        sim.requests.clear()
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [body("run", [target.id])]
        statuses = [r.body["action"] for r in sim.requests if r.path == "/api/v2/actions"]
        assert statuses == ["status", "run", "status"]  # re-check, send, refresh the row
        assert app.store.pipelines[target.id].status is PipelineStatus.RUNNING
        assert row_cells(table_of(app), target.id)[1].plain == "running"
        assert f"Started {target.name}." in notes(app)
        (entry,) = [json.loads(line) for line in audit_path.read_text().splitlines()]
        assert entry["action"] == "run" and entry["source"] == "tui"
        assert entry["targets"] == [{"id": target.id, "name": target.name}]
        assert entry["server"] == "sim" and entry["outcomes"][0]["ok"] is True
        assert TOKEN not in audit_path.read_text()


@pytest.mark.parametrize("cancel", [["n"], ["escape"], ["enter"]], ids=["n", "escape", "enter"])
async def test_cancelled_dialogs_send_nothing(
    make_app: MakeApp, sim: SimServer, audit_path: Path, cancel: list[str]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await highlight(pilot, first_with(app, PipelineStatus.RUNNING))
        sim.requests.clear()
        await pilot.press("s")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press(*cancel)
        await settle(pilot)
        assert isinstance(app.screen, PipelinesScreen)
        assert [r for r in sim.requests if r.method == "POST"] == []
        assert not audit_path.exists()


async def test_reject_needs_a_reason_and_sends_it(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.AWAITING_APPROVAL)
        await highlight(pilot, target)
        sim.requests.clear()
        await pilot.press("x")
        assert isinstance(app.screen, RejectDialog)
        await pilot.press("space", "space", "enter")  # a blank reason is refused
        assert isinstance(app.screen, RejectDialog)
        assert action_bodies(sim) == []
        await pilot.press("ctrl+u", *"freeze", "enter")
        await settle(pilot)
        assert action_bodies(sim) == [body("reject", [target.id], message="freeze")]
        assert app.store.pipelines[target.id].status is PipelineStatus.FAILED


async def test_reject_cancelled_with_escape_sends_nothing(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await highlight(pilot, first_with(app, PipelineStatus.AWAITING_APPROVAL))
        sim.requests.clear()
        await pilot.press("x", *"no", "escape")
        await settle(pilot)
        assert action_bodies(sim) == []


async def test_delete_needs_the_typed_name(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = named(app, "ledger-service-deploy")
        await highlight(pilot, target)
        sim.requests.clear()
        await pilot.press("D")
        assert isinstance(app.screen, DeleteDialog)
        await pilot.press(*"ledger", "enter")
        assert isinstance(app.screen, DeleteDialog)
        assert action_bodies(sim) == []
        await pilot.press(*"-service-deploy", "enter")
        await settle(pilot)
        assert action_bodies(sim) == [body("delete", [target.id])]
        assert target.id not in table_of(app).row_keys
        assert table_of(app).row_count == 39


async def test_a_batch_of_marked_pipelines_goes_in_one_request(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "space", "down", "space", "down", "space")
        screen = screen_of(app)
        marked = set(screen.marked)
        assert len(marked) == 3
        sim.requests.clear()
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and len(dialog.targets) == 3
        await pilot.press("y")
        await settle(pilot)
        (sent,) = action_bodies(sim)
        assert sent["action"] == "approve" and set(sent["target"]) == marked  # type: ignore[arg-type]
        assert len(sent["target"]) == 3  # type: ignore[arg-type]
        assert screen.marked == set()  # done: the marks go
        assert "Approved 3 of 3 pipelines." in notes(app)


async def test_a_batch_skips_what_does_not_apply_and_says_so(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        gate = first_with(app, PipelineStatus.AWAITING_APPROVAL)
        done = first_with(app, PipelineStatus.SUCCESS)
        screen = screen_of(app)
        for pipeline in (gate, done):
            await highlight(pilot, pipeline)
            await pilot.press("space")
        sim.requests.clear()
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert [t.id for t in dialog.targets] == [gate.id]
        assert dialog.detail is not None and done.name in dialog.detail
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [body("approve", [gate.id])]
        assert screen.marked == {done.id}


async def test_a_pipeline_that_left_the_gate_meanwhile_is_not_approved(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "space", "down", "space")
        first, second = sorted(screen_of(app).marked)
        sim.requests.clear()
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmDialog)
        sim.world.approve_pipelines([first], by="someone else")  # behind the dialog's back
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [body("approve", [second])]
        name = app.store.pipelines[first].name
        assert any(
            n.startswith(f"Not sent for {name} is not awaiting approval") for n in notes(app)
        )


async def test_nothing_is_sent_when_every_target_left_the_gate(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.AWAITING_APPROVAL)
        await highlight(pilot, target)
        sim.requests.clear()
        await pilot.press("a")
        sim.world.approve_pipelines([target.id])
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == []


async def test_edit_sends_only_what_changed(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = named(app, "ledger-service-deploy")
        await highlight(pilot, target)
        sim.requests.clear()
        await pilot.press("e")
        assert isinstance(app.screen, EditPipelineDialog)
        await pilot.press("end", *"-v2", "enter", "ctrl+s")
        await settle(pilot)
        assert action_bodies(sim) == [
            {
                "action": "update",
                "type": "pipeline",
                "version": 1,
                "target": target.id,
                "settings": {"name": "ledger-service-deploy-v2"},
            }
        ]
        assert app.store.pipelines[target.id].name == "ledger-service-deploy-v2"


async def test_clone_posts_a_copy_and_moves_the_cursor_to_it(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = named(app, "ledger-service-deploy")
        await highlight(pilot, target)
        sim.requests.clear()
        await pilot.press("c")
        assert isinstance(app.screen, CloneDialog)
        await pilot.press("enter")
        await settle(pilot)
        posts = [
            r for r in sim.requests if r.method == "POST" and r.path == "/api/v2/pipeline/create"
        ]
        assert len(posts) == 1 and posts[0].body["name"] == "ledger-service-deploy copy"
        assert table_of(app).row_count == 41
        cursor = table_of(app).cursor_key
        assert cursor is not None
        assert app.store.pipelines[cursor].name == "ledger-service-deploy copy"


async def test_a_failed_action_shows_the_servers_message(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = named(app, "ledger-service-deploy")
        await highlight(pilot, target)
        sim.add_fault(
            "POST",
            "/api/v2/actions",
            status=409,
            body=b'{"status": "failed", "message": "pipeline is locked by a release"}',
        )
        await pilot.press("D")
        app.screen.query_one(Input).value = target.name
        await pilot.press("enter")
        await settle(pilot)
        (error,) = [n for n in notes(app) if n.startswith("Delete failed")]
        assert "pipeline is locked by a release" in error
        assert target.id in table_of(app).row_keys
        (entry,) = [json.loads(line) for line in audit_path.read_text().splitlines()]
        assert "locked" in entry["error"]


async def test_keys_typed_ahead_never_stack_two_dialogs(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await highlight(pilot, first_with(app, PipelineStatus.SUCCESS))
        sim.requests.clear()
        screen = screen_of(app)
        screen.perform("run")
        screen.perform("run")  # before the first dialog is even on screen
        await pilot.pause()
        assert len([s for s in app.screen_stack if isinstance(s, ConfirmDialog)]) == 1
        await pilot.press("y")
        await settle(pilot)
        assert len(action_bodies(sim, "run")) == 1


async def test_the_screens_seam_perform_action_with_items(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.SUCCESS)
        sim.requests.clear()
        app.perform_action("run", [target])
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [body("run", [target.id])]


async def test_a_batch_names_a_few_of_those_it_skips_and_counts_them_all(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")  # every pipeline: some cannot be run (running, gated, ...)
        blocked = [p for p in app.store.pipelines.values() if why_not("run", p)]
        assert len(blocked) > 4
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog) and dialog.detail is not None
        skipping = dialog.detail.splitlines()[-1]
        assert skipping.startswith(f"Skipping {len(blocked):,} (the action does not apply): ")
        assert skipping.endswith("; ….")
        assert sum(p.name in skipping for p in blocked) == 3, "the first three by name"
        await pilot.press("n")
