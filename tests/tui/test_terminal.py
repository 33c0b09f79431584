"""A real terminal: ``opstui --demo`` in tmux at 80x24 with TERM=xterm, driven by keys.

What a pilot test cannot see: the real driver, the real terminal size, escape-key timing, and the
process ending when ``q`` is pressed.
"""

from __future__ import annotations

import os
import re
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


def quick_view(tmux: Tmux, title: str, state: str) -> str:
    """Wait for the quick view ``title`` with only rows in ``state`` on screen. Waited for
    whole: a capture may fall between two frames (the rows of the old view, its scrollbar,
    still on screen while the new one is drawn)."""
    return tmux.wait_for(
        f"only {state} rows",
        lambda s: (
            f"{title} ·" in s and bool(rows := table_rows(s)) and all(state in row for row in rows)
        ),
    )


def plain_xterm(home: Path, extra: dict[str, str]) -> dict[str, str]:
    """The environment of the app under test: TERM=xterm, an isolated user, ``extra`` on top."""
    return {
        **extra,
        "TERM": "xterm",
        "HOME": str(home),
        "OPSTUI_CONFIG": os.environ["OPSTUI_CONFIG"],
        "OPSTUI_AUDIT_LOG": os.environ["OPSTUI_AUDIT_LOG"],
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
    }


_SGR = re.compile(r"\x1b\[([0-9;]*)m")
_HUES = {*range(31, 37), *range(41, 47), *range(91, 97), *range(101, 107)}
"""The 16-colour codes of a hue (red to cyan); black, white and the greys are not."""


def hues(painted: str) -> list[str]:
    """Every colour of a hue in the escapes of ``painted`` (a capture with ``-e``): a 16-colour
    code of :data:`_HUES`, or a 256-colour or true colour that is not a grey."""
    found = []
    for match in _SGR.finditer(painted):
        codes = [int(code) for code in match.group(1).split(";") if code]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                n = codes[i + 2]
                if 1 <= n <= 6 or 9 <= n <= 14 or 16 <= n <= 231:
                    found.append(match.group(0))
                i += 3
            elif code in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                if len(set(codes[i + 2 : i + 5])) > 1:
                    found.append(match.group(0))
                i += 5
            else:
                if code in _HUES:
                    found.append(match.group(0))
                i += 1
    return found


@pytest.mark.parametrize("colour", [{}, {"NO_COLOR": "1"}], ids=["16-colours", "no-colour"])
def test_demo_in_a_real_terminal(tmux: Tmux, isolated_user: Path, colour: dict[str, str]) -> None:
    tmux.start(
        f"{shlex.quote(sys.executable)} -m opstui --demo", plain_xterm(isolated_user, colour)
    )

    screen = tmux.wait_for(
        "the pipelines",
        lambda s: (
            "State" in s and sum(any(w in line for w in STATES) for line in s.splitlines()) > 5
        ),
    )
    assert "demo ·" in screen.splitlines()[0]
    assert "awaiting approval ·" in screen.splitlines()[0]
    assert "Traceback" not in screen
    painted = tmux.run("capture-pane", "-p", "-e", "-t", tmux.session)
    # In 16 colours the states have hues; with NO_COLOR, greys at most.
    assert bool(hues(painted)) is not bool(colour)

    tmux.keys("2")
    quick_view(tmux, "Awaiting approval", "awaiting approval")

    tmux.keys("?")
    screen = tmux.wait_for("the help", lambda s: "Keys" in s and "Move the cursor" in s)

    tmux.keys("Escape")
    tmux.wait_for("the help to close", lambda s: "Move the cursor" not in s)
    tmux.keys("q")
    screen = tmux.wait_for("the process to end", lambda s: EXITED in s)
    assert f"{EXITED}0" in screen
    assert "Traceback" not in screen


def test_ten_thousand_pipelines_in_a_plain_xterm_without_colour(
    tmux: Tmux, isolated_user: Path
) -> None:
    # The demo's own simulator of 10,000 pipelines, at 80x24, TERM=xterm and NO_COLOR: what the
    # pilot tests at that size (test_at_scale.py) cannot see, the real driver and terminal.
    env = plain_xterm(isolated_user, {"NO_COLOR": "1"})
    tmux.start(f"{shlex.quote(sys.executable)} -m opstui --demo --pipelines 10000", env)
    screen = tmux.wait_for(
        "every pipeline listed",
        lambda s: "All pipelines · 10000" in s and "loading" not in s,
        timeout=60,
    )
    assert len(table_rows(screen)) >= 15, "the table fills the screen"
    assert "Traceback" not in screen
    painted = tmux.run("capture-pane", "-p", "-e", "-t", tmux.session)
    assert "\x1b[" in painted  # the capture holds the escapes (bold, greys)
    assert hues(painted) == [], "NO_COLOR: greys at most in what the terminal was sent"

    tmux.keys("3")  # the running ones only
    quick_view(tmux, "Running", "running")
    tmux.keys("*")
    screen = tmux.wait_for("the running ones marked", lambda s: "marked" in s)
    summary = next(line for line in screen.splitlines() if line.strip().startswith("Running ·"))
    found = re.search(r"Running · (\d+) of 10000 · (\d+) marked", summary)
    assert found is not None, summary
    assert int(found[1]) > 0 and found[1] == found[2], "every running pipeline shown is marked"
    tmux.keys("u", "1")
    tmux.wait_for(
        "all again, none marked", lambda s: "All pipelines · 10000" in s and "marked" not in s
    )
    tmux.keys("q")
    screen = tmux.wait_for("the process to end", lambda s: EXITED in s, timeout=30)
    assert f"{EXITED}0" in screen
    assert "Traceback" not in screen
