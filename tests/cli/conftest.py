"""Helpers for the command-line tests: run ``main`` in-process and check what it printed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from opstui.api import Pipeline, PipelineStatus
from opstui.cli import main
from opstui.sim.clock import ManualClock
from opstui.sim.server import RecordedRequest, SimServer
from opstui.sim.world import World
from tests.conftest import READONLY_TOKEN, TOKEN

ACTIONS_PATH = "/api/v2/actions"
CREATE_PATHS = ("/api/v2/pipelines", "/api/v2/pipeline/create")
"""Where a clone may be created: the older recipe's path and the one Opsera's portal uses."""


@dataclass
class Result:
    """What one ``main([...])`` call returned and printed."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout as JSON (fails the test if it is not)."""
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def _plain_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """80 columns, no colour, whatever terminal runs the tests."""
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def connected(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> SimServer:
    """The simulator, named by OPSTUI_BASE_URL and OPSTUI_TOKEN as a user would."""
    monkeypatch.setenv("OPSTUI_BASE_URL", sim.base_url)
    monkeypatch.setenv("OPSTUI_TOKEN", TOKEN)
    return sim


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimServer]:
    """One simulator for a module's tests that change nothing (the default seeded world)."""
    world = World(seed=7, pipelines=40, tasks=12, clock=ManualClock())
    with SimServer(world, token=TOKEN, readonly_token=READONLY_TOKEN) as server:
        yield server


@pytest.fixture
def served(shared_sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> SimServer:
    """The shared simulator, with no faults and an empty request log, named by the environment.

    Only for tests that change nothing in the world; the others use ``connected``.
    """
    shared_sim.clear_faults()
    shared_sim.requests.clear()
    monkeypatch.setenv("OPSTUI_BASE_URL", shared_sim.base_url)
    monkeypatch.setenv("OPSTUI_TOKEN", TOKEN)
    return shared_sim


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``main(argv)`` in-process; the token must never be in what it printed."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        for secret in (TOKEN, READONLY_TOKEN):
            assert secret not in captured.out
            assert secret not in captured.err
        assert "Traceback" not in captured.err
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture(autouse=True)
def _audit_never_has_the_token(isolated_user: Path) -> Iterator[None]:
    """After every test, the audit log (if any) holds no token."""
    yield
    log = isolated_user / "audit.log"
    if log.exists():
        text = log.read_text()
        assert TOKEN not in text
        assert READONLY_TOKEN not in text


def audit_entries(home: Path) -> list[dict[str, Any]]:
    """The audit log's lines, parsed."""
    log = home / "audit.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def actions_sent(sim: SimServer, action: str | None = None) -> list[RecordedRequest]:
    """Action requests the simulator received (other than ``status``), or only ``action``'s."""
    return [
        r
        for r in sim.requests
        if r.method == "POST"
        and r.path == ACTIONS_PATH
        and isinstance(r.body, dict)
        and r.body.get("action") != "status"
        and (action is None or r.body.get("action") == action)
    ]


def status_requests(sim: SimServer) -> list[RecordedRequest]:
    """``status`` action requests the simulator received."""
    return [
        r
        for r in sim.requests
        if r.path == ACTIONS_PATH and isinstance(r.body, dict) and r.body.get("action") == "status"
    ]


def pipelines_in(sim: SimServer, *statuses: PipelineStatus) -> list[Pipeline]:
    """The world's active pipelines whose derived status is one of ``statuses``, in id order."""
    found = []
    for pipeline_id in sorted(sim.world.pipeline_ids()):
        doc = sim.world.get_pipeline(pipeline_id)
        assert doc is not None
        pipeline = Pipeline.model_validate(doc)
        if pipeline.status in statuses and pipeline.active:
            found.append(pipeline)
    return found


def pipeline_doc(sim: SimServer, pipeline_id: str) -> dict[str, Any]:
    """A pipeline's document as the world holds it now (it must exist)."""
    doc = sim.world.get_pipeline(pipeline_id)
    assert doc is not None, f"no pipeline {pipeline_id}"
    return doc


def task_doc(sim: SimServer, task_id: str) -> dict[str, Any]:
    """A task's document as the world holds it now (it must exist)."""
    doc = sim.world.get_task(task_id)
    assert doc is not None, f"no task {task_id}"
    return doc


def pipeline_now(sim: SimServer, pipeline_id: str) -> Pipeline:
    """One pipeline as the world holds it now."""
    doc = sim.world.get_pipeline(pipeline_id)
    assert doc is not None
    return Pipeline.model_validate(doc)


def creates_sent(sim: SimServer) -> list[RecordedRequest]:
    """Create (clone) requests the simulator received, on either create path."""
    return [r for r in sim.requests if r.method == "POST" and r.path in CREATE_PATHS]


def mutations_sent(sim: SimServer) -> list[RecordedRequest]:
    """Every request that changes something: actions other than ``status``, and creates."""
    return actions_sent(sim) + creates_sent(sim)


def real_answer(sim: SimServer, method: str, path: str, **kwargs: Any) -> Any:
    """What the simulator answers now (parsed JSON), to craft a raw fault from a real answer.

    The request is left out of ``sim.requests`` so tests count only what the CLI sent.
    """
    before = len(sim.requests)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = httpx.request(method, sim.base_url + path, headers=headers, timeout=10, **kwargs)
    del sim.requests[before:]
    response.raise_for_status()
    return response.json()


def one_error_line(err: str) -> str:
    """The one ``opstui: error:`` line on stderr (fails unless there is exactly one)."""
    errors = [line for line in err.splitlines() if line.startswith("opstui: error: ")]
    assert len(errors) == 1, err
    return errors[0]
