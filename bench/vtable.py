"""VirtualTable, measured: ``python -m bench.vtable`` (a script, not a test).

At 10,000 and 50,000 rows, in a headless app (80x24 unless ``--size``), each figure is the
median and the worst of several runs, in milliseconds, of the table's own work plus the paint
of the rows on screen (``render_lines`` over the whole view, which is what the compositor asks
the widget for):

- start: from creating the app to the first row painted (Textual's own start included);
- mount: every row handed over at once (``set_rows``: the cache dropped) and the view painted;
- change 500: 500 rows replaced by the caller, ``apply(changed=...)``, order kept;
- change 500 + reorder: the same with a new order (the caller's re-sort is not counted);
- cursor down / page down / end: one key's work, the lines it touched painted;
- filter swap: a new order (one row in 13, then all rows again; the caller's filtering is
  shown on its own line, as "caller: filter").

The machine is shared and noisy: run it twice and read the medians; the worst cases are mostly
the garbage collector's full passes over every row object alive (``--freeze`` shows the figures
with the rows frozen out of the collector, as an app can do once a full list has landed).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region

from opstui.tui.format import relative
from opstui.tui.widgets.vtable import Cell, Column, RowState, VirtualTable

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
STATES = ("success", "running", "failed", "idle", "awaiting approval", "stopped", "paused")
STATE_STYLE = {"failed": "bold red", "running": "bold cyan", "success": "green"}

COLUMNS = (
    Column("mark", "", 1),
    Column("state", "State", 17),
    Column("name", "Name", 20, comfort=28, weight=4, most=48),
    Column("step", "Step", 14, comfort=22, weight=1, most=32, gives_way=6),
    Column("run", "Run", 5, justify="right", gives_way=5),
    Column("last", "Last run", 8, gives_way=4),
    Column("owner", "Owner", 14, weight=1, most=18, gives_way=3, extra=True),
    Column("tags", "Tags", 16, weight=2, most=40, gives_way=2, extra=True),
    Column("type", "Type", 6, most=10, weight=1, gives_way=1, extra=True),
)


@dataclass(frozen=True, slots=True)
class Row:
    """A compact pipeline record, as the app's store would keep it."""

    id: str
    name: str
    state: str
    step: str
    run: int
    last: datetime | None
    owner: str
    tags: str
    type: str


def make_rows(count: int) -> dict[str, Row]:
    """``count`` rows in name order."""
    return {
        f"p{index:06d}": Row(
            id=f"p{index:06d}",
            name=f"service-{index:06d}-deploy",
            state=STATES[index % len(STATES)],
            step=f"step {index % 9}: build and test",
            run=index % 400,
            last=None if index % 17 == 0 else NOW - timedelta(minutes=index % 900),
            owner=f"team-{index % 13}",
            tags="prod, eu-west, critical" if index % 3 else "dev",
            type="sdlc",
        )
        for index in range(count)
    }


class BenchApp(App[None]):
    """One table over ``rows``; marks kept by the app, as the screens do."""

    def __init__(self, rows: dict[str, Row], order: list[str]) -> None:
        super().__init__()
        self.rows = rows
        self.order = order
        self.marked: set[str] = set()
        self.first_paint: float | None = None

    def compose(self) -> ComposeResult:
        yield VirtualTable(
            COLUMNS, self.render_row, rows=self.rows, order=self.order, row_state=self.state_of
        )

    def state_of(self, key: str) -> RowState:
        return RowState.MARKED if key in self.marked else RowState.NONE

    def render_row(self, row: Row, state: RowState, now: datetime) -> list[Cell]:
        if self.first_paint is None:
            self.first_paint = time.perf_counter()
        return [
            "●" if state & RowState.MARKED else " ",
            Text(row.state, style=STATE_STYLE.get(row.state, "")),
            row.name,
            row.step,
            Text(f"#{row.run}" if row.run else ""),
            relative(row.last, NOW),
            row.owner,
            row.tags,
            row.type,
        ]


Results = dict[str, list[float]]


async def measure(count: int, size: tuple[int, int], repeat: int, freeze: bool) -> Results:
    """Every figure at ``count`` rows."""
    rows = make_rows(count)
    if freeze:
        # What an app can do once a full list has landed: the rows leave the collector's scans.
        gc.collect()
        gc.freeze()
    order = list(rows)
    results: Results = {}
    app = BenchApp(rows, order)
    started, cpu_started = time.perf_counter(), time.process_time()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.first_paint is not None
        results["start (app start to first rows)"] = [app.first_paint - started]
        results["start (app start to first rows) (cpu)"] = [time.process_time() - cpu_started]
        table = app.query_one(VirtualTable)
        view = Region(0, 0, table.size.width, table.size.height)

        async def timed(name: str, work: Callable[[], object]) -> None:
            begin, cpu = time.perf_counter(), time.process_time()
            work()
            table.render_lines(view)
            results.setdefault(name, []).append(time.perf_counter() - begin)
            results.setdefault(f"{name} (cpu)", []).append(time.process_time() - cpu)
            await pilot.pause()  # let the messages the work posted be handled, untimed

        for _ in range(repeat):
            await timed("mount (set_rows + paint)", lambda: table.set_rows(rows, order))

        keys = list(rows)
        for turn in range(repeat):
            # 500 rows spread over the whole list, a few of them on screen.
            changed = keys[turn % 20 :: max(1, count // 500)][:500]
            for key in changed:
                rows[key] = replace(rows[key], state=STATES[(turn + 2) % len(STATES)])
            await timed("change 500, order kept", lambda changed=changed: table.apply(changed))

        by_state = sorted(keys, key=lambda key: (rows[key].state, key))
        for turn in range(repeat):
            changed = keys[turn % 20 :: max(1, count // 500)][:500]
            for key in changed:
                rows[key] = replace(rows[key], state=STATES[(turn + 3) % len(STATES)])
            new_order = list(reversed(by_state)) if turn % 2 else by_state
            await timed(
                "change 500 + reorder",
                lambda changed=changed, new_order=new_order: table.apply(changed, order=new_order),
            )

        table.set_order(order)
        table.move_cursor(row=count // 2)
        await pilot.pause()
        for _ in range(repeat):
            await timed("cursor down", table.action_cursor_down)
        for _ in range(repeat):
            await timed("page down", table.action_page_down)
        for turn in range(repeat):
            await timed(
                "end / home", table.action_cursor_last if turn % 2 else table.action_cursor_first
            )

        for turn in range(repeat):
            begin, cpu = time.perf_counter(), time.process_time()
            word = f"team-{turn % 13}"
            filtered = [key for key in order if word in rows[key].owner]
            name = "caller: filter (not the table)"
            results.setdefault(name, []).append(time.perf_counter() - begin)
            results.setdefault(f"{name} (cpu)", []).append(time.process_time() - cpu)
            await timed("filter swap: 1 in 13", lambda filtered=filtered: table.set_order(filtered))
            await timed("filter swap: all again", lambda: table.set_order(order))

        for _ in range(repeat):
            app.marked = set(rows)
            await timed("mark all (repaint)", table.refresh)
            app.marked = set()
            await timed("unmark all (repaint)", table.refresh)
    if freeze:
        gc.unfreeze()
    return results


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 rows, 3 runs: it still works")
    parser.add_argument("--size", default="80x24", help="terminal size, WxH (default 80x24)")
    parser.add_argument("--repeat", type=int, default=15, help="runs of each figure")
    parser.add_argument(
        "--freeze", action="store_true", help="gc.freeze() once the rows exist (see the docstring)"
    )
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.lower().split("x"))
    counts = (1_000,) if args.quick else (10_000, 50_000)
    repeat = 3 if args.quick else args.repeat

    table: dict[int, Results] = {}
    for count in counts:
        print(f"measuring {count:,} rows...", flush=True)
        table[count] = asyncio.run(measure(count, (width, height), repeat, args.freeze))

    names = [name for name in table[counts[0]] if not name.endswith(" (cpu)")]
    head = f"{'ms: median / max (max cpu)':<34}" + "".join(
        f"{f'{count:,} rows':>26}" for count in counts
    )
    print()
    print(head)
    print("-" * len(head))
    for name in names:
        cells = "".join(
            f"{ms(statistics.median(table[count][name]))} /{ms(max(table[count][name]))}"
            f" ({ms(max(table[count][f'{name} (cpu)'])).strip()})"
            for count in counts
        )
        print(f"{name:<34}{cells}")
    cores = os.cpu_count()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"\n{width}x{height}, {repeat} runs each; paint = render_lines over the whole view;"
        f" cpu = this process's time (not the time other processes took the cores);"
        f" gc.freeze: {'yes' if args.freeze else 'no'}."
        f"\n{cores} cores, load average {load}."
    )


if __name__ == "__main__":
    main()
