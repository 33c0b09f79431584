"""What the details screen draws from a pipeline: its heading, its summary and its gate.

Pure functions of the document and the time (the screen decides when to call them).
"""

from __future__ import annotations

from datetime import datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from opstui.api import Pipeline
from opstui.tui.format import duration, plain, relative, safe_text, status_text
from opstui.tui.widgets.activity_log import entry_time
from opstui.tui.widgets.status_bar import Tenant, tenant_text

__all__ = ["render_gate", "render_heading", "render_summary"]


def _label(text: str) -> Text:
    return Text(text, style="dim")


def _or_dash(text: str, limit: int = 200) -> Text:
    return plain(text, limit=limit) if text.strip() else Text("—", style="dim")


def render_heading(pipeline: Pipeline, tenant: Tenant | None = None) -> RenderableType:
    """The server (``prod · read-only``) and the name, left, and the state word, right."""
    grid = Table.grid(padding=(0, 2), expand=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    name = plain(pipeline.name or "(unnamed pipeline)", style="bold", limit=120)
    if tenant is not None:
        name = Text.assemble(tenant_text(tenant, server_style="dim"), (" · ", "dim"), name)
    grid.add_row(name, status_text(pipeline.status))
    return grid


def render_summary(pipeline: Pipeline, now: datetime) -> RenderableType:
    """Description, then id, type and active; owner and tags; runs, last run and current step.

    Labels are dim words inline, so the block is four lines at 80 columns and wraps when a value
    is long, instead of squeezing values into a column.
    """
    lines: list[Text] = []
    if pipeline.description.strip():
        lines.append(plain(safe_text(pipeline.description, 500)))
    else:
        lines.append(Text("no description", style="dim"))
    sep = (" · ", "dim")
    lines.append(
        Text.assemble(
            _label("id "),
            plain(pipeline.id, limit=60),
            sep,
            _label("type "),
            _or_dash(", ".join(pipeline.type), 60),
            sep,
            "active" if pipeline.active else Text("inactive: runs cannot start", style="bold"),
        )
    )
    lines.append(
        Text.assemble(
            _label("owner "),
            _or_dash(pipeline.owner_name or pipeline.owner, 80),
            sep,
            _label("tags "),
            _or_dash(pipeline.tag_text, 300),
        )
    )
    runs = Text.assemble(_label("runs "), str(pipeline.run_count))
    last_status = pipeline.last_run_status
    last_time = pipeline.last_run_completed
    if last_status or last_time is not None:
        runs.append_text(Text.assemble(sep, _label("last run ")))
        if last_status:
            runs.append_text(plain(last_status, limit=20))
            runs.append(" ")
        runs.append(relative(last_time, now, never="(no time)"))
    elif pipeline.run_count == 0:
        runs.append_text(Text.assemble(sep, _label("never ran")))
    if pipeline.step_text:
        runs.append_text(Text.assemble(sep, _label("step "), plain(pipeline.step_text, limit=120)))
    lines.append(runs)
    return Group(*lines)


def render_gate(pipeline: Pipeline, now: datetime) -> RenderableType | None:
    """What the pipeline waits for at its approval gate; None when it is not awaiting approval."""
    gate = pipeline.gate
    if gate is None:
        return None
    index = pipeline.current_step_index
    lines: list[Text] = []
    heading = plain(gate.name or "(unnamed gate)", style="bold", limit=80)
    if index is not None:
        heading.append(f"  step {index + 1} of {len(pipeline.plan)}", style="dim")
    lines.append(heading)
    since = pipeline.waiting_since
    if since is not None:
        lines.append(
            Text.assemble(
                ("waiting since ", "dim"),
                entry_time(since, now),
                (" · for ", "dim"),
                (duration((now - since).total_seconds()), "bold"),
            )
        )
    if gate.message.strip():
        lines.append(plain(safe_text(gate.message, 500)))
    approvers = gate.approvers  # one reading of approvers, shared with the inbox
    if approvers:
        lines.append(Text.assemble(("approvers ", "dim"), plain(", ".join(approvers), limit=300)))
    return Group(*lines)
