"""Small pieces shared by the simulator's generator, world and server."""

from __future__ import annotations

import hashlib
import random
import re
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

Doc = dict[str, Any]
"""A JSON document as the simulator stores it: plain dicts, lists, strings, numbers and booleans."""

GATE_TOOLS: Final = frozenset({"approval", "user-action", "servicenow"})
"""Tool identifiers of the steps that wait for a person (a ServiceNow change approval is one)."""

SHOWN_STATES: Final = frozenset({"failed", "running", "paused", "success"})
"""The ``state`` values the portal shows as they are; any other is derived from ``last_step``."""

STATES: Final = ("running", "paused", "failed", "success", "stopped")
"""The values of a document's top-level ``state``."""

IDLE_STATES: Final = frozenset({"failed", "success", "stopped"})
"""States in which a pipeline or task may start a new run."""

HEX24: Final = re.compile(r"[0-9a-fA-F]{24}")


def hex_id(*parts: object) -> str:
    """A deterministic 24-hex id (the shape of a Mongo ObjectId) derived from ``parts``."""
    text = ":".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def is_hex24(value: object) -> bool:
    """Whether ``value`` is a 24-hex-character string."""
    return isinstance(value, str) and HEX24.fullmatch(value) is not None


def iso(when: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a ``Z``: ``2026-11-27T09:00:03.412Z``."""
    w = when.astimezone(UTC)
    return (
        f"{w.year:04d}-{w.month:02d}-{w.day:02d}T{w.hour:02d}:{w.minute:02d}:{w.second:02d}"
        f".{w.microsecond // 1000:03d}Z"
    )


class StepFate(NamedTuple):
    """How one step of one run goes: how long it takes and whether it fails."""

    duration_ms: int
    fails: bool


def step_fate(
    seed: int, pipeline_id: str, run_count: int, index: int, failure_rate: float
) -> StepFate:
    """The seeded fate of step ``index`` of run ``run_count`` of a pipeline (3 to 9 s a step)."""
    rng = random.Random(f"{seed}:{pipeline_id}:{run_count}:{index}")
    duration = rng.randint(3000, 9000)
    return StepFate(duration, rng.random() < failure_rate)


def task_fate(seed: int, task_id: str, run_count: int, failure_rate: float) -> StepFate:
    """The seeded fate of run ``run_count`` of a task (5 to 25 s a run)."""
    rng = random.Random(f"{seed}:task:{task_id}:{run_count}")
    duration = rng.randint(5000, 25000)
    return StepFate(duration, rng.random() < failure_rate)


def tool_of(step: Any) -> str:
    """The ``tool.tool_identifier`` of a plan step, or ``""``."""
    if isinstance(step, dict):
        tool = step.get("tool")
        if isinstance(tool, dict):
            ident = tool.get("tool_identifier")
            if isinstance(ident, str):
                return ident
    return ""


def is_gate(step: Any) -> bool:
    """Whether a plan step waits for a person (approval, user action, ServiceNow)."""
    return tool_of(step) in GATE_TOOLS


def is_active_step(step: Any) -> bool:
    """Whether a plan step takes part in a run (only ``active: false`` switches it off)."""
    return isinstance(step, dict) and step.get("active") is not False


def plan_of(doc: Doc) -> list[Any]:
    """The plan of a pipeline document, or an empty list."""
    workflow = doc.get("workflow")
    if isinstance(workflow, dict):
        plan = workflow.get("plan")
        if isinstance(plan, list):
            return plan
    return []


def derive_status(doc: Doc) -> str:
    """A pipeline's status, in the order Opsera's portal derives it (the contract's "Status").

    One of ``awaiting-approval``, ``success``, ``failed``, ``running``, ``paused``, ``stopped`` or
    ``unknown``: awaiting approval first (paused at a gate step, whatever the rest says); then the
    document's ``state`` when the portal shows it as it is; else derived from
    ``workflow.last_step``, and ``unknown`` when there is no usable workflow.
    """
    workflow = doc.get("workflow")
    last = workflow.get("last_step") if isinstance(workflow, dict) else None
    running = last.get("running") if isinstance(last, dict) else None
    if not isinstance(running, dict):
        running = {}
    if running.get("paused"):
        step_id = running.get("step_id")
        for step in plan_of(doc):
            if isinstance(step, dict) and step.get("_id") == step_id:
                if is_gate(step):
                    return "awaiting-approval"
                break
    state = doc.get("state")
    if isinstance(state, str) and state in SHOWN_STATES:
        return state
    if not isinstance(workflow, dict):
        return "unknown"
    if last is None:
        last = {}
    if not isinstance(last, dict):
        return "unknown"
    for key in ("success", "failed"):
        mark = last.get(key)
        if isinstance(mark, dict) and mark.get("step_id"):
            return key
    if last.get("status") == "running":
        return "running"
    if last.get("status") == "stopped" and (
        running.get("status") == "pending" or bool(running.get("paused"))
    ):
        return "paused"
    return "stopped"
