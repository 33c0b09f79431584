"""The command line's reads: list, show, tasks, logs, approvals (and approvals --watch).

Each command is a coroutine that takes the parsed arguments, the settings and the writer, and
returns an exit code; errors from the client propagate to :func:`opstui.cli.main`, which turns
them into one line and an exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from opstui.api import (
    InvalidResponseError,
    Listing,
    OpseraClient,
    OpseraError,
    Pipeline,
    PipelineStatus,
    Task,
    is_transient,
)
from opstui.api.client import ListFilters
from opstui.cli.output import (
    Output,
    activity_json,
    clean,
    duration,
    pipeline_json,
    plural,
    render_table,
    stamp,
    task_json,
    waited_seconds,
)
from opstui.config import Settings
from opstui.connect import open_client

__all__ = [
    "STATES",
    "awaiting",
    "cmd_approvals",
    "cmd_list",
    "cmd_logs",
    "cmd_show",
    "cmd_tasks",
    "connect",
    "is_complete",
    "parse_states",
    "unread",
    "warn_unread",
]

STATES: dict[str, PipelineStatus] = {status.value: status for status in PipelineStatus}
"""``--state`` words: the derived statuses (``awaiting approval`` may be written with a dash)."""

T = TypeVar("T")

MAX_BACKOFF = 60.0


def connect(settings: Settings) -> OpseraClient:
    """A client for the configured server (ConfigError when the server or token is missing)."""
    return open_client(settings)


def unread(items: Sequence[object]) -> int:
    """How many records the server sent that could not be read (a plain list: none)."""
    return items.skipped if isinstance(items, Listing) else 0


def is_complete(items: Sequence[object]) -> bool:
    """Whether a read is the whole truth (for ``status``: whether it carried documents)."""
    return items.complete if isinstance(items, Listing) else True


def warn_unread(out: Output, count: int, what: str) -> None:
    """The one warning for records left out: ``2 pipelines could not be read ...``."""
    if count > 0:
        verb = "is" if count == 1 else "are"
        out.warn(f"{plural(count, what)} could not be read and {verb} not shown")


def parse_states(values: Sequence[str] | None) -> set[PipelineStatus]:
    """``--state`` values (repeated or comma separated) as statuses; ValueError for a typo."""
    states: set[PipelineStatus] = set()
    for value in values or ():
        for word in value.split(","):
            key = " ".join(word.replace("-", " ").replace("_", " ").lower().split())
            if not key:
                continue
            if key not in STATES:
                choices = ", ".join(status.value.replace(" ", "-") for status in PipelineStatus)
                raise ValueError(f"unknown state {clean(word, 40)!r} (choose from {choices})")
            states.add(STATES[key])
    return states


def list_filters(args: argparse.Namespace) -> ListFilters:
    """The server-side filters of ``list`` and ``tasks``, from their options."""
    return ListFilters(
        search=args.search,
        status=args.status,
        type=args.type,
        owner=args.owner,
        tag=args.tag,
        sort=args.sort,
    )


# -- list / show ------------------------------------------------------------------------------


async def cmd_list(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui list``: pipelines, filtered by the server and then by derived ``--state``."""
    states = parse_states(args.state)
    async with connect(settings) as client:
        listed = await client.list_pipelines(**list_filters(args))
    warn_unread(out, unread(listed), "pipeline")
    pipelines = [p for p in listed if p.status in states] if states else list(listed)
    if args.json:
        out.json_document([pipeline_json(p) for p in pipelines])
        return 0
    if not pipelines:
        out.note("no pipelines match")
        return 0
    rows = [
        (p.id, p.status.value, str(p.run_count) if p.run_count else "-", clean(p.name) or "-")
        for p in pipelines
    ]
    out.lines(
        render_table(
            ("ID", "STATUS", "RUN", "NAME"),
            rows,
            width=out.width,
            flexible=(3,),
            style=lambda col, text: out.status(text) if col == 1 else text,
        )
    )
    return 0


def _show_lines(pipeline: Pipeline, now: datetime, out: Output) -> Iterator[str]:
    status = pipeline.status.value
    fields: list[tuple[str, str]] = [
        ("name", clean(pipeline.name) or "-"),
        ("id", pipeline.id),
        ("status", out.status(status)),
    ]
    if pipeline.step_text:
        fields.append(("step", clean(pipeline.step_text)))
    gate = pipeline.gate
    if gate is not None:
        since = pipeline.waiting_since
        waited = waited_seconds(since, now)
        wait = f", waiting {duration(waited)} (since {stamp(since)})" if waited is not None else ""
        fields.append(("gate", f'"{clean(gate.name)}"{wait}'))
    fields.append(("runs", str(pipeline.run_count)))
    if pipeline.last_run_status or pipeline.last_run_completed:
        fields.append(
            (
                "last run",
                f"{clean(pipeline.last_run_status) or '?'}, "
                f"completed {stamp(pipeline.last_run_completed)}",
            )
        )
    fields += [
        ("owner", clean(pipeline.owner_name or pipeline.owner) or "-"),
        ("type", clean(", ".join(pipeline.type)) or "-"),
        ("tags", clean(pipeline.tag_text) or "-"),
        ("active", "yes" if pipeline.active else "no"),
        ("updated", stamp(pipeline.updated_at)),
    ]
    if pipeline.description:
        fields.append(("description", clean(pipeline.description)))
    for label, value in fields:
        yield f"{label:<12} {value}"
    if pipeline.plan:
        yield ""
        yield "plan"
        current = pipeline.current_step_index
        for index, step in enumerate(pipeline.plan):
            mark = ">" if index == current else " "
            tool = f"  ({clean(step.tool_identifier, 40)})" if step.tool_identifier else ""
            off = "  [inactive]" if not step.active else ""
            yield f" {mark}{index + 1:>2}. {clean(step.name, 60) or '-'}{tool}{off}"


async def cmd_show(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui show ID``: one pipeline, in full."""
    async with connect(settings) as client:
        pipeline = await client.get_pipeline(args.id)
    now = datetime.now(UTC)
    if args.json:
        out.json_document({**pipeline_json(pipeline, now=now), "document": pipeline.document()})
        return 0
    out.lines(_show_lines(pipeline, now, out))
    return 0


# -- tasks / logs -----------------------------------------------------------------------------


async def cmd_tasks(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui tasks``: standalone tasks."""
    states = parse_states(args.state)
    async with connect(settings) as client:
        tasks: list[Task] = await client.list_tasks(**list_filters(args))
    warn_unread(out, unread(tasks), "task")
    if states:
        tasks = [t for t in tasks if t.status in states]
    if args.json:
        out.json_document([task_json(t) for t in tasks])
        return 0
    if not tasks:
        out.note("no tasks match")
        return 0
    rows = [
        (
            t.id,
            t.status.value,
            str(t.run_count) if t.run_count else "-",
            clean(t.type) or "-",
            clean(t.name) or "-",
        )
        for t in tasks
    ]
    out.lines(
        render_table(
            ("ID", "STATUS", "RUN", "TYPE", "NAME"),
            rows,
            width=out.width,
            flexible=(3, 4),
            style=lambda col, text: out.status(text) if col == 1 else text,
        )
    )
    return 0


async def cmd_logs(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui logs ID [--run N]``: a pipeline's activity log, newest first."""
    async with connect(settings) as client:
        entries = await client.pipeline_logs(args.id, run_count=args.run)
    if args.json:
        out.json_document([activity_json(e) for e in entries])
        return 0
    if not entries:
        out.note("no activity" + (f" for run {args.run}" if args.run is not None else ""))
        return 0
    rows = [
        (
            stamp(e.created_at),
            "-" if e.run_count is None else str(e.run_count),
            clean(e.step_name) or "-",
            clean(e.status) or "-",
            clean(e.message) or "-",
        )
        for e in entries
    ]
    out.lines(
        render_table(
            ("TIME (UTC)", "RUN", "STEP", "STATUS", "MESSAGE"),
            rows,
            width=out.width,
            flexible=(2, 4),
        )
    )
    return 0


# -- approvals --------------------------------------------------------------------------------


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


def _gate_key(pipeline: Pipeline) -> tuple[str, int, str]:
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


@contextlib.contextmanager
def _on_sigterm(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM set ``stop`` while the watch runs: a clean end, exit 0.

    Ctrl-C is caught here rather than left to ``asyncio.run``, whose cancellation of the main
    task can be swallowed inside a poll (the HTTP stack shields parts of a request from it).
    """
    loop = asyncio.get_running_loop()
    caught: list[signal.Signals] = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here (a thread)
            continue
        caught.append(number)
    try:
        yield
    finally:
        for number in caught:
            loop.remove_signal_handler(number)


async def _until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or None as soon as ``stop`` is set (``work`` is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


async def _watch(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """Poll for gates and print each new one once; stop on Ctrl-C, SIGTERM or a closed pipe.

    A gate is one pipeline, one run, one step: the same pipeline waiting again on its next run
    is new. Transient failures (unreachable, timeouts, 429, 5xx, a garbled answer) are reported
    on one line and polled through with a growing delay; other errors (401/403 first) end it.
    """
    seen: set[tuple[str, int, str]] = set()
    stop = asyncio.Event()
    delay = args.interval
    polls = 0
    failing = False
    skipped = 0
    out.note(
        f"opstui: watching {clean(settings.server_label)} for approvals every "
        f"{args.interval:g}s (Ctrl-C to stop)"
    )
    async with connect(settings) as client:
        with _on_sigterm(stop):
            while True:
                try:
                    answer = await _until_stopped(_gates(client), stop)
                except OpseraError as error:
                    if not (is_transient(error) or isinstance(error, InvalidResponseError)):
                        raise
                    delay = min(MAX_BACKOFF, max(delay * 2, args.interval))
                    out.warn(f"{error.message}; trying again in {delay:g}s")
                    failing = True
                else:
                    if answer is None:
                        return 0  # Ctrl-C or SIGTERM during the poll
                    gates, now_skipped = answer
                    if failing:
                        out.note("opstui: reconnected")
                    failing = False
                    delay = args.interval
                    if now_skipped != skipped:  # said once, not on every poll
                        warn_unread(out, now_skipped, "pipeline")
                        skipped = now_skipped
                    now = datetime.now(UTC)
                    for pipeline in gates:
                        key = _gate_key(pipeline)
                        if key in seen:
                            continue
                        seen.add(key)
                        if args.json:
                            out.json(_gate_json(pipeline, now))
                        else:
                            out.line(_watch_line(pipeline, now))
                polls += 1
                if out.broken or (args.max_polls and polls >= args.max_polls):
                    return 0
                try:
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                except TimeoutError:
                    continue
                return 0
