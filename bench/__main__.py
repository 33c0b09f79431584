"""Speed and memory of the app's core, measured: ``python -m bench`` (not a test).

Everything runs headless against the in-process simulator on loopback, with a manual clock:

- time to first frame: the app's screen on the terminal (empty table), then the first data shown;
- one refresh of 2,000 rows where many states moved: the whole poll, and the table update alone
  (against the obvious alternative: clear the table and add every row again);
- the client decoding a list of 1,000 and 10,000 pipelines (``validate_json`` and the models);
- peak Python memory (tracemalloc) of the app holding 2,000 pipelines, and of a 10,000 decode;
- through a real terminal (tmux, 80x24; ``bench/terminal.py``), opstui beside its floor (a bare
  DataTable + Footer, ``bench/floor.py``): start to data on screen, Down key to frame during live
  refresh, peak memory and CPU, and the command line's cold start.

``python -m bench`` runs it all at 40 and 10,000 pipelines (``--large`` adds 50,000);
``--quick`` is the small version CI runs to prove the bench still works; ``--json FILE`` writes
the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.summary import goal_table, render
from opstui.api import OpseraClient, Pipeline
from opstui.api.decoding import decode_page
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
figures: list[dict[str, Any]] = []


def report(what: str, value: str, note: str = "", *, key: str = "", **data: Any) -> None:
    """Add a line to the table (and show progress); ``data`` goes to the JSON as numbers.

    ``key`` names the figure for issue 8's goal table (``bench/summary.py``)."""
    rows.append((what, value, note))
    figures.append({"what": what, "value": value, "note": note, "key": key, **data})
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

            # The screen's own share of a refresh: the view re-places what changed, the table
            # repaints the lines on screen (it holds no copy of the rows).
            before = dict(app.store.pipelines)
            clock.advance(20 * 60)
            await _refetch(app)
            fresh = dict(app.store.pipelines)
            view = screen.view

            def show(pipelines: dict[str, Pipeline]) -> None:
                table.apply(changed=view.sync(pipelines), order=view.order)
                table.render_lines(table.region.reset_offset)

            timings = []
            for _ in range(3):
                show(before)  # back to the old documents, to time the change again
                started = time.perf_counter()
                show(fresh)
                timings.append(time.perf_counter() - started)
            changed = sum(1 for key in fresh if fresh[key] is not before.get(key))
            report(
                "refresh of 2,000 rows, view + table",
                ms(min(timings)),
                f"({changed} documents replaced; the lines on screen repainted)",
            )
            started = time.perf_counter()
            show(fresh)
            report("refresh of 2,000 rows, nothing changed", ms(time.perf_counter() - started))


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
        pipelines = decode_page(response.content, Pipeline, "pipelines", client.host).items
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


def simulator_list(count: int) -> None:
    """The simulator's own cost of answering one page (what every test and the demo pay)."""
    world = World(seed=3, pipelines=count, clock=ManualClock(), autorun=False)
    timings = timed(
        lambda: json.dumps(world.list_pipelines(page_size=1000, sort="lastupdated").items),
        repeat=5,
    )
    report(f"simulator answers a page of {count:,}", ms(min(timings)), "(best of 5; in the world)")


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


def terminal(sizes: list[int], scratch: Path, *, quick: bool) -> None:
    """The figures of issue 8, through tmux, for opstui and for the floor, side by side."""
    from bench import terminal as term

    if not term.have_tmux():
        report("terminal figures", "skipped", "(tmux is not installed)")
        return
    term.compile_sources()
    opstui, floor = term.subjects()
    tries = 1 if quick else 3
    for count in sizes:
        ours, ours_all, ours_cpu = term.start_to_data(opstui, count, scratch, tries)
        base, _, base_cpu = term.start_to_data(floor, count, scratch, tries)
        report(
            f"start to data on screen, {count:,}",
            f"{ours:.2f} s",
            f"(all rows {ours_all:.2f} s; floor {base:.2f} s, {ours / base:.2f}x; "
            f"CPU {ours_cpu:.2f} s, floor {base_cpu:.2f} s, {ours_cpu / base_cpu:.2f}x)",
            key=f"start:{count}",
            opstui_s=ours,
            opstui_all_s=ours_all,
            floor_s=base,
            opstui_cpu_s=ours_cpu,
            floor_cpu_s=base_cpu,
        )
    # Keys at the goal's size (10,000; the quick run's largest), memory at every large size.
    big = sizes[1] if len(sizes) > 1 else sizes[-1]
    presses = 5 if quick else 40
    for subject in (opstui, floor):
        p50, p99, worst, lost = term.key_latency(subject, big, scratch, presses)
        report(
            f"Down key to frame, live refresh, {big:,}, {subject.name}",
            f"p50 {p50 * 1000:.0f} ms",
            f"(p99 {p99 * 1000:.0f} ms, max {worst * 1000:.0f} ms, {lost} of {presses} lost)",
            key=f"key:{subject.name}:{big}",
            p50_s=p50,
            p99_s=p99,
            max_s=worst,
            lost=lost,
        )
    live = 5.0 if quick else 20.0
    for count in sizes[1:] or sizes:
        for subject in (opstui, floor):
            peak, cpu = term.memory_and_cpu(subject, count, scratch, live)
            report(
                f"peak memory after {live:g} s live, {count:,}, {subject.name}",
                mib(peak),
                f"(CPU {cpu * 100:.1f}% of a core meanwhile)",
                key=f"peak:{subject.name}:{count}",
                bytes=peak,
                cpu=cpu,
            )
    idle = 5.0 if quick else 60.0
    for subject in (opstui, floor):
        _, cpu = term.memory_and_cpu(subject, 40, scratch, idle)
        report(
            f"CPU over {idle:g} s, 40 pipelines, {subject.name}",
            f"{cpu * 100:.2f}%",
            "(of one core, default refresh)",
            key=f"idle:{subject.name}",
            cpu=cpu,
        )
    # The world above runs at 60x (gates open, runs fail, toasts come): at rest, what the app
    # costs on its own, every poll answered with nothing new (the floor is always at rest).
    _, cpu = term.memory_and_cpu(opstui, 40, scratch, idle, live=False)
    report(
        f"CPU over {idle:g} s, 40 pipelines at rest, opstui",
        f"{cpu * 100:.2f}%",
        "(of one core, default refresh, nothing changing)",
        key="idle-rest:opstui",
        cpu=cpu,
    )
    cli, imports = term.cli_cold_start(scratch, 3 if quick else 7)
    report(
        "CLI cold start, opstui list --json, 40",
        ms(cli),
        f"(import httpx, pydantic: {ms(imports)}; {cli / imports:.2f}x)",
        key="cli",
        cli_s=cli,
        imports_s=imports,
    )


def scale(sizes: list[int], scratch: Path) -> None:
    """Keys, refreshes and a batch at scale: the app headless, the simulator in its own process."""
    from bench.scale import measure

    for count in sizes:
        found = asyncio.run(measure(count, scratch))
        report(
            f"longest event-loop stall in a refresh, {count:,}",
            ms(found.refresh_stall),
            key=f"stall:{count}",
            seconds=found.refresh_stall,
        )
        for key, seconds in found.keys.items():
            report(
                f"{key}, {count:,}",
                ms(seconds),
                "(key to its last frame)",
                key=f"view:{key}:{count}",
                seconds=seconds,
            )
        report(
            f"batch run on all {count:,} marked",
            f"{found.batch_requests} requests, {found.batch_answered} answered",
            f"(+{found.batch_rechecks} status re-check; longest stall {ms(found.batch_stall)})",
            key=f"batch:{count}",
            requests=found.batch_requests,
            answered=found.batch_answered,
            seconds=found.batch_stall,
        )
        ratio = found.bytes_a_minute / max(1, found.relist_bytes_a_minute)
        report(
            f"bytes a minute of live refresh, {count:,}",
            f"{found.bytes_a_minute / 2**20:,.1f} MiB",
            f"({ratio:.2f}x of re-listing everything every 5 s)",
            key=f"bytes:{count}",
            bytes=found.bytes_a_minute,
            ratio=ratio,
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one try each")
    parser.add_argument("--large", action="store_true", help="also measure 50,000 pipelines")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    parser.add_argument(
        "--markdown", action="store_true", help="also print the goal table as Markdown"
    )
    parser.add_argument(
        "--only",
        choices=("core", "scale", "terminal"),
        help="one part of the bench (default: all)",
    )
    args = parser.parse_args(argv)
    print("opstui bench (loopback simulator; headless at 120x36, terminal at 80x24)")
    sizes = [40, 1000] if args.quick else [40, 10_000] + ([50_000] if args.large else [])
    with tempfile.TemporaryDirectory(prefix="opstui-bench-") as scratch:
        path = Path(scratch)
        if args.only is None:
            # Each part in a fresh interpreter: what one part leaves (the 50,000 worlds, a
            # decoded list kept for its memory figure) would slow the next one's collections and
            # its in-process simulator (the floor's start at 40 measured 2.4x slower after them).
            for part in ("core", "scale", "terminal"):
                _run_part(part, args, path)
        if args.only == "core":
            asyncio.run(first_frame(40, path))
            if not args.quick:
                asyncio.run(first_frame(2000, path))
                asyncio.run(refresh_2000(path))
            decode(1000)
            simulator_list(1000)
            if not args.quick:
                decode(10000)
            asyncio.run(app_memory(path))
        if args.only == "scale":
            scale(sizes[1:], path)
        if args.only == "terminal":
            terminal(sizes, path, quick=args.quick)
    width = max(len(what) for what, _, _ in rows)
    value_width = max(len(value) for _, value, _ in rows)
    print()
    print(f"{'measure'.ljust(width)}  {'value'.rjust(value_width)}  note")
    print(f"{'-' * width}  {'-' * value_width}  ----")
    for what, value, note in rows:
        print(f"{what.ljust(width)}  {value.rjust(value_width)}  {note}")
    machine = {"cores": os.cpu_count(), "memory_gib": _memory_gib()}
    keyed = {figure["key"]: figure for figure in figures if figure["key"]}
    goals = goal_table(keyed)
    if goals:
        print(f"\nIssue 8's figures ({machine['cores']} cores, {machine['memory_gib']} GiB):")
        print(render(goals))
    if args.markdown:
        print()
        print(render(goals, markdown=True))
    if args.json is not None:
        table = [line.__dict__ for line in goals]
        args.json.write_text(
            json.dumps({"machine": machine, "figures": figures, "goals": table}, indent=2)
        )
        print(f"\nwrote {args.json}")


def _run_part(part: str, args: argparse.Namespace, scratch: Path) -> None:
    """``python -m bench --only PART`` in a child interpreter; its figures join this run's."""
    out = scratch / f"{part}.json"
    command = [sys.executable, "-m", "bench", "--only", part, "--json", str(out)]
    command += ["--quick"] * args.quick + ["--large"] * args.large
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    for figure in json.loads(out.read_text())["figures"]:
        rows.append((figure["what"], figure["value"], figure["note"]))
        figures.append(figure)
        print(f"  {figure['what']}: {figure['value']} {figure['note']}", flush=True)


def _memory_gib() -> float:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0.0
    return round(pages / 2**30, 1)


if __name__ == "__main__":
    main()
