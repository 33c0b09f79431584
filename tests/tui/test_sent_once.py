"""Every mutating action of the app is sent exactly once, whatever the server does with it.

Through the real app against the seeded simulator: the key, the dialog, the status re-check, the
request. The fault is put on the wire for the mutating request itself (the test client's
``on_send`` seam adds it right before that request leaves, after the re-check): a 5xx is a
failure, said and audited; a timeout after sending is an unknown outcome, audited as such, never
re-sent, and followed by a read that shows what the server now says.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from opstui.api import PipelineStatus, Task
from opstui.sim.server import RecordedRequest, SimServer
from opstui.tui.app import OpstuiApp
from opstui.tui.screens.tasks import TasksScreen
from tests.tui.conftest import (
    MakeApp,
    audit_lines,
    client_of,
    first_with,
    highlight,
    named,
    notes,
    settle,
)

CREATE_PATHS = ("/api/v2/pipelines", "/api/v2/pipeline/create")
"""Where a clone may be posted (the older path, and the one the corrected contract names)."""

APP_TIMEOUT = 1.0
"""The app's timeout in the timeout cases: the fault answers only after HANG seconds."""
HANG = 3.0

Open = Callable[[Pilot[Any], OpstuiApp], Awaitable[list[str]]]


def pipeline_case(status: PipelineStatus | str, *keys: str) -> Open:
    """Highlight a pipeline (first in ``status``, or by name) and press ``keys``."""

    async def open_(pilot: Pilot[Any], app: OpstuiApp) -> list[str]:
        await settle(pilot)
        target = (
            first_with(app, status) if isinstance(status, PipelineStatus) else named(app, status)
        )
        await highlight(pilot, target)
        await pilot.press(*keys)
        await pilot.pause()
        return [target.id]

    return open_


async def delete_case(pilot: Pilot[Any], app: OpstuiApp) -> list[str]:
    await settle(pilot)
    target = named(app, "ledger-service-deploy")
    await highlight(pilot, target)
    await pilot.press("D")
    await pilot.pause()
    app.screen.query_one(Input).value = target.name
    await pilot.press("enter")
    return [target.id]


def task_case(running: bool, key: str) -> Open:
    """On the tasks screen, highlight a task that is (or is not) running and press ``key``."""

    async def open_(pilot: Pilot[Any], app: OpstuiApp) -> list[str]:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TasksScreen)
        task: Task | None = None
        for _ in range(len(screen.tasks)):
            task = screen.highlighted
            if task is not None and (task.status is PipelineStatus.RUNNING) == running:
                break
            await pilot.press("down")
        assert task is not None
        await pilot.press(key, "y")
        return [task.id]

    return open_


@dataclass(frozen=True)
class Case:
    """One mutating action of the app, and how to get the app to send it."""

    action: str
    kind: str
    verb: str
    """The verb of the app's own "... failed" toast."""
    open: Open

    @property
    def paths(self) -> tuple[str, ...]:
        return CREATE_PATHS if self.action == "clone" else ("/api/v2/actions",)

    def sent(self, sim: SimServer) -> list[RecordedRequest]:
        """The requests that carried this action."""
        if self.action == "clone":
            return [r for r in sim.requests if r.method == "POST" and r.path in CREATE_PATHS]
        return [
            r
            for r in sim.requests
            if r.path == "/api/v2/actions"
            and isinstance(r.body, dict)
            and r.body.get("action") == self.action
            and r.body.get("type") == self.kind
        ]


CASES = [
    Case("run", "pipeline", "Run", pipeline_case(PipelineStatus.SUCCESS, "r", "y")),
    Case("stop", "pipeline", "Stop", pipeline_case(PipelineStatus.RUNNING, "s", "y")),
    Case("reset", "pipeline", "Reset", pipeline_case(PipelineStatus.FAILED, "R", "y")),
    Case(
        "approve", "pipeline", "Approve", pipeline_case(PipelineStatus.AWAITING_APPROVAL, "a", "y")
    ),
    Case(
        "reject",
        "pipeline",
        "Reject",
        pipeline_case(PipelineStatus.AWAITING_APPROVAL, "x", *"not today", "enter"),
    ),
    Case(
        "update",
        "pipeline",
        "Save",
        pipeline_case("ledger-service-deploy", "e", "end", *"-v2", "enter", "ctrl+s"),
    ),
    Case("clone", "pipeline", "Clone", pipeline_case("ledger-service-deploy", "c", "enter")),
    Case("delete", "pipeline", "Delete", delete_case),
    Case("run", "task", "Run", task_case(False, "r")),
    Case("stop", "task", "Stop", task_case(True, "s")),
]
IDS = [f"{case.kind}-{case.action}" for case in CASES]


def fault_on_send(app: OpstuiApp, sim: SimServer, case: Case, **fault: Any) -> None:
    """Put ``fault`` on the wire for the mutating request itself, as it leaves."""

    async def on_send(action: str) -> None:
        assert action == case.action, "only the action itself is a mutating request"
        for path in case.paths:
            sim.add_fault("POST", path, **fault)

    client_of(app).on_send = on_send


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_sent_once_under_a_5xx(
    make_app: MakeApp, sim: SimServer, audit_path: Path, case: Case
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fault_on_send(
            app, sim, case, status=503, body='{"status":"failed","message":"upstream exploded"}'
        )
        sim.requests.clear()
        targets = await case.open(pilot, app)
        await settle(pilot)

        assert len(case.sent(sim)) == 1, "sent once, never retried"
        (failed,) = [n for n in notes(app) if n.startswith(f"{case.verb} failed")]
        assert "upstream exploded" in failed
        assert not any(n.startswith("Outcome unknown") for n in notes(app))
        (entry,) = audit_lines(audit_path)
        assert (entry["action"], entry["type"]) == (case.action, case.kind)
        assert [t["id"] for t in entry["targets"]] == targets
        assert "upstream exploded" in entry["error"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_sent_once_under_a_timeout_and_the_outcome_is_unknown(
    make_app: MakeApp, sim: SimServer, audit_path: Path, case: Case
) -> None:
    app = make_app(timeout=APP_TIMEOUT)
    async with app.run_test(size=(80, 24)) as pilot:
        fault_on_send(app, sim, case, status=200, body='{"status":"success"}', delay=HANG)
        sim.requests.clear()
        targets = await case.open(pilot, app)
        await settle(pilot)

        (sent,) = case.sent(sim)  # once, never re-sent
        assert not any(n.startswith(f"{case.verb} failed") for n in notes(app)), (
            "an unknown outcome is not a failure"
        )
        what = "it may have been created" if case.action == "clone" else "may have been applied"
        assert any(n.startswith("Outcome unknown") and what in n for n in notes(app))
        # What the server shows now: the fault answered without applying anything.
        assert any("seems not" in n for n in notes(app)), notes(app)
        (entry,) = audit_lines(audit_path)
        assert (entry["action"], entry["type"]) == (case.action, case.kind)
        assert entry["error"].startswith("outcome unknown: ")
        assert [(o["target"], o["ok"], o["status"]) for o in entry["outcomes"]] == [
            (target, False, "unknown") for target in targets
        ]
        after = sim.requests[sim.requests.index(sent) + 1 :]
        assert after, "then the app reads what happened"
        if case.action == "clone":
            assert any(r.method == "GET" and r.query.get("search") for r in after)
        else:
            first = next(r for r in after if r.path == "/api/v2/actions")
            assert first.body == {
                "action": "status",
                "type": case.kind,
                "version": 1,
                "target": targets,
            }


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_sent_once_when_the_connection_resets_after_it_was_applied(
    make_app: MakeApp, sim: SimServer, audit_path: Path, case: Case
) -> None:
    """A real TCP reset once the server applied the action: unknown, once, audited, re-read."""
    app = make_app(timeout=APP_TIMEOUT)
    async with app.run_test(size=(80, 24)) as pilot:
        fault_on_send(app, sim, case, kind="reset", when="after")
        sim.requests.clear()
        targets = await case.open(pilot, app)
        await settle(pilot)

        (sent,) = case.sent(sim)
        assert sent.fault == "reset" and sent.applied, "the server applied it, then reset"
        assert not any(n.startswith(f"{case.verb} failed") for n in notes(app))
        assert any(n.startswith("Outcome unknown") for n in notes(app)), notes(app)
        (entry,) = audit_lines(audit_path)
        assert entry["error"].startswith("outcome unknown: ")
        assert [t["id"] for t in entry["targets"]] == targets
        assert sim.requests[sim.requests.index(sent) + 1 :], "then the app reads what happened"
