"""Activity rows and their wording, shared by the history generator and the live engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opstui.sim.common import Doc, iso
from opstui.sim.names import FAILURE_MESSAGES


def make_row(
    row_id: str,
    run_count: int,
    when: datetime,
    *,
    step: Any = None,
    action: str,
    message: str,
    status: str,
) -> Doc:
    """One activity row in the contract's shape; ``step`` is a plan step, or None for the whole run."""
    name = ""
    tool = ""
    if isinstance(step, dict):
        raw_name = step.get("name")
        name = raw_name if isinstance(raw_name, str) else ""
        tool_doc = step.get("tool")
        if isinstance(tool_doc, dict) and isinstance(tool_doc.get("tool_identifier"), str):
            tool = tool_doc["tool_identifier"]
    return {
        "_id": row_id,
        "run_count": run_count,
        "step_name": name,
        "tool_identifier": tool,
        "action": action,
        "message": message,
        "status": status,
        "createdAt": iso(when),
    }


def step_label(step: Any) -> str:
    """A step's name for messages."""
    if isinstance(step, dict) and isinstance(step.get("name"), str) and step["name"]:
        return str(step["name"])
    return "unnamed step"


def run_started(run_count: int, by: str) -> str:
    """Message of the row that opens a run."""
    return f"Run {run_count} started by {by}"


def step_started(step: Any) -> str:
    """Message of a step's start row."""
    return f"Step '{step_label(step)}' started"


def step_completed(step: Any, duration_ms: int) -> str:
    """Message of a step's success row."""
    return f"Step '{step_label(step)}' completed in {duration_ms / 1000:.1f} s"


def step_failed(tool: str) -> str:
    """Message of a step's failure row: what the tool would say."""
    return FAILURE_MESSAGES.get(tool, "Step failed")


def awaiting_approval(step: Any) -> str:
    """Message of the row written when a run reaches a gate: the gate's own message if it has one."""
    if isinstance(step, dict):
        tool = step.get("tool")
        if isinstance(tool, dict):
            config = tool.get("configuration")
            if isinstance(config, dict) and isinstance(config.get("message"), str):
                return str(config["message"])
    return f"Waiting for approval of '{step_label(step)}'"


def approved(by: str, note: str | None = None) -> str:
    """Message of an approval row."""
    return note if note else f"Approved by {by}"


def run_completed(run_count: int) -> str:
    """Message of the row that closes a successful run."""
    return f"Run {run_count} completed successfully"


def run_failed(run_count: int, step: Any) -> str:
    """Message of the row that closes a failed run."""
    return f"Run {run_count} failed at step '{step_label(step)}'"


def run_rejected(run_count: int, step: Any) -> str:
    """Message of the row that closes a run rejected at a gate."""
    return f"Run {run_count} was rejected at '{step_label(step)}'"


def run_stopped(run_count: int, by: str) -> str:
    """Message of a stop row."""
    return f"Run {run_count} stopped by {by}"


def pipeline_reset(by: str) -> str:
    """Message of a reset row."""
    return f"Pipeline reset by {by}"
