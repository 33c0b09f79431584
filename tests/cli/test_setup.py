"""``opstui`` with no server configured: a person at a terminal gets the setup screen (config
init, the config path, the profiles to start on, or the demo); a script gets one line and exit 2."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path
from typing import Any

import pytest

from opstui.cli import app as cli_module
from opstui.config import Settings
from opstui.sim.server import SimServer
from opstui.tui.screens.setup import SetupChoice
from tests.cli.conftest import Cli, one_error_line
from tests.cli.test_entry_point import OPSTUI, _read_until, _read_until_exit
from tests.conftest import TOKEN


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Stands in for opening the Textual app: the settings it would have been opened on."""
    calls: list[Settings] = []

    def fake_open(settings: Settings, start: Any, profiles: Any = None) -> int:
        calls.append(settings)
        return 0

    monkeypatch.setattr(cli_module, "open_app", fake_open)
    return calls


def test_a_script_gets_the_one_line_hint(cli: Cli, opened: list[Settings]) -> None:
    result = cli()  # stdin and stdout are no terminal here
    assert result.code == 2
    line = one_error_line(result.err)
    assert "opstui config init" in line and "opstui --demo" in line
    assert opened == []


@pytest.mark.parametrize("choice", [SetupChoice("quit"), None])
def test_quitting_the_setup_screen_is_the_hint_and_exit_2(
    cli: Cli, opened: list[Settings], monkeypatch: pytest.MonkeyPatch, choice: SetupChoice | None
) -> None:
    monkeypatch.setattr(cli_module, "_setup", lambda: choice)
    result = cli()
    assert result.code == 2
    assert "opstui config init" in one_error_line(result.err)
    assert opened == []


def test_the_demo_chosen_on_the_setup_screen_starts(
    cli: Cli, opened: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli_module, "_setup", lambda: SetupChoice("demo"))
    assert cli().code == 0
    [settings] = opened
    assert settings.profile == "demo"
    assert settings.base_url is not None and settings.base_url.startswith("http://127.0.0.1:")


def test_a_profile_chosen_on_the_setup_screen_opens(
    cli: Cli,
    sim: SimServer,
    opened: list[Settings],
    isolated_user: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (isolated_user / "config.toml").write_text(
        f'[profiles.one]\nbase_url = "http://127.0.0.1:9"\n'
        f'[profiles.two]\nbase_url = "{sim.base_url}"\ntoken_env = "TWO_TOKEN"\n'
    )
    monkeypatch.setenv("TWO_TOKEN", TOKEN)
    monkeypatch.setattr(cli_module, "_setup", lambda: SetupChoice("profile", "two"))
    assert cli().code == 0
    [settings] = opened
    assert (settings.profile, settings.base_url) == ("two", sim.base_url)


def _in_a_terminal(keys: list[tuple[bytes, bytes]], env: dict[str, str]) -> tuple[int, bytes]:
    """Run ``opstui`` in a pseudo-terminal: for each (marker, key), wait for marker, press key."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [OPSTUI],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    seen = b""
    try:
        for marker, key in keys:
            screen = _read_until(controller, marker, 20)
            seen += screen
            assert marker in screen, screen[-2000:]
            os.write(controller, key)
        seen += _read_until_exit(controller, process, 15)
        return process.wait(timeout=1), seen
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)


def _terminal_env() -> dict[str, str]:
    return {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}


def test_at_a_terminal_the_setup_screen_starts_the_demo() -> None:
    code, seen = _in_a_terminal(
        [(b"No Opsera server is configured", b"d"), (b"ago", b"q")], _terminal_env()
    )
    assert code == 0
    assert b"opstui config init" in seen
    assert b"Traceback" not in seen


def test_at_a_terminal_quitting_the_setup_screen_gives_the_hint() -> None:
    code, seen = _in_a_terminal([(b"No Opsera server is configured", b"q")], _terminal_env())
    assert code == 2
    assert b"opstui: error: no server configured" in seen
