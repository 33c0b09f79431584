"""What the user confirmed is what is sent: the same gate of the same run, and never twice."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from opstui.api import PipelineStatus
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.dialogs import ConfirmDialog
from tests.tui.conftest import (
    MakeApp,
    action_bodies,
    audit_lines,
    client_of,
    first_with,
    highlight,
    notes,
    settle,
    until,
)


def _paused_at_gate(doc: dict[str, Any]) -> bool:
    return bool(doc["workflow"]["last_step"].get("running", {}).get("paused"))


async def test_approve_is_not_sent_when_the_pipeline_reached_a_gate_of_a_new_run(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.AWAITING_APPROVAL)
        await highlight(pilot, target)
        sim.requests.clear()
        await pilot.press("a")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert f"run #{target.run_count}" in (dialog.detail or ""), "the dialog names the run"
        # Behind the dialog: someone approves, the run ends, someone runs it again, and the new
        # run waits at a gate again. The user's "y" was about the old run's gate.
        world = sim.world
        world.approve_pipelines([target.id], by="someone else")
        for _ in range(200):
            clock.advance(5)
            doc = world.pipeline_status([target.id]).documents[0]
            if doc["workflow"]["last_step"].get("status") != "running" and not _paused_at_gate(doc):
                break
        world.reset_pipelines([target.id])
        world.run_pipelines([target.id])
        for _ in range(400):
            clock.advance(5)
            doc = world.pipeline_status([target.id]).documents[0]
            if _paused_at_gate(doc):
                break
        assert _paused_at_gate(doc), "the seeded re-run reaches a gate"
        assert doc["workflow"]["run_count"] == target.run_count + 1
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim, "approve") == []
        assert any("another gate or run" in note for note in notes(app))


async def test_a_second_approve_for_a_pipeline_with_one_on_its_way_is_refused(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.AWAITING_APPROVAL)
        await highlight(pilot, target)
        release = asyncio.Event()
        held: list[str] = []

        async def hold(action: str) -> None:  # the approve waits on its way to the server
            held.append(action)
            await release.wait()

        client_of(app).on_send = hold
        sim.requests.clear()
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: held)
        await pilot.press("a")  # the same pipeline, the same gate: still awaiting approval
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog), "no dialog for a pipeline in flight"
        assert any("has an action on its way already" in note for note in notes(app))

        release.set()
        await settle(pilot)
        assert held == ["approve"]
        assert len(action_bodies(sim, "approve")) == 1
        assert len(audit_lines(audit_path)) == 1

        await pilot.press("a")  # once it is done, the key works again (it was approved: greyed)
        await pilot.pause()
        assert len(action_bodies(sim, "approve")) == 1
