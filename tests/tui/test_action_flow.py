"""The action path under trouble, through the real app: a batch that partly fails, an outcome the
server did not report, a re-check that fails, an action from the details screen, and quitting (or
being ended) while an action is on its way. (A second action for a pipeline with one on its way:
``test_action_safety.py``.)
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from opstui.tui.app import OpstuiApp
from opstui.tui.dialogs import ConfirmDialog, QuitDialog
from opstui.tui.screens.details import DetailsScreen
from tests.tui.conftest import (
    MakeApp,
    action_bodies,
    audit_lines,
    client_of,
    first_with,
    highlight,
    notes,
    screen_of,
    settle,
    table_of,
    until,
)


def run_body(ids: list[str]) -> dict[str, Any]:
    return {"action": "run", "type": "pipeline", "version": 1, "target": ids}


async def mark_successes(pilot: Pilot[Any], app: OpstuiApp, count: int) -> list[str]:
    """Mark the first ``count`` pipelines shown that succeeded last (so they can run)."""
    chosen = [
        key
        for key in table_of(app).row_keys
        if app.store.pipelines[key].status is PipelineStatus.SUCCESS
        and app.store.pipelines[key].active
    ][:count]
    assert len(chosen) == count
    for key in chosen:
        await highlight(pilot, key)
        await pilot.press("space")
    assert screen_of(app).marked == set(chosen)
    return chosen


def answer_on_send(app: OpstuiApp, sim: SimServer, body: dict[str, Any]) -> None:
    """The next mutating request gets ``body`` for an answer (the re-check before it does not)."""

    async def on_send(action: str) -> None:
        sim.add_fault("POST", "/api/v2/actions", status=200, body=json.dumps(body))
        client_of(app).on_send = None

    client_of(app).on_send = on_send


async def test_a_partly_failed_batch_is_one_toast_and_keeps_the_failed_marked(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        marked = await mark_successes(pilot, app, 6)
        failing, passing = marked[:5], marked[5:]
        results = [
            {"target": key, "status": "failed", "message": "locked by a release"} for key in failing
        ] + [{"target": key, "status": "success", "message": "started"} for key in passing]
        answer_on_send(app, sim, {"status": "partial", "message": "", "results": results})
        sim.requests.clear()
        await pilot.press("r", "y")
        await settle(pilot)

        (sent,) = action_bodies(sim)
        assert sorted(sent["target"]) == sorted(marked)
        (toast,) = [n for n in notes(app) if "failed" in n]  # one toast, not five
        assert toast.startswith("Run failed for 5 of 6: ")
        assert toast.count(": locked by a release") == 3 and toast.endswith("; …")
        assert not any(n.startswith("Started") for n in notes(app))
        assert screen_of(app).marked == set(failing), "the failed stay marked, to retry"
        (entry,) = audit_lines(audit_path)
        assert sorted(o["target"] for o in entry["outcomes"] if not o["ok"]) == sorted(failing)

        sim.requests.clear()  # retry: the marks are the batch
        await pilot.press("r")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert sorted(t.id for t in dialog.targets) == sorted(failing)
        await pilot.press("y")
        await settle(pilot)
        (retried,) = action_bodies(sim)
        assert sorted(retried["target"]) == sorted(failing)
        assert screen_of(app).marked == set()
        assert len(audit_lines(audit_path)) == 2


async def test_a_target_the_server_did_not_report_on_is_unknown_and_re_checked(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        reported, silent = await mark_successes(pilot, app, 2)
        name = app.store.pipelines[silent].name
        results = [{"target": reported, "status": "success", "message": "started"}]
        answer_on_send(app, sim, {"status": "success", "message": "", "results": results})
        sim.requests.clear()
        await pilot.press("r", "y")
        await settle(pilot)

        assert len(action_bodies(sim)) == 1, "nothing re-sent"
        assert "Started 1 of 2 pipelines." in notes(app)
        assert f"Outcome unknown for {name}: the run may have been applied; re-checking…" in notes(
            app
        )
        assert f"{name} is still success: it seems not applied" in notes(app)
        assert not any("failed" in n for n in notes(app))
        after_run = sim.requests[
            next(i for i, r in enumerate(sim.requests) if r.body == action_bodies(sim)[0]) + 1
        ]
        assert after_run.body == {
            "action": "status",
            "type": "pipeline",
            "version": 1,
            "target": [silent],
        }
        assert screen_of(app).marked == {silent}
        (entry,) = audit_lines(audit_path)
        assert {(o["target"], o["ok"], o["status"]) for o in entry["outcomes"]} == {
            (reported, True, "success"),
            (silent, False, "unknown"),
        }


async def test_a_failed_status_re_check_sends_nothing(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await highlight(pilot, first_with(app, PipelineStatus.SUCCESS))
        sim.requests.clear()
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmDialog)
        # Both tries of the re-check (a read: retried once) fail; then a v1-shaped answer,
        # which carries no documents to re-check with.
        sim.add_fault("POST", "/api/v2/actions", status=503, body=b"down", times=2)
        await pilot.press("y")
        await settle(pilot)
        assert any(n.startswith("Not sent: could not re-check the status") for n in notes(app))

        sim.add_fault("POST", "/api/v2/actions", status=200, body='{"status":"success"}')
        await pilot.press("r", "y")
        await settle(pilot)
        assert any("carried no documents" in n for n in notes(app))

        assert [r.body["action"] for r in sim.requests if r.path == "/api/v2/actions"] == [
            "status",
            "status",
            "status",
        ]
        assert action_bodies(sim) == []
        assert audit_lines(audit_path) == []


async def test_an_action_from_the_details_screen(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, target)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        sim.requests.clear()
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)

        assert action_bodies(sim) == [run_body([target.id])]
        assert app.screen is screen
        assert screen.pipeline.status is PipelineStatus.RUNNING  # it polled after the run
        assert "/api/v1/pipeline/logs" in [r.path for r in sim.requests]
        assert app.store.pipelines[target.id].status is PipelineStatus.RUNNING
        assert f"Started {target.name}." in notes(app)
        (entry,) = audit_lines(audit_path)
        assert entry["action"] == "run" and entry["targets"][0]["id"] == target.id


async def on_its_way(pilot: Pilot[Any], app: OpstuiApp, sim: SimServer) -> str:
    """Send a run the server takes and does not answer (for 5 s); return the pipeline's id."""
    await settle(pilot)
    target = first_with(app, PipelineStatus.SUCCESS)
    await highlight(pilot, target)

    async def hang(action: str) -> None:
        sim.add_fault("POST", "/api/v2/actions", status=200, body='{"status":"ok"}', delay=5)

    client_of(app).on_send = hang
    sim.requests.clear()
    await pilot.press("r", "y")
    await until(pilot, lambda: action_bodies(sim, "run"))  # at the server, no answer yet
    return target.id


async def test_quitting_during_an_action_asks_and_quitting_anyway_audits_it_unknown(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        target = await on_its_way(pilot, app, sim)
        await pilot.press("q")
        dialog = app.screen
        assert isinstance(dialog, QuitDialog)
        assert [t.id for t in dialog.targets] == [target]
        assert dialog.focused is not None and dialog.focused.id == "cancel"  # opens on No
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, QuitDialog) and app.is_running
        assert audit_lines(audit_path) == []

        await pilot.press("ctrl+q")  # ctrl+q and ctrl+c ask too
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, QuitDialog) and app.is_running
        await pilot.press("ctrl+c")
        assert isinstance(app.screen, QuitDialog)
        await pilot.press("y")
        await pilot.pause()
    assert not app.is_running
    assert action_bodies(sim) == [run_body([target])]
    (entry,) = audit_lines(audit_path)
    assert entry["action"] == "run" and [t["id"] for t in entry["targets"]] == [target]
    assert entry["error"] == "outcome unknown: the app was closed before the server answered"
    assert [(o["ok"], o["status"]) for o in entry["outcomes"]] == [(False, "unknown")]


async def test_sigterm_during_an_action_still_writes_its_audit_line(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    before = signal.getsignal(signal.SIGTERM)
    async with app.run_test(size=(80, 24)) as pilot:
        target = await on_its_way(pilot, app, sim)
        # The app's handler is in place (else this would end the test run itself).
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        os.kill(os.getpid(), signal.SIGTERM)
        await until(pilot, lambda: not app.is_running or app._exit)
    assert app.return_code == 128 + signal.SIGTERM
    (entry,) = audit_lines(audit_path)
    assert [t["id"] for t in entry["targets"]] == [target]
    assert (
        entry["error"] == "outcome unknown: the app was ended by SIGTERM before the server answered"
    )
    assert [(o["ok"], o["status"]) for o in entry["outcomes"]] == [(False, "unknown")]
    assert signal.getsignal(signal.SIGTERM) == before, "the handler was put back"
