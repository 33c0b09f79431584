"""Issue 8's table: each figure for opstui, its floor where it has one, the goal, and whether it is met.

The bench reports figures under stable keys (``start:40``, ``key:opstui:10000``, ...); this module
knows the goals and turns what was measured into the one table the README shows. A figure not
measured in a run (``--only``, ``--quick``, no tmux) is left out of the table, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Line", "goal_table", "render"]

Figures = Mapping[str, Mapping[str, Any]]
"""What the bench measured, by key: each a mapping of numbers (seconds, bytes, ratios)."""


@dataclass(frozen=True)
class Line:
    """One line of the table."""

    figure: str
    opstui: str
    floor: str
    goal: str
    met: bool | None
    """None when it cannot be judged (a part of it was not measured)."""


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"


def _sizes(figures: Figures, prefix: str) -> list[int]:
    return sorted(int(key.rsplit(":", 1)[1]) for key in figures if key.startswith(prefix + ":"))


def goal_table(figures: Figures) -> list[Line]:
    """The lines of issue 8's table that this run measured, in the issue's order."""
    lines: list[Line] = []
    floor_40 = figures.get("start:40", {}).get("floor_s")
    for count in _sizes(figures, "start"):
        found = figures[f"start:{count}"]
        ours, base = found["opstui_s"], found["floor_s"]
        if count <= 40:
            cpu, base_cpu = found.get("opstui_cpu_s"), found.get("floor_cpu_s")
            by_cpu = f"; CPU {cpu / base_cpu:.2f}x" if cpu and base_cpu else ""
            lines.append(
                Line(
                    f"start to data on screen, {count:,}",
                    f"{_s(ours)} ({ours / base:.2f}x{by_cpu})",
                    _s(base),
                    "<= 1.2x the floor",
                    ours <= 1.2 * base,
                )
            )
            continue
        every = found.get("opstui_all_s")
        first_ok = None if floor_40 is None else ours <= 1.5 * floor_40
        all_ok = None if floor_40 is None or every is None else every <= floor_40 + 1.0
        lines.append(
            Line(
                f"start to data on screen, {count:,}",
                f"first rows {_s(ours)}" + ("" if every is None else f", all {_s(every)}"),
                _s(base),
                "first <= 1.5x floor's 40; all <= floor's 40 + 1.0 s",
                None if first_ok is None or all_ok is None else first_ok and all_ok,
            )
        )
    for count in _sizes(figures, "stall"):
        worst = figures[f"stall:{count}"]["seconds"]
        limit = 0.05 if count <= 10_000 else 0.1
        lines.append(
            Line(
                f"longest event-loop stall in a refresh, {count:,}",
                _ms(worst),
                "",
                f"<= {_ms(limit)}",
                worst <= limit,
            )
        )
    for count in _sizes(figures, "key:opstui"):
        ours = figures[f"key:opstui:{count}"]
        base = figures.get(f"key:floor:{count}")
        lines.append(
            Line(
                f"Down key to frame during live refresh, {count:,}",
                f"p50 {_ms(ours['p50_s'])}, p99 {_ms(ours['p99_s'])}, "
                f"max {_ms(ours['max_s'])}, {ours['lost']} lost",
                "" if base is None else f"max {_ms(base['max_s'])}, {base['lost']} lost",
                "p99 <= 50 ms, max <= 150 ms, none lost",
                ours["p99_s"] <= 0.05 and ours["max_s"] <= 0.15 and ours["lost"] == 0,
            )
        )
    for key in sorted(k for k in figures if k.startswith("view:")):
        _, name, count = key.split(":")
        seconds = figures[key]["seconds"]
        lines.append(Line(f"{name}, {int(count):,}", _ms(seconds), "", "<= 100 ms", seconds <= 0.1))
    for count in _sizes(figures, "batch"):
        found = figures[f"batch:{count}"]
        answered = found.get("answered", found["requests"])  # JSON from before it was counted
        lines.append(
            Line(
                f"a batch run on {count:,} marked",
                f"{found['requests']} action request(s), {answered} answered, "
                f"longest stall {_ms(found['seconds'])}",
                "",
                "one request, answered, no stall > 100 ms",
                found["requests"] == answered == 1 and found["seconds"] <= 0.1,
            )
        )
    for count in _sizes(figures, "bytes"):
        ratio = figures[f"bytes:{count}"]["ratio"]
        lines.append(
            Line(
                f"bytes a minute of live refresh, {count:,}",
                f"{ratio:.2f}x of re-listing",
                "",
                "<= 0.1x",
                ratio <= 0.1,
            )
        )
    for count in _sizes(figures, "peak:opstui"):
        ours = figures[f"peak:opstui:{count}"]["bytes"]
        base = figures.get(f"peak:floor:{count}", {}).get("bytes")
        limit = 120 * 2**20 if count <= 10_000 else 300 * 2**20
        lines.append(
            Line(
                f"peak memory during live refresh, {count:,}",
                _mib(ours),
                "" if base is None else _mib(base),
                f"<= {_mib(limit)}",
                ours <= limit,
            )
        )
    idle = figures.get("idle:opstui")
    if idle is not None:
        base = figures.get("idle:floor", {}).get("cpu")
        lines.append(
            Line(
                "idle CPU, 40 pipelines, default refresh",
                f"{idle['cpu'] * 100:.2f}%",
                "" if base is None else f"{base * 100:.2f}%",
                "<= 1% of a core",
                idle["cpu"] <= 0.01,
            )
        )
    rest = figures.get("idle-rest:opstui")
    if rest is not None:
        lines.append(
            Line(
                "idle CPU, 40 pipelines, nothing changing",
                f"{rest['cpu'] * 100:.2f}%",
                "",
                "<= 1% of a core",
                rest["cpu"] <= 0.01,
            )
        )
    cli = figures.get("cli")
    if cli is not None:
        ratio = cli["cli_s"] / cli["imports_s"]
        lines.append(
            Line(
                "CLI cold start, opstui list --json, 40",
                f"{_ms(cli['cli_s'])} ({ratio:.2f}x)",
                f"{_ms(cli['imports_s'])} (import httpx, pydantic)",
                "<= 1.5x",
                ratio <= 1.5,
            )
        )
    return lines


def render(lines: list[Line], *, markdown: bool = False) -> str:
    """The table as text: aligned columns, or a Markdown table for the README."""
    head = ("figure", "opstui", "floor", "goal", "met")
    cells = [(line.figure, line.opstui, line.floor, line.goal, _met(line.met)) for line in lines]
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(out)
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]
    fmt: Callable[[tuple[str, ...]], str] = lambda row: "  ".join(  # noqa: E731
        value.ljust(width) for value, width in zip(row, widths, strict=True)
    ).rstrip()
    return "\n".join([fmt(head), fmt(tuple("-" * w for w in widths)), *map(fmt, cells)])


def _met(met: bool | None) -> str:
    return "?" if met is None else ("yes" if met else "no")
