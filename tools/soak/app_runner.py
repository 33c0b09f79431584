"""The soak's app process: the real OpstuiApp, headless, driven by a scripted loop of keys.

``python -m tools.soak.app_runner --base-url URL --seconds N --audit-log PATH --samples PATH
--summary PATH --ready PATH`` (the token in ``OPSTUI_TOKEN``); ``--ready`` is written once the
app is up, and its N seconds start then. It presses keys the way an operator would
(approve, reject, run and stop behind their dialogs, cursor moves, filters, details, the inbox),
samples its own resident memory to ``--samples`` (JSON lines), and when the time is up lets the
actions on their way finish, quits, and writes what it did to ``--summary``.

An exception inside the app is not caught here: ``run_test`` re-raises it, the traceback goes to
stderr and the process exits 1, which the driver reports as a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import Input

from opstui.config import Secret, Settings
from opstui.tui import app as app_module
from opstui.tui.actions import Performed
from opstui.tui.app import OpstuiApp
from opstui.tui.dialogs import ConfirmDialog, HelpScreen, RejectDialog
from opstui.tui.screens.approvals import ApprovalsScreen
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.pipelines import PipelinesScreen
from tools.soak.diagnose import Diagnosis

SIZE = (120, 36)
KEY_GAP = 0.05
"""Seconds between two keys of one move (a fast typist)."""
CHARACTERS = {"slash": "/", "question_mark": "?", "space": " ", "asterisk": "*"}
PAGE = os.sysconf("SC_PAGE_SIZE")

# What the operator does on the pipelines screen: a view, a few moves, a key (weights).
PIPELINE_MOVES: list[tuple[int, list[str]]] = [
    (6, ["2", "j", "a"]),  # approve a gate
    (3, ["2", "k", "x"]),  # reject a gate (the dialog asks why)
    (5, ["3", "j", "s"]),  # stop a run
    (5, ["1", "j", "j", "r"]),  # run an idle pipeline
    (2, ["4", "r"]),  # run a failed one again
    (2, ["1", "space", "j", "space", "j", "r"]),  # a batch of marked pipelines
    (1, ["u"]),
    (2, ["slash", "a", "enter"]),  # filter, then keep it
    (2, ["escape"]),  # clear the filter / back to all
    (3, ["enter"]),  # details
    (3, ["A"]),  # the inbox
    (1, ["o"]),
    (1, ["ctrl+r"]),
    (1, ["question_mark"]),
    (2, ["G", "k"]),
    (2, ["g", "j", "j"]),
]


class Stalls:
    """How late a 50 ms sleep on the app's event loop wakes: how long a key would wait."""

    TICK = 0.05

    def __init__(self) -> None:
        self.longest = 0.0
        self.over_half_second = 0

    async def watch(self) -> None:
        """Tick until cancelled."""
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.TICK)
            late = loop.time() - started - self.TICK
            self.longest = max(self.longest, late)
            self.over_half_second += late > 0.5


class SoakApp(OpstuiApp):
    """The real app, counting the toasts it raises (nothing else differs)."""

    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))
    toasts = 0

    def notify(self, message: str, *args: Any, **kwargs: Any) -> None:
        self.toasts += 1
        super().notify(message, *args, **kwargs)


def rss() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def _append(path: Path, sample: dict[str, Any]) -> None:
    """One memory sample, written at once (so a crash keeps the samples before it)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(sample) + "\n")


class Operator:
    """Presses keys by what is on screen; counts what happened."""

    def __init__(self, app: SoakApp, pilot: Pilot[None], seed: int) -> None:
        self.app = app
        self.pilot = pilot
        self.random = random.Random(seed)
        self.keys = 0
        self.dialogs: Counter[str] = Counter()
        self.performed: Counter[str] = Counter()
        self.sent = 0
        self.sent_errors = 0

    def on_done(self, done: Performed) -> None:
        """Count each finished action; one that was sent must have written one audit line."""
        self.performed[done.action] += 1
        if done.sent:
            self.sent += 1
            if done.error is not None:
                self.sent_errors += 1

    async def press(self, *keys: str) -> None:
        """Type ``keys`` as a person would: each one sent, a moment between them.

        Not ``Pilot.press``, which waits until the app is idle after each key: an operator
        does not wait, and a soak must see what typing ahead does.
        """
        driver = self.app._driver
        for key in keys:
            if not self.alive or driver is None:
                return
            self.keys += 1
            event = events.Key(key, key if len(key) == 1 else CHARACTERS.get(key))
            event.set_sender(self.app)
            driver.send_message(event)
            await asyncio.sleep(KEY_GAP)

    @property
    def alive(self) -> bool:
        return self.app.is_running and self.app._exception is None

    async def step(self) -> None:
        """One thing an operator would do next, given what is on screen."""
        screen = self.app.screen
        if isinstance(self.app.focused, Input) and not isinstance(screen, RejectDialog):
            await self.press("enter")
        elif isinstance(screen, RejectDialog):
            self.dialogs["reject"] += 1
            await self.press(*"soak", "enter")
        elif isinstance(screen, ConfirmDialog):
            self.dialogs["confirm"] += 1
            await self.press("y" if self.random.random() < 0.9 else "n")
        elif isinstance(screen, HelpScreen):
            await self.press("escape")
        elif isinstance(screen, DetailsScreen):
            await self.press(self.random.choice(["escape", "escape", "r", "a", "s", "ctrl+r"]))
        elif isinstance(screen, ApprovalsScreen):
            await self.press(self.random.choice(["j", "a", "a", "x", "space", "escape", "A"]))
        elif isinstance(screen, PipelinesScreen):
            weights = [weight for weight, _ in PIPELINE_MOVES]
            moves = self.random.choices([keys for _, keys in PIPELINE_MOVES], weights)[0]
            await self.press(*moves)
        else:
            await self.press("escape")

    async def drain(self, seconds: float) -> None:
        """Close what is open and wait (bounded) for the actions on their way."""
        deadline = time.monotonic() + seconds
        while self.alive and time.monotonic() < deadline:
            sending = [w for w in self.app.workers if w.group == "actions" and w.is_running]
            screen = self.app.screen
            if isinstance(screen, RejectDialog | ConfirmDialog | HelpScreen):
                await self.press("escape")
            elif not sending:
                return
            await asyncio.sleep(0.1)


async def soak(args: argparse.Namespace) -> None:
    """Run the app for ``args.seconds`` under the operator's keys; the summary is written even
    when the app crashes (then the exception goes on, to stderr and exit 1)."""
    token = os.environ.get("OPSTUI_TOKEN", "")
    settings = Settings(
        base_url=args.base_url,
        token=Secret(token),
        timeout=args.timeout,
        refresh=args.refresh,
        bell=True,
        audit_log=Path(args.audit_log),
    )
    del token
    diagnosis = Diagnosis.from_environment()
    app = SoakApp(settings)
    stalls = Stalls()
    operator: Operator | None = None
    started = time.monotonic()
    try:
        async with app.run_test(headless=True, size=SIZE, notifications=True) as pilot:
            Path(args.ready).write_text("ready")
            started = time.monotonic()
            deadline = started + args.seconds
            next_sample = started
            operator = Operator(app, pilot, args.seed)
            ticking = asyncio.create_task(stalls.watch())
            app.action_done.subscribe(app, operator.on_done, immediate=True)
            while operator.alive and time.monotonic() < deadline:
                now = time.monotonic()
                if now >= next_sample:
                    next_sample = now + args.sample_every
                    sample = _sample(app, operator, now - started)
                    if diagnosis is not None:
                        sample.update(diagnosis.sample(app, now - started))
                        if diagnosis.at is None and now - started >= diagnosis.warm_up:
                            diagnosis.mark(now - started)
                    _append(Path(args.samples), sample)
                await operator.step()
                await asyncio.sleep(operator.random.uniform(0.05, 0.25))
            await operator.drain(args.timeout * 2 + 5)
            # Let the keys typed ahead be handled before the harness takes the screens down:
            # Textual's test harness would otherwise hand a late key to an app with no screen.
            for _ in range(5):
                await pilot.pause(0.05)
            ticking.cancel()
            if diagnosis is not None:
                diagnosis.finish(app, time.monotonic() - started)
    finally:
        summary = {
            "seconds": round(time.monotonic() - started, 2),
            "crashed": app._exception is not None,
            "keys": operator.keys if operator else 0,
            "dialogs": dict(operator.dialogs) if operator else {},
            "performed": dict(operator.performed) if operator else {},
            "sent": operator.sent if operator else 0,
            "sent_errors": operator.sent_errors if operator else 0,
            "toasts": app.toasts,
            "rss_end": rss(),
            "longest_stall_s": round(stalls.longest, 3),
            "stalls_over_half_s": stalls.over_half_second,
        }
        Path(args.summary).write_text(json.dumps(summary), encoding="utf-8")


def _sample(app: SoakApp, operator: Operator, elapsed: float) -> dict[str, Any]:
    return {
        "t": round(elapsed, 2),
        "rss": rss(),
        "objects": len(gc.get_objects()),
        "toasts": app.toasts,
        "sent": operator.sent,
        "screens": len(app.screen_stack),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--audit-log", required=True)
    parser.add_argument("--samples", required=True)
    parser.add_argument("--summary", required=True)
    parser.add_argument("--ready", required=True, help="written once the app is up")
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--refresh", type=float, default=1.0)
    parser.add_argument("--sample-every", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(soak(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
