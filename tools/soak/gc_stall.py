"""What a full cyclic collection costs the app at scale: ``python -m tools.soak.gc_stall``.

The app runs headless in this process against ``opstui sim`` (its own process, 10,000
pipelines by default). After the first load (which the data service freezes out of the
collector's sight) it refreshes and polls a few times, so that the objects a running app makes
are there, then times ``gc.collect()`` (``perf_counter`` and process CPU time) as the idle
collection of :mod:`opstui.tui.memory` does it, and once more with nothing frozen, for
comparison. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.scale import SIZE, TOKEN, sim_process
from opstui.config import Secret, Settings
from opstui.tui.app import OpstuiApp


def _timed_collect() -> dict[str, Any]:
    tracked = len(gc.get_objects())
    wall, cpu = time.perf_counter(), time.process_time()
    found = gc.collect()
    return {
        "tracked": tracked,
        "frozen": gc.get_freeze_count(),
        "found": found,
        "wall_ms": round((time.perf_counter() - wall) * 1000, 1),
        "cpu_ms": round((time.process_time() - cpu) * 1000, 1),
    }


@contextmanager
def _simulator(pipelines: int, url: str | None) -> Iterator[str]:
    if url:
        yield url
    else:
        with sim_process(pipelines) as started:
            yield started


async def measure(
    pipelines: int, refreshes: int, scratch: Path, url: str | None = None
) -> dict[str, Any]:
    """The collection's cost after ``refreshes`` full refreshes and as many polls (against
    ``url`` when given: a simulator already running with the bench's token)."""
    (scratch / "config.toml").touch()
    os.environ.setdefault("OPSTUI_CONFIG", str(scratch / "config.toml"))
    figures: dict[str, Any] = {"pipelines": pipelines}
    with _simulator(pipelines, url) as base_url:
        settings = Settings(
            base_url=base_url,
            token=Secret(TOKEN),
            refresh=3600,
            profile="gc-stall",
            bell=False,
            audit_log=scratch / "audit.log",
        )
        app = OpstuiApp(settings)
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            for _ in range(refreshes):
                app.refresh_pipelines()
                await app.workers.wait_for_complete()
                app.data.poll_now()
                await app.workers.wait_for_complete()
                await pilot.press("o")
                await pilot.pause()
            figures["idle_collect"] = [_timed_collect() for _ in range(3)]
            app.refresh_pipelines()
            await app.workers.wait_for_complete()
            await pilot.pause()
            figures["after_a_refresh"] = _timed_collect()
            frozen = gc.get_freeze_count()
            gc.unfreeze()
            figures["nothing_frozen"] = _timed_collect()
            if frozen:
                gc.freeze()
    figures["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=10_000)
    parser.add_argument("--refreshes", type=int, default=3)
    parser.add_argument("--base-url", help="a running `opstui sim --token bench-scale-token`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        figures = asyncio.run(measure(args.pipelines, args.refreshes, Path(scratch), args.base_url))
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
