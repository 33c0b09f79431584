"""``opstui approvals --watch``: each new gate printed once, clean stops, errors polled through."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO

import pytest

from opstui.api import PipelineStatus, ServerError
from opstui.backoff import next_delay
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from tests.cli.conftest import Cli, pipeline_now, pipelines_in
from tests.conftest import TOKEN


@pytest.fixture
def world(clock: ManualClock) -> World:
    """A quiet tenant: nothing starts or fails unless the test says so."""
    return World(seed=11, pipelines=16, tasks=1, clock=clock, failure_rate=0.0, autorun=False)


def open_a_gate(sim: SimServer, clock: ManualClock, exclude: set[str]) -> str:
    """Run a pipeline that has an approval gate until it waits there; its id."""
    for candidate in pipelines_in(
        sim, PipelineStatus.SUCCESS, PipelineStatus.FAILED, PipelineStatus.STOPPED
    ):
        if candidate.id in exclude or not any(s.is_gate and s.active for s in candidate.plan):
            continue
        sim.world.run_pipelines([candidate.id])
        for _ in range(200):
            clock.advance(5)
            if pipeline_now(sim, candidate.id).status is PipelineStatus.AWAITING_APPROVAL:
                return candidate.id
    raise AssertionError("no pipeline reached an approval gate")


class Lines:
    """Lines from a pipe, read on a thread, so a test can wait for one with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def next(self, timeout: float = 10.0) -> str:
        return self._queue.get(timeout=timeout)

    def none_within(self, seconds: float) -> bool:
        try:
            line = self._queue.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected line: {line!r}")


@pytest.fixture
def watcher(sim: SimServer) -> Iterator[subprocess.Popen[str]]:
    """``python -m opstui approvals --watch --json`` against the simulator, in a subprocess."""
    env = {
        **os.environ,
        "OPSTUI_BASE_URL": sim.base_url,
        "OPSTUI_TOKEN": TOKEN,
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "opstui", "approvals", "--watch", "--json", "--interval", "0.5"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_watch_prints_each_new_gate_once_and_stops_cleanly(
    sim: SimServer, clock: ManualClock, watcher: subprocess.Popen[str], how: str
) -> None:
    assert watcher.stdout is not None and watcher.stderr is not None
    lines = Lines(watcher.stdout)
    waiting = {p.id for p in pipelines_in(sim, PipelineStatus.AWAITING_APPROVAL)}
    assert waiting
    first = [json.loads(lines.next()) for _ in waiting]
    assert {item["id"] for item in first} == waiting
    assert all(item["gate"]["name"] for item in first)

    new_id = open_a_gate(sim, clock, exclude=waiting)
    item = json.loads(lines.next())
    assert item["id"] == new_id
    assert item["run_count"] == pipeline_now(sim, new_id).run_count
    assert lines.none_within(1.2)  # two more polls: nothing is printed twice

    watcher.send_signal(getattr(signal, how))
    assert watcher.wait(timeout=10) == 0
    err = watcher.stderr.read()
    assert "Traceback" not in err
    assert TOKEN not in err
    assert err.startswith("opstui: watching")
    assert "error" not in err


def test_watch_stops_cleanly_when_its_reader_goes_away(
    sim: SimServer, clock: ManualClock, watcher: subprocess.Popen[str]
) -> None:
    """``opstui approvals --watch | head -n 1``: the next line meets a closed pipe; exit 0."""
    assert watcher.stdout is not None and watcher.stderr is not None
    head = subprocess.Popen(["head", "-n", "1"], stdin=watcher.stdout, stdout=subprocess.PIPE)
    watcher.stdout.close()  # only head reads the pipe now
    first, _ = head.communicate(timeout=10)
    assert json.loads(first)["gate"]
    waiting = {p.id for p in pipelines_in(sim, PipelineStatus.AWAITING_APPROVAL)}
    open_a_gate(sim, clock, exclude=waiting)
    assert watcher.wait(timeout=10) == 0
    err = watcher.stderr.read()
    assert "Traceback" not in err
    assert "BrokenPipe" not in err
    assert "error" not in err


def test_watch_in_process_prints_each_gate_once(connected: SimServer, cli: Cli) -> None:
    result = cli("approvals", "--watch", "--interval", "0.5", "--max-polls", "2")
    assert result.code == 0
    waiting = pipelines_in(connected, PipelineStatus.AWAITING_APPROVAL)
    lines = result.out.splitlines()
    assert len(lines) == len(waiting)
    for pipeline in waiting:
        assert sum(pipeline.id in line for line in lines) == 1
    assert all(" awaiting " in line and " run " in line for line in lines)


def test_watch_polls_through_transient_errors(connected: SimServer, cli: Cli) -> None:
    connected.add_fault("GET", "/api/v2/pipelines", status=503, times=3)
    started = time.monotonic()
    result = cli("approvals", "--watch", "--json", "--interval", "0.5", "--max-polls", "2")
    assert result.code == 0
    warnings = [line for line in result.err.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert "HTTP 503" in warnings[0]
    # the one back-off rule (opstui.backoff.next_delay): first the interval, as the app waits
    assert "trying again in 0.5s" in warnings[0]
    assert "reconnected" in result.err
    assert len(result.out.splitlines()) == len(
        pipelines_in(connected, PipelineStatus.AWAITING_APPROVAL)
    )
    assert time.monotonic() - started < 8


def test_watch_ends_on_an_authentication_error(
    connected: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSTUI_TOKEN", "expired-token-123456")
    result = cli("approvals", "--watch", "--interval", "0.5")
    assert result.code == 3
    assert result.err.splitlines()[-1].startswith("opstui: error: not authenticated")
    assert result.out == ""


def test_watch_backs_off_by_the_one_rule_while_the_server_fails(
    connected: SimServer, cli: Cli
) -> None:
    # three polls fail whole (each read is tried three times), then the server is back
    connected.add_fault("GET", "/api/v2/pipelines", status=503, times=9)
    result = cli("approvals", "--watch", "--json", "--interval", "0.5", "--max-polls", "4")
    assert result.code == 0, result.err
    waits = [
        line.rsplit("trying again in ", 1)[1]
        for line in result.err.splitlines()
        if "trying again in" in line
    ]
    assert waits == [
        f"{next_delay(n, ServerError('x', status_code=503), 0.5):g}s" for n in (1, 2, 3)
    ]
    assert waits == ["0.5s", "1s", "2s"]
    assert "reconnected" in result.err
    assert result.out  # the gates, once it was back
