"""The installed ``opstui`` command and ``python -m opstui``, run as real processes."""

from __future__ import annotations

import json
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
from tests.cli.conftest import Cli, actions_sent, audit_entries, pipelines_in
from tests.conftest import TOKEN

OPSTUI = Path(sys.executable).with_name("opstui")


def _env(sim: SimServer | None = None) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "80"}
    if sim is not None:
        env.update(OPSTUI_BASE_URL=sim.base_url, OPSTUI_TOKEN=TOKEN)
    return env


def test_the_console_script_prints_its_version() -> None:
    done = subprocess.run([OPSTUI, "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0
    assert done.stdout == "opstui 0.1.0\n"


def test_python_m_opstui_shows_help_with_the_exit_codes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "opstui", "--help"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0
    assert "exit codes:" in done.stdout
    assert "approvals" in done.stdout


def test_the_console_script_lists_pipelines_as_json(shared_sim: SimServer) -> None:
    sim = shared_sim
    done = subprocess.run(
        [OPSTUI, "list", "--json"], capture_output=True, text=True, timeout=30, env=_env(sim)
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert {p["id"] for p in json.loads(done.stdout)} == set(sim.world.pipeline_ids())
    assert TOKEN not in done.stdout


def test_list_into_a_closed_pipe_is_quiet(shared_sim: SimServer) -> None:
    """The reader is gone before the first line (``opstui list | true``): quiet, exit 0."""
    lister = subprocess.Popen(
        [OPSTUI, "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(shared_sim)
    )
    assert lister.stdout is not None and lister.stderr is not None
    lister.stdout.close()
    assert lister.wait(timeout=30) == 0
    assert lister.stderr.read() == b""


def test_delete_asks_on_a_terminal(sim: SimServer, isolated_user: Path) -> None:
    """On a real terminal, delete asks; "y" deletes, in one request."""
    victim = pipelines_in(sim, PipelineStatus.SUCCESS)[0]
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [OPSTUI, "delete", victim.id],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(sim),
    )
    os.close(terminal)
    assert process.stderr is not None
    asked = b""
    deadline = time.monotonic() + 20
    while b"[y/N]" not in asked and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.5)
        if ready:
            asked += os.read(process.stderr.fileno(), 4096)
    assert b"[y/N]" in asked
    assert victim.name.encode() in asked
    assert actions_sent(sim) == []
    os.write(controller, b"y\n")
    out, _ = process.communicate(timeout=20)
    os.close(controller)
    assert process.returncode == 0
    assert out.decode().startswith(f"ok        {victim.name} ({victim.id})")
    assert [r.body for r in actions_sent(sim)] == [
        {"action": "delete", "type": "pipeline", "version": 1, "target": [victim.id]}
    ]
    assert sim.world.get_pipeline(victim.id) is None
    assert audit_entries(isolated_user)[0]["action"] == "delete"


def _read_until(fd: int, marker: bytes, seconds: float) -> bytes:
    """Read ``fd`` until ``marker`` shows up (or the time is up, or the other end closes)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end has closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _read_until_exit(fd: int, process: subprocess.Popen[bytes], seconds: float) -> bytes:
    """Keep reading ``fd`` until ``process`` ends: an app that quits still paints its last
    frames, and blocks on a terminal nobody reads once the terminal's buffer is full."""
    seen = b""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        seen += _read_until(fd, b"\0", 0.2)  # a byte no screen holds: all of 0.2 s is read
    return seen


def test_demo_opens_the_app_on_its_approvals_view() -> None:
    """``opstui --demo --approvals`` in a real terminal: the app shows gates; q quits with 0."""
    controller, terminal = pty.openpty()
    env = {**_env(), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    process = subprocess.Popen(
        [OPSTUI, "--demo", "--approvals", "--pipelines", "12"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        screen = _read_until(controller, b"Awaiting approval", 20)
        assert b"Awaiting approval" in screen
        assert b"Traceback" not in screen
        os.write(controller, b"q")
        _read_until_exit(controller, process, 15)
        assert process.wait(timeout=1) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)


def test_sim_serves_until_interrupted(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """``opstui sim --port 0`` prints how to connect; that works; Ctrl-C stops it with 0."""
    process = subprocess.Popen(
        [
            OPSTUI,
            "sim",
            "--port",
            "0",
            "--pipelines",
            "5",
            "--seed",
            "3",
            "--token",
            "sim-token-1234",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        export = ""
        for line in process.stdout:
            if line.startswith("export "):
                export = line
                break
        settings = dict(word.split("=", 1) for word in export.split()[1:])
        assert settings["OPSTUI_TOKEN"] == "sim-token-1234"
        monkeypatch.setenv("OPSTUI_BASE_URL", settings["OPSTUI_BASE_URL"])
        monkeypatch.setenv("OPSTUI_TOKEN", settings["OPSTUI_TOKEN"])
        listed = cli("list", "--json")
        assert listed.code == 0
        assert len(listed.json()) == 5
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_sim_faults_spec_is_checked_before_serving(cli: Cli) -> None:
    """A bad ``--faults`` spec is one line and exit 2; nothing starts listening."""
    result = cli("sim", "--port", "0", "--faults", "5xx=2")
    assert result.code == 2
    assert "faults:" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_sim_with_faults_says_so_and_strikes(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """``opstui sim --faults 5xx=1`` prints its plan, and every read then fails with a 5xx."""
    process = subprocess.Popen(
        [OPSTUI, "sim", "--port", "0", "--pipelines", "3", "--token", "tok-1", "--faults", "5xx=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert process.stdout is not None
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert any(line.startswith("faults: 5xx=") for line in lines)
        export = next(line for line in lines if line.startswith("export "))
        for word in export.split()[1:]:
            name, value = word.split("=", 1)
            monkeypatch.setenv(name, value)
        listed = cli("list", "--json", "--timeout", "2")
        assert listed.code == 4
        assert "HTTP 5" in listed.err
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
