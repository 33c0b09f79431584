"""What ten thousand pipelines cost the app, key by key and refresh by refresh (issue 8).

The app runs headless in this process; the simulator runs in a process of its own (``opstui
sim``, a living world at 60x speed), so that the event loop measured is the app's alone:

- the longest event-loop stall during a live refresh (how long a key could have waited);
- marking all shown (``*``), unmarking (``u``), one filter keystroke, one sort (``o``): from
  the key reaching the app to the last frame it caused (``key_to_frame``; not ``Pilot.press``,
  whose two idle waits of 20 ms steps put a floor of about 60 ms under every key);
- a batch action on every marked pipeline: how many requests it took, the longest stall;
- bytes a minute of live refresh (every 5 s), against re-listing everything each time: counted
  exactly, against a simulator in this process on a manual clock (deterministic under load).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from textual import events

from opstui.config import Secret, Settings
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.app import OpstuiApp
from opstui.tui.data.changes import FULL_LIST_SECONDS as LIST_SECONDS

TOKEN = "bench-scale-token"
SIZE = (120, 36)


@dataclass
class Figures:
    """What one run measured (seconds, bytes, counts)."""

    pipelines: int
    refresh_stall: float = 0.0
    keys: dict[str, float] = field(default_factory=dict)
    batch_requests: int = 0
    """Action requests the batch sent, counted as they leave (an unanswered one counts)."""
    batch_answered: int = 0
    """Of those, how many had an answer (one that timed out is outcome unknown)."""
    batch_rechecks: int = 0
    batch_stall: float = 0.0
    bytes_a_minute: int = 0
    relist_bytes_a_minute: int = 0
    poll_stall: float = 0.0
    """The longest stall during the minute of live polls (not a full list)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sim_process(pipelines: int) -> Iterator[str]:
    """``opstui sim`` in its own process; yields its base URL once it answers."""
    port = _free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "opstui", "sim", "--port", str(port), "--token", TOKEN),
            *("--pipelines", str(pipelines), "--seed", "7", "--speed", "60"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(url + "/api/v2/pipelines?pageSize=1", timeout=5, headers=_auth())
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the simulator did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


class Stalls:
    """Records how late a 5 ms sleep wakes up: how long the event loop could not take a key."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - began - 0.005)

    def __enter__(self) -> Stalls:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()


KEY_CHARACTERS = {"asterisk": "*", "down": None}
"""The character of each key name measured that is not its own character."""

QUIET = 0.05
"""A frame is the last one a key caused once this long has gone by without another and nothing
waits in the app's or the screen's queue. The frames of one key's work come at most 1/60 s to
two of them apart (the screen's update timer); the status line's clock, the only other source
of frames here, ticks once a second, so a key is measured three times and the median kept."""


async def key_to_frame(app: OpstuiApp, key: str, most: float = 3.0) -> float:
    """Seconds from ``key`` reaching the app (as a terminal's key would, through the driver) to
    the last frame it caused: the moment the app handed the screen's update to its display."""
    frames: list[float] = []
    display = app._display

    def recorded(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = recorded  # type: ignore[method-assign]
    try:
        event = events.Key(key, KEY_CHARACTERS.get(key, key))
        event.set_sender(app)
        assert app._driver is not None
        began = time.perf_counter()
        app._driver.send_message(event)
        while time.perf_counter() - began < most:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            queued = not (app._message_queue.empty() and app.screen._message_queue.empty())
            if frames and now - frames[-1] >= QUIET and not queued:
                break
        return (frames[-1] if frames else time.perf_counter()) - began
    finally:
        del app._display


async def measure(pipelines: int, scratch: Path) -> Figures:
    """Every figure of this module at ``pipelines``."""
    figures = Figures(pipelines)
    (scratch / "config.toml").touch()
    os.environ.setdefault("OPSTUI_CONFIG", str(scratch / "config.toml"))
    with sim_process(pipelines) as url:
        settings = Settings(
            base_url=url,
            token=Secret(TOKEN),
            refresh=3600,
            profile="bench",
            bell=False,
            audit_log=scratch / "audit.log",
        )
        app = OpstuiApp(settings)
        posts: list[str] = []
        answered: list[str] = []

        def action_of(request: httpx.Request) -> str:
            try:
                return str(json.loads(request.content).get("action"))
            except (ValueError, AttributeError):
                return request.url.path

        async def on_request(request: httpx.Request) -> None:
            if request.method == "POST":
                posts.append(action_of(request))

        async def on_response(response: httpx.Response) -> None:
            if response.request.method == "POST":
                answered.append(action_of(response.request))

        async with app.run_test(size=SIZE) as pilot:
            app.client._http.event_hooks["request"].append(on_request)
            app.client._http.event_hooks["response"].append(on_response)
            await app.workers.wait_for_complete()
            await pilot.pause()

            with Stalls() as stalls:
                app.refresh_pipelines()
                await app.workers.wait_for_complete()
                await pilot.pause()
            figures.refresh_stall = stalls.worst

            tries: dict[str, list[float]] = {}
            for _ in range(3):
                for name, key in (
                    ("mark all shown (*)", "asterisk"),
                    ("Down with all marked", "down"),
                    ("unmark all (u)", "u"),
                    ("a sort (o)", "o"),
                    ("a quick view (2)", "2"),
                    ("back to all (1)", "1"),
                ):
                    tries.setdefault(name, []).append(await key_to_frame(app, key))
                    await pilot.pause()
            await pilot.press("slash")
            await pilot.pause()
            for key in "dep":  # each keystroke narrows the filter further
                tries.setdefault("one filter keystroke", []).append(await key_to_frame(app, key))
                await pilot.pause()
            figures.keys = {name: statistics.median(times) for name, times in tries.items()}
            await pilot.press("escape", "escape")
            await pilot.pause()

            # The minute of live polls again, by the wall clock this time: their longest stall.
            app.data.full_every = 10_000
            with Stalls() as stalls:
                for _ in range(12):
                    began = time.perf_counter()
                    app.data.poll_now()
                    await app.workers.wait_for_complete()
                    await asyncio.sleep(max(0.0, 5 / 60 - (time.perf_counter() - began)))
            figures.poll_stall = stalls.worst

            await pilot.press("asterisk")
            posts.clear()
            answered.clear()
            with Stalls() as stalls:
                table_screen = app.screen
                await pilot.press("r")
                for _ in range(600):  # the question for every marked pipeline, then the answer
                    if app.screen is not table_screen:
                        break
                    await pilot.pause(0.05)
                await pilot.press("y")
                await app.workers.wait_for_complete()
                await pilot.pause()
            figures.batch_stall = stalls.worst
            # The action itself; the status re-check before it is a read (counted apart).
            figures.batch_requests = sum(1 for action in posts if action != "status")
            figures.batch_answered = sum(1 for action in answered if action != "status")
            figures.batch_rechecks = sum(1 for action in posts if action == "status")
    figures.bytes_a_minute, figures.relist_bytes_a_minute = await bytes_a_minute(pipelines, scratch)
    return figures


async def bytes_a_minute(pipelines: int, scratch: Path) -> tuple[int, int]:
    """What a minute of live refresh (a poll every 5 s) sends, and what re-listing everything
    every 5 s would: response bodies, in bytes, counted exactly.

    The simulator runs in this process on a manual clock that moves 5 s before each poll, so
    what changed between two polls (and so the bytes) is the same whatever else the machine is
    doing. Each poll is what the timer starts (what changed since the last; on a server that
    does not sort by last update, the hot set by status); the full list, due once in
    ``full_every`` polls, is counted by its share of the minute: one re-listing's bytes times
    12 / full_every.
    """
    clock = ManualClock()
    world = World(seed=7, pipelines=pipelines, tasks=0, clock=clock)
    with SimServer(world, token=TOKEN) as sim:
        settings = Settings(
            base_url=sim.base_url,
            token=Secret(TOKEN),
            refresh=3600,
            profile="bench",
            bell=False,
            audit_log=scratch / "audit.log",
        )
        app = OpstuiApp(settings, now=clock.now)
        received: list[int] = []

        async def on_response(response: httpx.Response) -> None:
            await response.aread()
            received.append(len(response.content))

        async with app.run_test(size=SIZE) as pilot:
            app.client._http.event_hooks["response"].append(on_response)
            await app.workers.wait_for_complete()
            await pilot.pause()
            full_every = math.ceil((LIST_SECONDS if app.data.changes else 60.0) / 5)
            app.data.full_every = full_every + 12  # no full list inside the measured minute
            received.clear()
            for _ in range(12):
                clock.advance(5)
                app.data.poll_now()
                await app.workers.wait_for_complete()
                await pilot.pause()
            polls = sum(received)
            received.clear()
            async with httpx.AsyncClient(base_url=sim.base_url, headers=_auth()) as plain:
                for page in range(1, pipelines // 1000 + 2):
                    answer = await plain.get(
                        "/api/v2/pipelines", params={"pageSize": 1000, "currentPage": page}
                    )
                    received.append(len(answer.content))
            relist = sum(received)
    return polls + round(relist * 12 / full_every), 12 * relist
