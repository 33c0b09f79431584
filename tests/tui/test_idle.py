"""What the app does while nothing changes: no repaint for a poll that brought nothing new, a
status line painted again only when its words change, and nothing of the simulator loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen

from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.widgets.status_bar import StatusBar
from opstui.tui.widgets.vtable import VirtualTable
from tests.conftest import TOKEN
from tests.tui.conftest import MakeApp, screen_of, settle


@pytest.fixture
def paints(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the status line is rendered, table lines are painted and frames are composed."""
    counted: Counter[str] = Counter()

    def counting(cls: type, name: str, key: str) -> None:
        original = getattr(cls, name)

        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            counted[key] += 1
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, name, wrapper)

    counting(StatusBar, "render_line", "status bar")
    counting(VirtualTable, "render_line", "table line")
    counting(Screen, "_compositor_refresh", "frame")
    return counted


async def test_a_poll_that_brings_nothing_new_paints_nothing(
    make_app: MakeApp, paints: Counter[str]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.store.loaded and paints["table line"] > 0  # the first load was painted
        paints.clear()
        for _ in range(3):
            app.data.poll_now()  # what the live refresh does every interval
            await settle(pilot)
        assert app.store.state.updated_at is not None
        assert paints == Counter(), paints


async def test_the_status_line_is_painted_again_only_when_its_words_change(
    make_app: MakeApp, clock: ManualClock, paints: Counter[str]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bar = screen_of(app).query_one(StatusBar)
        paints.clear()
        assert [bar.refresh_if_changed() for _ in range(5)] == [False] * 5
        await pilot.pause()
        assert paints["status bar"] == 0

        for _ in range(9):  # fresh data: the words stay "updated just now" for ten seconds
            clock.advance(1)
            assert not bar.refresh_if_changed()
        clock.advance(1)  # "updated just now" -> "updated 10s ago"
        assert bar.refresh_if_changed()
        await pilot.pause()
        assert paints["status bar"] == 1
        assert bar.right_text.plain == "updated 10s ago"

        clock.advance(120)  # past two minutes, the words change once a minute
        assert bar.refresh_if_changed()
        await pilot.pause()
        paints.clear()
        for _ in range(30):
            clock.advance(1)
            bar.refresh_if_changed()
        await pilot.pause()
        assert bar.right_text.plain == "updated 2m ago"
        assert paints["status bar"] == 0


def test_the_app_on_a_server_loads_no_simulator_and_only_the_screen_it_shows(
    sim: SimServer, tmp_path: Path
) -> None:
    """Started as ``opstui`` starts it, up to the first rows, in a process of its own."""
    script = f"""
import asyncio, json, sys
from pathlib import Path
import opstui.cli
from opstui.config import Secret, Settings
from opstui.tui.app import OpstuiApp

settings = Settings(
    base_url={sim.base_url!r}, token=Secret({TOKEN!r}), audit_log=Path({str(tmp_path)!r}) / "a.log"
)
app = OpstuiApp(settings)

async def main() -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(2000):
            if app.store.loaded:
                break
            await pilot.pause(0.01)
        assert app.store.loaded

asyncio.run(main())
print(json.dumps(sorted(sys.modules)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert not {name for name in loaded if name.split(".")[0] in ("starlette", "uvicorn")}
    # The parser's --faults help is the only part of the simulator a start reads.
    assert {name for name in loaded if name.startswith("opstui.sim")} <= {
        "opstui.sim",
        "opstui.sim.faults",
    }
    for later in ("details", "tasks", "audit", "approvals"):
        assert f"opstui.tui.screens.{later}" not in loaded
    assert "opstui.tui.keyscopes" not in loaded  # no keymap: nothing to check it against
    assert "opstui.tui.screens.pipelines" in loaded
