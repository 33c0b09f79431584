"""The command line's reads: list, show, tasks, logs (approvals: :mod:`opstui.cli.approvals`).

Each command is a coroutine that takes the parsed arguments, the settings and the writer, and
returns an exit code; errors from the client propagate to :func:`opstui.cli.main`, which turns
them into one line and an exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from opstui.api import (
    Listing,
    OpseraClient,
    Pipeline,
    PipelineStatus,
    Task,
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
