"""Every way a command ends: its exit code and the one stderr line that says why.

Codes 2 and 3 are covered in ``test_exit_codes.py``, unknown outcomes in ``test_outcomes.py``,
130 and 143 in ``test_interrupts.py``; here each remaining path, by behaviour.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

import opstui.cli.reads
from opstui.api import PipelineStatus
from opstui.config import crash_dir_path
from opstui.sim.server import SimServer
from tests.cli.conftest import (
    ACTIONS_PATH,
    Cli,
    actions_sent,
    audit_entries,
    one_error_line,
    pipelines_in,
)
from tests.conftest import TOKEN

IDLE = (PipelineStatus.SUCCESS, PipelineStatus.FAILED, PipelineStatus.STOPPED)
MISSING = "0" * 24


def _only_line(err: str) -> str:
    assert len(err.splitlines()) == 1, err
    return one_error_line(err)


# -- 0 -----------------------------------------------------------------------------------------


def test_success_says_nothing_on_stderr(connected: SimServer, cli: Cli) -> None:
    assert cli("list").err == ""
    result = cli("run", pipelines_in(connected, *IDLE)[0].id)
    assert result.code == 0
    assert result.err == ""


# -- 1 -----------------------------------------------------------------------------------------


def test_show_of_a_missing_pipeline(served: SimServer, cli: Cli) -> None:
    result = cli("show", MISSING)
    assert result.code == 1
    assert _only_line(result.err) == (
        f"opstui: error: not found: No pipeline found with id {MISSING} (HTTP 404)"
    )


def test_an_action_on_a_missing_pipeline_is_refused_by_the_check(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    result = cli("stop", MISSING)
    assert result.code == 1
    assert _only_line(result.err) == (
        f"opstui: error: not found: No pipeline found with id {MISSING} (HTTP 404); "
        "nothing was sent"
    )
    assert actions_sent(connected) == []
    assert "HTTP 404" in audit_entries(isolated_user)[0]["error"]


def test_a_clone_of_a_missing_pipeline_sends_nothing(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    result = cli("clone", MISSING, "--name", "copy")
    assert result.code == 1
    assert _only_line(result.err) == (
        f"opstui: error: not found: No pipeline found with id {MISSING} (HTTP 404); "
        "nothing was sent"
    )
    assert [r.path for r in connected.requests] == [ACTIONS_PATH]
    assert "HTTP 404" in audit_entries(isolated_user)[0]["error"]


@pytest.mark.parametrize(("status", "title"), [(409, "not allowed now"), (400, "invalid request")])
def test_an_action_the_server_refuses_with_a_4xx(
    connected: SimServer, cli: Cli, status: int, title: str
) -> None:
    pipeline = pipelines_in(connected, *IDLE)[0]
    connected.add_fault(
        "POST",
        ACTIONS_PATH,
        status=status,
        body=json.dumps({"status": "failed", "message": "a run is queued already"}),
    )
    result = cli("run", pipeline.id, "--force")
    assert result.code == 1
    assert _only_line(result.err) == (
        f"opstui: error: {title}: a run is queued already (HTTP {status})"
    )
    assert len(actions_sent(connected)) == 1


def test_every_target_refused_by_the_server(connected: SimServer, cli: Cli) -> None:
    running = [p.id for p in pipelines_in(connected, PipelineStatus.RUNNING)[:2]]
    result = cli("run", *running, "--force")
    assert result.code == 1
    assert result.out.count("failed    ") == 2
    line = _only_line(result.err)
    assert line.startswith(f"opstui: error: run failed for 2 of 2 pipelines: {running[0]}: ")
    assert line.endswith("(and 1 more)")


def test_a_delete_not_confirmed(sim: SimServer, isolated_user: Path) -> None:
    victim = pipelines_in(sim, PipelineStatus.SUCCESS)[0]
    controller, terminal = pty.openpty()
    env = {**os.environ, "OPSTUI_BASE_URL": sim.base_url, "OPSTUI_TOKEN": TOKEN}
    try:
        os.write(controller, b"n\n")
        done = subprocess.run(
            [sys.executable, "-m", "opstui", "delete", victim.id],
            stdin=terminal,
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 1
    # The answer's echo goes to the terminal, so the line follows the question here.
    assert done.stderr.endswith("[y/N] opstui: error: not confirmed: nothing was deleted\n")
    assert done.stderr.count("opstui: error: ") == 1
    assert actions_sent(sim) == []
    assert sim.world.get_pipeline(victim.id) is not None
    assert audit_entries(isolated_user)[0]["error"] == "not confirmed: nothing sent"


# -- 3 and 4 before anything was sent ------------------------------------------------------------


def test_a_status_check_refused_for_the_token_sends_nothing(
    served: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSTUI_TOKEN", "expired-token-123456")
    result = cli("approve", pipelines_in(served, PipelineStatus.AWAITING_APPROVAL)[0].id)
    assert result.code == 3
    line = _only_line(result.err)
    assert line.startswith("opstui: error: not authenticated: ")
    assert line.endswith("; check the environment variable OPSTUI_TOKEN; nothing was sent")
    assert actions_sent(served) == []


def test_rate_limited_reads_exit_4(served: SimServer, cli: Cli) -> None:
    served.add_fault("GET", "/api/v2/pipelines", status=429, headers={"Retry-After": "0"}, times=5)
    result = cli("list")
    assert result.code == 4
    assert _only_line(result.err).startswith("opstui: error: rate limited: HTTP 429")


# -- 70: a bug ---------------------------------------------------------------------------------


def test_a_bug_is_one_line_and_a_report_without_the_token(
    served: SimServer, cli: Cli, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug on purpose (nothing a server sends should reach one): no traceback on screen."""

    def broken(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError(f"table broke near {TOKEN}")

    monkeypatch.setattr(opstui.cli.reads, "render_table", broken)
    result = cli("list")
    assert result.code == 70
    line = _only_line(result.err)
    assert line.startswith("opstui: error: internal error (a bug in opstui): RuntimeError: ")
    assert "table broke near ***" in line
    report = Path(line.split("the details are in ", 1)[1].split(": please attach", 1)[0])
    assert report.parent == crash_dir_path()  # where the app's reports go too
    assert report.is_relative_to(isolated_user)
    text = report.read_text()
    assert "Traceback" in text
    assert "render_table" in text or "broken" in text
    assert TOKEN not in text
    assert report.stat().st_mode & 0o077 == 0
