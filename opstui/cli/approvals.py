"""``opstui approvals [--watch]``: what waits for a person, longest waiting first.

A gate is one pipeline, one run, one step: the same pipeline waiting again on its next run is a
new gate. ``--watch`` prints each new gate once, polling through :func:`opstui.cli.watch.watch`.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime

from opstui.api import OpseraClient, Pipeline
from opstui.cli.output import (
    Output,
    clean,
    duration,
    pipeline_json,
    render_table,
    stamp,
    waited_seconds,
)
from opstui.cli.reads import connect, unread, warn_unread
from opstui.cli.watch import watch
from opstui.config import Settings

__all__ = ["awaiting", "cmd_approvals", "gate_key"]


def awaiting(pipelines: Sequence[Pipeline]) -> list[Pipeline]:
    """The pipelines waiting at a gate, longest waiting first (unknown waits last)."""
    waiting = [p for p in pipelines if p.gate is not None]
    far_future = datetime.max.replace(tzinfo=UTC)
    return sorted(waiting, key=lambda p: (p.waiting_since or far_future, p.name, p.id))


def _gate_json(pipeline: Pipeline, now: datetime) -> dict[str, object]:
    view = pipeline_json(pipeline, now=now)
    return {
        key: view[key]
        for key in ("id", "name", "gate", "run_count", "waiting_since", "waited_seconds")
    }


def _gate_cells(pipeline: Pipeline, now: datetime) -> tuple[str, str, str, str, str]:
    gate = pipeline.gate
    waited = waited_seconds(pipeline.waiting_since, now)
    return (
        pipeline.id,
        str(pipeline.run_count),
        "?" if waited is None else duration(waited),
        clean(pipeline.name) or "-",
        clean(gate.name if gate else "") or "-",
    )


def gate_key(pipeline: Pipeline) -> tuple[str, int, str]:
    """What makes a gate new: the pipeline, its run and the step it waits at."""
    gate = pipeline.gate
    return (pipeline.id, pipeline.run_count, gate.id if gate else "")


async def _gates(client: OpseraClient) -> tuple[list[Pipeline], int]:
    """The gates, and how many pipelines could not be read (any of them may be waiting)."""
    pipelines = await client.list_pipelines()
    return awaiting(pipelines), unread(pipelines)


async def cmd_approvals(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui approvals``: what waits for a person, longest waiting first (or ``--watch``)."""
    if args.watch:
        return await _watch(args, settings, out)
    async with connect(settings) as client:
        gates, skipped = await _gates(client)
    warn_unread(out, skipped, "pipeline")
    now = datetime.now(UTC)
    if args.json:
        out.json_document([_gate_json(p, now) for p in gates])
        return 0
    if not gates:
        out.note("nothing is awaiting approval")
        return 0
    out.lines(
        render_table(
            ("ID", "RUN", "WAITING", "NAME", "GATE"),
            [_gate_cells(p, now) for p in gates],
            width=out.width,
            flexible=(3, 4),
        )
    )
    return 0


def _watch_line(pipeline: Pipeline, now: datetime) -> str:
    pid, run, waited, name, gate = _gate_cells(pipeline, now)
    return f'{stamp(now)}  awaiting  {name} ({pid}) run {run} at "{gate}", waiting {waited}'


async def _watch(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """Print each new gate once, until Ctrl-C, SIGTERM or a closed pipe (exit 0)."""
    seen: set[tuple[str, int, str]] = set()
    skipped = 0

    def show(answer: tuple[list[Pipeline], int]) -> None:
        nonlocal skipped
        gates, now_skipped = answer
        if now_skipped != skipped:  # said once, not on every poll
            warn_unread(out, now_skipped, "pipeline")
            skipped = now_skipped
        now = datetime.now(UTC)
        for pipeline in gates:
            key = gate_key(pipeline)
            if key in seen:
                continue
            seen.add(key)
            if args.json:
                out.json(_gate_json(pipeline, now))
            else:
                out.line(_watch_line(pipeline, now))

    out.note(
        f"opstui: watching {clean(settings.server_label)} for approvals every "
        f"{args.interval:g}s (Ctrl-C to stop)"
    )
    async with connect(settings) as client:
        return await watch(
            lambda: _gates(client),
            show,
            interval=args.interval,
            out=out,
            max_polls=args.max_polls,
        )
