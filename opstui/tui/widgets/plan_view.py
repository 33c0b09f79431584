"""A pipeline's plan as a list of steps, the current one marked, each with its state in words.

The state is always a word (``done``, ``running``, ``failed``, ``waiting at gate``, ``pending``),
so the plan reads without colour (``NO_COLOR=1``) and without Unicode glyphs: on terminals whose
fonts lack ``✓ ✗ ▶`` (the Linux console, ``TERM=vt100``) the markers fall back to ASCII.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from opstui.api import Pipeline, PipelineStatus
from opstui.tui.format import STATUS_STYLE, plain

__all__ = ["MARKERS", "PlanView", "StepState", "ascii_markers", "step_states"]

ASCII_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "vt320", "ansi", "dumb"})
"""Terminals whose usual fonts lack the Unicode markers."""


class StepState(StrEnum):
    """Where one step of the plan stands, as the operator reads it."""

    DONE = "done"
    RUNNING = "running"
    FAILED = "failed"
    GATE = "waiting at gate"
    PAUSED = "paused"
    PENDING = "pending"
    """After the current step of a run that is still going."""
    NOT_RUN = "not run"
    """No run is going, and the last one did not reach this step."""
    INACTIVE = "inactive"
    """Switched off in the plan: runs skip it."""


@dataclass(frozen=True, slots=True)
class Markers:
    """The glyphs of one marker set."""

    current: str
    states: dict[StepState, str]


MARKERS: dict[bool, Markers] = {
    False: Markers(
        "▶",
        {
            StepState.DONE: "✓",
            StepState.RUNNING: "»",
            StepState.FAILED: "✗",
            StepState.GATE: "?",
            StepState.PAUSED: "‖",
            StepState.PENDING: "·",
            StepState.NOT_RUN: "·",
            StepState.INACTIVE: "-",
        },
    ),
    True: Markers(
        ">",
        {
            StepState.DONE: "+",
            StepState.RUNNING: "*",
            StepState.FAILED: "x",
            StepState.GATE: "?",
            StepState.PAUSED: "=",
            StepState.PENDING: ".",
            StepState.NOT_RUN: ".",
            StepState.INACTIVE: "-",
        },
    ),
}
"""Unicode markers (``False``) and their plain-ASCII stand-ins (``True``)."""

STATE_STYLE: dict[StepState, str] = {
    StepState.DONE: STATUS_STYLE[PipelineStatus.SUCCESS],
    StepState.RUNNING: STATUS_STYLE[PipelineStatus.RUNNING],
    StepState.FAILED: STATUS_STYLE[PipelineStatus.FAILED],
    StepState.GATE: STATUS_STYLE[PipelineStatus.AWAITING_APPROVAL],
    StepState.PAUSED: STATUS_STYLE[PipelineStatus.PAUSED],
    StepState.PENDING: "",
    StepState.NOT_RUN: "dim",
    StepState.INACTIVE: "dim strike",
}

_AT_CURRENT: dict[PipelineStatus, StepState] = {
    PipelineStatus.SUCCESS: StepState.DONE,
    PipelineStatus.FAILED: StepState.FAILED,
    PipelineStatus.RUNNING: StepState.RUNNING,
    PipelineStatus.AWAITING_APPROVAL: StepState.GATE,
    PipelineStatus.PAUSED: StepState.PAUSED,
}
_RUN_GOING = frozenset(
    {PipelineStatus.RUNNING, PipelineStatus.AWAITING_APPROVAL, PipelineStatus.PAUSED}
)


def ascii_markers(term: str | None = None) -> bool:
    """True when the terminal (``$TERM`` by default) is one whose fonts lack the Unicode markers."""
    name = os.environ.get("TERM", "") if term is None else term
    return name.lower() in ASCII_TERMS


def step_states(pipeline: Pipeline) -> list[StepState]:
    """The state of each step of ``pipeline``'s plan, in plan order."""
    status = pipeline.status
    current = pipeline.current_step_index
    states: list[StepState] = []
    for index, step in enumerate(pipeline.plan):
        if not step.active:
            states.append(StepState.INACTIVE)
        elif current is None:
            states.append(StepState.NOT_RUN)
        elif index < current:
            states.append(StepState.DONE)
        elif index > current:
            states.append(StepState.PENDING if status in _RUN_GOING else StepState.NOT_RUN)
        else:
            states.append(_AT_CURRENT.get(status, StepState.NOT_RUN))
    return states


def render_plan(pipeline: Pipeline, *, ascii: bool = False) -> RenderableType:
    """The plan as a table: marker, state glyph, number, step name, state word, tool."""
    plan = pipeline.plan
    if not plan:
        return Text("This pipeline has no steps.", style="dim")
    markers = MARKERS[ascii]
    current = pipeline.current_step_index
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(width=1, no_wrap=True)  # current-step marker
    table.add_column(width=1, no_wrap=True)  # state glyph
    table.add_column(justify="right", no_wrap=True)
    table.add_column(max_width=48, no_wrap=True, overflow="ellipsis")
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, no_wrap=True, overflow="ellipsis", style="dim")
    for index, (step, state) in enumerate(zip(plan, step_states(pipeline), strict=True)):
        is_current = index == current
        style = STATE_STYLE[state]
        name = plain(step.name or "(unnamed step)", limit=80)
        if is_current:
            name.stylize("bold")
        table.add_row(
            Text(markers.current if is_current else " ", style="bold"),
            Text(markers.states[state], style=style),
            Text(f"{index + 1}."),
            name,
            Text(state.value, style=style),
            plain(step.tool_identifier, limit=40),
        )
    return Group(table)


class PlanView(Static):
    """The plan of one pipeline, re-rendered whenever :meth:`show` gets a newer document."""

    DEFAULT_CSS = """
    PlanView {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        pipeline: Pipeline | None = None,
        *,
        ascii: bool | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.ascii = ascii_markers() if ascii is None else ascii
        """Use the plain-ASCII markers."""
        if pipeline is not None:
            self.show(pipeline)

    def show(self, pipeline: Pipeline) -> None:
        """Render ``pipeline``'s plan."""
        self.update(render_plan(pipeline, ascii=self.ascii))
