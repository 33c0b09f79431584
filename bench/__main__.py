"""Speed and memory of the app's core, measured: ``python -m bench`` (not a test).

Everything runs headless against the in-process simulator on loopback, with a manual clock:

- time to first frame: the app's screen on the terminal (empty table), then the first data shown;
- one refresh of 2,000 rows where many states moved: the whole poll, and the table update alone
  (against the obvious alternative: clear the table and add every row again);
- the client decoding a list of 1,000 and 10,000 pipelines (``validate_json`` and the models);
- peak Python memory (tracemalloc) of the app holding 2,000 pipelines, and of a 10,000 decode.
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from opstui.api import OpseraClient, Pipeline
from opstui.config import Secret, Settings
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.app import OpstuiApp
from opstui.tui.screens.pipelines import PipelinesScreen

TOKEN = "bench-token"
SIZE = (120, 36)

Row = tuple[str, str, str]
rows: list[Row] = []


def report(what: str, value: str, note: str = "") -> None:
    """Add a line to the table (and show progress)."""
    rows.append((what, value, note))
    print(f"  {what}: {value} {note}", flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


@contextmanager
def world_served(count: int, clock: ManualClock) -> Iterator[SimServer]:
    world = World(seed=7, pipelines=count, tasks=0, clock=clock)
    with SimServer(world, token=TOKEN) as sim:
        yield sim


def make_app(sim: SimServer, clock: ManualClock, scratch: Path) -> OpstuiApp:
    settings = Settings(
        base_url=sim.base_url,
        token=Secret(TOKEN),
        refresh=3600,
        profile="bench",
        bell=False,
        audit_log=scratch / "audit.log",
    )
    return OpstuiApp(settings, now=clock.now)


async def first_frame(count: int, scratch: Path) -> None:
    clock = ManualClock()
    with world_served(count, clock) as sim:
        app = make_app(sim, clock, scratch)
        started = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            painted = time.perf_counter()
            await app.workers.wait_for_complete()
            await pilot.pause()
            shown = time.perf_counter()
            screen = app.screen_stack[0]
            assert isinstance(screen, PipelinesScreen) and screen.table.row_count == count
        report(f"first frame, {count:,} pipelines", ms(painted - started), "(empty table)")
        report(f"first data shown, {count:,} pipelines", ms(shown - started), "(list + table)")


async def refresh_2000(scratch: Path) -> None:
    count = 2000
    clock = ManualClock()
    with world_served(count, clock) as sim:
        app = make_app(sim, clock, scratch)
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen_stack[0]
            assert isinstance(screen, PipelinesScreen)
            table = screen.table
            before = {key: pipeline.status for key, pipeline in app.store.pipelines.items()}

            clock.advance(20 * 60)
            stalls: list[float] = []
            ticking = asyncio.create_task(_tick(stalls))
            started = time.perf_counter()
            app.refresh_pipelines()
            await app.workers.wait_for_complete()
            await pilot.pause()
            poll = time.perf_counter() - started
            ticking.cancel()
            moved = sum(
                1 for key, p in app.store.pipelines.items() if before.get(key) is not p.status
            )
            report(
                "refresh of 2,000 rows, whole poll",
                ms(poll),
                f"({moved} states moved; list, decode, diff, repaint)",
            )
            report(
                "longest a key would wait during it",
                ms(max(stalls, default=0.0)),
                "(the event loop's longest stall)",
            )

            pipelines = screen.view_pipelines()
            now = app.now()
            clock.advance(20 * 60)
            await _refetch(app)
            fresh = screen.view_pipelines()
            table.show(pipelines, now=now)  # back to the old values, to time the change again
            timings = []
            for _ in range(3):
                table.show(pipelines, now=now)
                started = time.perf_counter()
                table.show(fresh, now=app.now())
                timings.append(time.perf_counter() - started)
                table.show(pipelines, now=now)
            report("refresh of 2,000 rows, table update", ms(min(timings)), "(update_cell by key)")

            started = time.perf_counter()
            table.show(fresh, now=app.now())
            table.show(fresh, now=app.now())
            report(
                "refresh of 2,000 rows, nothing changed",
                ms((time.perf_counter() - started) / 2),
                "(compare only)",
            )

            started = time.perf_counter()
            table.clear()
            for pipeline in fresh:
                table.add_row(*["x"] * len(table.columns), key=pipeline.id)
            table._update_dimensions(table._new_rows)  # what the next idle would do
            report("for comparison: clear + add 2,000 rows", ms(time.perf_counter() - started))


async def _tick(stalls: list[float]) -> None:
    """Record how late a 5 ms sleep wakes up: how long the event loop could not take a key."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        stalls.append(time.perf_counter() - started - 0.005)


async def _refetch(app: OpstuiApp) -> None:
    app.store.apply_list(await app.client.list_pipelines())


def decode(count: int) -> None:
    world = World(seed=11, pipelines=min(count, 1000), tasks=0, clock=ManualClock())
    docs = world.list_pipelines(page_size=1000).items
    many = []
    for index in range(count):
        doc = json.loads(json.dumps(docs[index % len(docs)]))
        doc["_id"] = f"{index:024x}"
        many.append(doc)
    body = json.dumps({"data": many, "count": count}).encode()
    client = OpseraClient("http://bench.invalid", TOKEN)
    response = httpx.Response(200, content=body)

    def once() -> list[Pipeline]:
        pipelines, _ = client._decode_list(response, Pipeline, "pipelines")
        for pipeline in pipelines:
            _ = pipeline.status  # derived once per document, as the table does
        return pipelines

    timings = timed(once, repeat=3 if count > 1000 else 7)
    report(
        f"decode {count:,} pipelines",
        ms(statistics.median(timings)),
        f"({len(body) / 2**20:.1f} MiB of JSON; {ms(statistics.median(timings) / count)} each)",
    )
    gc.collect()
    tracemalloc.start()
    kept = once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    report(f"peak memory, decode {count:,}", mib(peak), f"({len(kept):,} models kept)")
    asyncio.run(client.aclose())


def timed(work: Callable[[], Any], repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return timings


async def app_memory(scratch: Path) -> None:
    clock = ManualClock()
    with world_served(2000, clock) as sim:
        gc.collect()
        tracemalloc.start()
        app = make_app(sim, clock, scratch)
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    report("peak memory, app with 2,000 pipelines", mib(peak), f"({mib(current)} held)")


def main() -> None:
    print("opstui bench (headless, loopback simulator, 120x36)")
    with tempfile.TemporaryDirectory(prefix="opstui-bench-") as scratch:
        path = Path(scratch)
        asyncio.run(first_frame(40, path))
        asyncio.run(first_frame(2000, path))
        asyncio.run(refresh_2000(path))
        decode(1000)
        decode(10000)
        asyncio.run(app_memory(path))
    width = max(len(what) for what, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    print()
    print(f"{'measure'.ljust(width)}  {'value'.rjust(value_width)}  note")
    print(f"{'-' * width}  {'-' * value_width}  ----")
    for what, value, note in rows:
        print(f"{what.ljust(width)}  {value.rjust(value_width)}  {note}")


if __name__ == "__main__":
    main()
