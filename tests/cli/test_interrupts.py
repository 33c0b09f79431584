"""Ctrl-C and SIGTERM while an action is on its way: audited as unknown, one line, 130 / 143.

Each test runs the real command in a subprocess against a simulator whose answer is held back
(a fault's ``delay``), and sends the signal once the request has reached the server.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from tests.cli.conftest import (
    ACTIONS_PATH,
    actions_sent,
    audit_entries,
    one_error_line,
    pipelines_in,
    status_requests,
)
from tests.conftest import TOKEN

SIGNALS = {"SIGINT": (signal.SIGINT, 130), "SIGTERM": (signal.SIGTERM, 143)}


def _start(sim: SimServer, *argv: str, stdin: int | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "OPSTUI_BASE_URL": sim.base_url, "OPSTUI_TOKEN": TOKEN}
    return subprocess.Popen(
        [sys.executable, "-m", "opstui", *argv],
        env=env,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: str, check: object, process: subprocess.Popen[str]) -> None:
    """Poll ``check()`` until true (bounded); fail with what the process said if it ended."""
    assert callable(check)
    deadline = time.monotonic() + 20
    while not check():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"ended before {condition}: {process.returncode} {out} {err}")
        assert time.monotonic() < deadline, f"never: {condition}"
        time.sleep(0.02)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in err
    assert TOKEN not in out and TOKEN not in err
    return process.returncode, out, err


@pytest.mark.parametrize("name", list(SIGNALS))
def test_a_signal_while_the_action_is_on_its_way_audits_it_as_unknown(
    sim: SimServer, isolated_user: Path, name: str
) -> None:
    signum, code = SIGNALS[name]
    pipeline = pipelines_in(sim, PipelineStatus.AWAITING_APPROVAL)[0]
    sim.add_fault("POST", ACTIONS_PATH, status=200, body="{}", delay=3.0)
    process = _start(sim, "approve", pipeline.id, "--force")
    _wait_for("the approve reached the server", lambda: actions_sent(sim), process)
    process.send_signal(signum)
    returncode, out, err = _finish(process)

    assert returncode == code
    what = "terminated (SIGTERM)" if name == "SIGTERM" else "interrupted"
    assert one_error_line(err) == (
        f"opstui: error: {what}: the approve may have been applied; "
        f"check with `opstui show {pipeline.id}` before trying again"
    )
    assert len(err.splitlines()) == 1
    assert out == f"unknown   {pipeline.id}: interrupted while the request was on its way\n"
    assert len(actions_sent(sim)) == 1
    (entry,) = audit_entries(isolated_user)
    assert entry["action"] == "approve"
    assert entry["error"] == "outcome unknown: interrupted while the request was on its way"
    assert entry["outcomes"] == [
        {
            "target": pipeline.id,
            "ok": False,
            "status": "unknown",
            "message": "interrupted while the request was on its way",
        }
    ]


@pytest.mark.parametrize("name", list(SIGNALS))
def test_a_signal_during_the_status_check_sends_nothing(
    sim: SimServer, isolated_user: Path, name: str
) -> None:
    signum, code = SIGNALS[name]
    pipeline = pipelines_in(sim, PipelineStatus.FAILED)[0]
    sim.add_fault("POST", ACTIONS_PATH, status=200, body="{}", delay=3.0)
    process = _start(sim, "reset", pipeline.id)
    _wait_for("the status check reached the server", lambda: status_requests(sim), process)
    process.send_signal(signum)
    returncode, out, err = _finish(process)

    assert returncode == code
    assert one_error_line(err).endswith(": nothing was sent")
    assert len(err.splitlines()) == 1
    assert out == ""
    assert actions_sent(sim) == []
    (entry,) = audit_entries(isolated_user)
    assert entry["error"] == "interrupted: nothing sent"
    assert entry["outcomes"] == []


def test_ctrl_c_at_the_delete_question_deletes_nothing(sim: SimServer, isolated_user: Path) -> None:
    victim = pipelines_in(sim, PipelineStatus.SUCCESS)[0]
    controller, terminal = pty.openpty()
    try:
        process = _start(sim, "delete", victim.id, stdin=terminal)
        assert process.stderr is not None
        asked = ""
        deadline = time.monotonic() + 20
        while "[y/N]" not in asked and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stderr], [], [], 0.5)
            if ready:
                asked += os.read(process.stderr.fileno(), 4096).decode()
        assert "[y/N]" in asked
        process.send_signal(signal.SIGINT)
        returncode, out, err = _finish(process)
    finally:
        os.close(terminal)
        os.close(controller)
    assert returncode == 130
    assert one_error_line(err) == "opstui: error: interrupted: nothing was sent"
    assert out == ""
    assert actions_sent(sim) == []
    assert sim.world.get_pipeline(victim.id) is not None
    (entry,) = audit_entries(isolated_user)
    assert entry["error"] == "interrupted: nothing sent"


def test_a_signal_during_a_read_says_so(sim: SimServer) -> None:
    sim.add_fault("GET", "/api/v2/pipelines", status=200, body="[]", delay=3.0)
    process = _start(sim, "list")
    _wait_for("the list reached the server", lambda: sim.requests, process)
    process.send_signal(signal.SIGTERM)
    returncode, out, err = _finish(process)
    assert returncode == 143
    assert err == "opstui: error: terminated (SIGTERM)\n"
    assert out == ""
