"""Fixtures for the app's tests: the real app on the seeded simulator, with a manual clock.

The refresh interval is an hour, so the poll never fires by itself: a test refreshes when it
says so (``ctrl+r``, or :func:`settle` after an action). Relative times are measured from the
simulator's manual clock, so what the screen shows is the same on every run.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, Static
from textual.worker import WorkerFailed

from opstui.api import Pipeline, PipelineStatus
from opstui.api.text import safe_text
from opstui.config import Secret, Settings
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.app import APP_RETRY, OpstuiApp, Start
from opstui.tui.screens.pipelines import PipelinesScreen
from opstui.tui.widgets.pipeline_table import PipelineTable
from opstui.tui.widgets.vtable import VirtualTable
from tests.conftest import TOKEN
from tests.tui.clients import TestClient

MakeApp = Callable[..., OpstuiApp]


@pytest.fixture(autouse=True)
def steady_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking cursor (its phase would make snapshots flaky), no NO_COLOR from the shell.

    ``Input.cursor_blink`` is a reactive read when an input mounts; shadowing it with a plain
    False on the class means the blink timer starts paused and the cursor is always drawn.
    """
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TMUX", raising=False)


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    """Where the app under test writes its audit log."""
    return tmp_path / "audit.log"


@pytest.fixture
def crash_dir(tmp_path: Path) -> Path:
    """Where the app under test writes a crash report."""
    return tmp_path / "crashes"


@pytest.fixture
def make_app(sim: SimServer, clock: ManualClock, audit_path: Path, crash_dir: Path) -> MakeApp:
    """Build the real app against ``sim``; keyword arguments override the settings.

    Its client is a :class:`~tests.tui.clients.TestClient` (the real client, HTTP to ``sim``,
    with seams for a test): ``client_of(app)``.
    """

    def make(*, start: Start = "pipelines", **overrides: Any) -> OpstuiApp:
        settings = Settings(
            base_url=sim.base_url,
            token=Secret(TOKEN),
            refresh=3600,
            audit_log=audit_path,
            crash_dir=crash_dir,
            profile="sim",  # a fixed server label: the simulator's port changes every run
            bell=False,
        )
        settings = settings.with_overrides(**overrides)
        client = TestClient(sim.base_url, TOKEN, timeout=settings.timeout, retry=APP_RETRY)
        return OpstuiApp(settings, start=start, now=clock.now, client=client)

    return make


def client_of(app: OpstuiApp) -> TestClient:
    """The test client of an app built by ``make_app``."""
    assert isinstance(app.client, TestClient)
    return app.client


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every worker (poll, action) has finished and the screen has caught up."""
    await pilot.pause()
    # Not ``workers.wait_for_complete()``: it raises WorkerCancelled when a worker was cancelled
    # meanwhile (a details poll replaced by the next one), which is the app working as meant.
    for _ in range(20):
        busy = [worker for worker in pilot.app.workers if not worker.is_finished]
        if not busy:
            break
        results = await asyncio.gather(*(w.wait() for w in busy), return_exceptions=True)
        failed = [result for result in results if isinstance(result, WorkerFailed)]
        if failed:
            raise failed[0]
    await pilot.pause()


async def until(pilot: Pilot[Any], condition: Callable[[], object], tries: int = 400) -> None:
    """Let the app run until ``condition()`` holds (bounded: fails after ``tries`` pauses)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause()
    raise AssertionError("the app never got there")


def audit_lines(path: Path) -> list[dict[str, Any]]:
    """Every line of the audit log at ``path`` (none when it was never written)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


async def refresh(pilot: Pilot[Any]) -> None:
    """Refresh now (``ctrl+r``) and wait for it to land."""
    await pilot.press("ctrl+r")
    await settle(pilot)


def screen_of(app: OpstuiApp) -> PipelinesScreen:
    """The pipelines screen (the bottom of the stack)."""
    screen = app.screen_stack[0]
    assert isinstance(screen, PipelinesScreen)
    return screen


def table_of(app: OpstuiApp) -> PipelineTable:
    """The pipelines table."""
    return screen_of(app).table


def row_cells(table: VirtualTable[Any], key: str) -> list[Text]:
    """What the row of ``key`` shows in each column on screen, whole (before it is cut to its
    column) and made safe as the table makes it (:func:`safe_text`)."""
    cells = table.cells(key)
    assert cells is not None, f"no row {key}"
    place = {column.key: index for index, column in enumerate(table.columns)}
    shown = []
    for column in table.shown_columns:
        cell = cells[place[column]]
        text = cell.copy() if isinstance(cell, Text) else Text(cell)
        text.plain = safe_text(text.plain)
        shown.append(text)
    return shown


def named(app: OpstuiApp, name: str) -> Pipeline:
    """The pipeline called ``name``, as the app last saw it."""
    for pipeline in app.store.pipelines.values():
        if pipeline.name == name:
            return pipeline
    raise LookupError(name)


def first_with(app: OpstuiApp, status: PipelineStatus) -> Pipeline:
    """The first pipeline shown with ``status``."""
    for pipeline_id in table_of(app).row_keys:
        pipeline = app.store.pipelines[pipeline_id]
        if pipeline.status is status and pipeline.active:
            return pipeline
    raise LookupError(status)


async def highlight(pilot: Pilot[Any], pipeline: Pipeline | str) -> None:
    """Put the cursor on ``pipeline`` (or the pipeline with this id)."""
    pipeline_id = pipeline if isinstance(pipeline, str) else pipeline.id
    assert table_of(pilot.app).move_cursor(key=pipeline_id)  # type: ignore[arg-type]
    await pilot.pause()


def action_bodies(sim: SimServer, action: str | None = None) -> list[dict[str, Any]]:
    """The bodies of the ``POST /api/v2/actions`` requests received (other than status)."""
    bodies = [
        request.body
        for request in sim.requests
        if request.method == "POST" and request.path == "/api/v2/actions"
    ]
    return [
        body
        for body in bodies
        if isinstance(body, dict)
        and body.get("action") != "status"
        and (action is None or body.get("action") == action)
    ]


def notes(app: OpstuiApp) -> list[str]:
    """Every notification currently shown, oldest first."""
    return [str(notification.message) for notification in app._notifications]


def shown_text(widget: Static, width: int = 100) -> str:
    """What a Static shows, as plain text, ``width`` cells wide."""
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(widget.content)
    return capture.get()
