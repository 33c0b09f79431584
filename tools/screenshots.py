"""Write the README's screenshots from the real app: ``python -m tools.screenshots DIR``.

The app runs headless at 120x36 against a seeded in-process simulator on a manual clock, so the
pictures are the same on every run: ``main.svg`` (the pipelines), ``details.svg`` (one pipeline)
and ``reject.svg`` (the reject dialog, a reason typed, over the pipelines).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from opstui.api import PipelineStatus
from opstui.config import Secret, Settings
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.app import OpstuiApp

__all__ = ["SIZE", "main", "write_screenshots"]

SIZE = (120, 36)
SEED = 7
TOKEN = "screenshots-token"
REASON = "Change freeze until Monday"


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def _steady(app: OpstuiApp) -> None:
    """No blinking cursor: a screenshot must not depend on the instant it was taken."""
    for field in app.screen.query(Input):
        field.cursor_blink = False


async def _shoot(app: OpstuiApp, pilot: Pilot[Any], directory: Path, name: str) -> Path:
    _steady(app)
    await pilot.pause()
    path = directory / name
    app.save_screenshot(filename=name, path=str(directory))
    return path


async def write_screenshots(directory: Path) -> list[Path]:
    """Run the app and write the screenshots into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    clock = ManualClock()
    world = World(seed=SEED, pipelines=40, tasks=12, clock=clock)
    written: list[Path] = []
    with (
        SimServer(world, token=TOKEN) as sim,
        tempfile.TemporaryDirectory(prefix="opstui-screenshots-") as scratch,
    ):
        settings = Settings(
            base_url=sim.base_url,
            token=Secret(TOKEN),
            refresh=3600,
            profile="demo",
            bell=False,
            audit_log=Path(scratch) / "audit.log",
        )
        app = OpstuiApp(settings, now=clock.now)
        async with app.run_test(size=SIZE) as pilot:
            await _settle(pilot)
            written.append(await _shoot(app, pilot, directory, "main.svg"))

            gate = next(
                p
                for p in app.store.pipelines.values()
                if p.status is PipelineStatus.AWAITING_APPROVAL
            )
            screen = app.screen_stack[0]
            table = screen.query_one("#pipelines")
            table.move_cursor(key=gate.id)
            await pilot.press("enter")
            await _settle(pilot)
            written.append(await _shoot(app, pilot, directory, "details.svg"))
            await pilot.press("escape")
            await pilot.pause()

            await pilot.press("x")
            await pilot.pause()
            app.screen.query_one(Input).value = REASON
            written.append(await _shoot(app, pilot, directory, "reject.svg"))
            await pilot.press("escape")
            await _settle(pilot)
    return written


def main(argv: list[str] | None = None) -> int:
    """Entry point: one argument, the directory to write into."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.screenshots DIR", file=sys.stderr)
        return 2
    for path in asyncio.run(write_screenshots(Path(args[0]))):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
