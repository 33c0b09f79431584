"""A real terminal: ``opstui --demo`` in tmux at 80x24 with TERM=xterm, driven by keys.

What a pilot test cannot see: the real driver, the real terminal size, escape-key timing, and the
process ending when ``q`` is pressed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

STATES = ("awaiting approval", "running", "failed", "success", "stopped", "paused", "idle")
EXITED = "opstui exited with "


class Tmux:
    """One tmux server of its own (``-L``), so neither the user's tmux nor its environment leaks."""

    def __init__(self, socket: str) -> None:
        self.socket = socket
        self.session = "opstui"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
        shell = f'env {exports} {command}; echo "{EXITED}$?"; sleep 60'
        self.run("new-session", "-d", "-x", "80", "-y", "24", "-s", self.session, shell)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.run("send-keys", "-t", self.session, key)
            time.sleep(0.3)  # apart: an escape followed too soon by a key reads as alt+key

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.session)

    def wait_for(self, what: str, test: Callable[[str], bool], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; the screen shows:\n{screen}")

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    terminal = Tmux(f"opstui-test-{uuid.uuid4().hex[:12]}")
    try:
        yield terminal
    finally:
        terminal.kill()


def table_rows(screen: str) -> list[str]:
    """The table's rows: the lines between the header (``State``) and the summary line."""
    lines = screen.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("State"))
    rows = []
    for line in lines[start + 1 :]:
        if line.strip().startswith(("All pipelines", "Awaiting approval", "Running", "Failed")):
            break
        if line.strip():
            rows.append(line)
    return rows


@pytest.mark.parametrize("colour", [{}, {"NO_COLOR": "1"}], ids=["16-colours", "no-colour"])
def test_demo_in_a_real_terminal(tmux: Tmux, isolated_user: Path, colour: dict[str, str]) -> None:
    env = {
        **colour,
        "TERM": "xterm",
        "HOME": str(isolated_user),
        "OPSTUI_CONFIG": os.environ["OPSTUI_CONFIG"],
        "OPSTUI_AUDIT_LOG": os.environ["OPSTUI_AUDIT_LOG"],
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
    }
    tmux.start(f"{shlex.quote(sys.executable)} -m opstui --demo", env)

    screen = tmux.wait_for(
        "the pipelines",
        lambda s: (
            "State" in s and sum(any(w in line for w in STATES) for line in s.splitlines()) > 5
        ),
    )
    assert "demo ·" in screen.splitlines()[0]
    assert "awaiting approval ·" in screen.splitlines()[0]
    assert "Traceback" not in screen

    tmux.keys("2")
    # Waited for whole: a capture may fall between two frames (the rows of the old view, its
    # scrollbar, still on screen while the new one is drawn).
    tmux.wait_for(
        "only awaiting-approval rows",
        lambda s: (
            "Awaiting approval ·" in s
            and bool(rows := table_rows(s))
            and all("awaiting approval" in row for row in rows)
        ),
    )

    tmux.keys("?")
    screen = tmux.wait_for("the help", lambda s: "Keys" in s and "Move the cursor" in s)

    tmux.keys("Escape")
    tmux.wait_for("the help to close", lambda s: "Move the cursor" not in s)
    tmux.keys("q")
    screen = tmux.wait_for("the process to end", lambda s: EXITED in s)
    assert f"{EXITED}0" in screen
    assert "Traceback" not in screen
