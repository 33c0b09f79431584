"""A pipeline's plan and status, read as Opsera's portal reads them.

From the contract ("Status, as Opsera's portal shows it today"): the word is the document's own
``state`` when it is ``failed``, ``running``, ``paused`` or ``success``; otherwise it is derived
from ``workflow.last_step`` in the portal's order. Awaiting approval comes first of all: a run
paused at an ``approval``, ``user-action`` or ``servicenow`` step, whatever ``state`` or
``last_step.status`` say. Nothing here raises on any input: a malformed workflow is ``unknown``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "APPROVAL_TOOLS",
    "PipelineStatus",
    "Step",
    "TaskStatus",
    "as_dict",
    "as_str",
    "current_step_id",
    "derive_status",
    "locate_step",
    "plan_of",
]

APPROVAL_TOOLS = frozenset({"approval", "user-action", "servicenow"})
"""The tools of a step a run waits at for a person (ServiceNow gates a change approval)."""
_APPROVER_KEYS = ("name", "email", "user", "username", "_id")


class PipelineStatus(StrEnum):
    """A pipeline's status, derived as Opsera's portal derives it."""

    AWAITING_APPROVAL = "awaiting approval"
    RUNNING = "running"
    PAUSED = "paused"
    FAILED = "failed"
    SUCCESS = "success"
    STOPPED = "stopped"
    IDLE = "idle"
    """Never ran: no last step at all."""
    UNKNOWN = "unknown"
    """The workflow is missing or malformed."""


TaskStatus = PipelineStatus
"""Tasks carry the same state words as pipelines (never ``awaiting approval``)."""

_STATE_WORDS = {
    "failed": PipelineStatus.FAILED,
    "running": PipelineStatus.RUNNING,
    "paused": PipelineStatus.PAUSED,
    "success": PipelineStatus.SUCCESS,
}


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str:
    """Text, numbers and booleans as text; anything else (objects, lists) as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return ""


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a pipeline's plan."""

    id: str
    name: str
    tool_identifier: str
    active: bool = True
    configuration: dict[str, Any] = field(default_factory=dict)

    @property
    def is_gate(self) -> bool:
        """True for an approval gate (``approval``, ``user-action`` or ``servicenow``)."""
        return self.tool_identifier in APPROVAL_TOOLS

    @property
    def approvers(self) -> list[str]:
        """Who may approve this gate, whatever the shape the server used.

        ``approvers`` may be one string, a list of strings, or a list of objects naming a person
        by ``name``, ``email``, ``user``, ``username`` or ``_id`` (the first that is set). Anything
        else (numbers, nested lists) is left out. Raw text: clean it where it is shown.
        """
        raw = self.configuration.get("approvers")
        items = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        names: list[str] = []
        for item in items:
            if isinstance(item, dict):
                item = next(
                    (
                        value
                        for key in _APPROVER_KEYS
                        if isinstance(value := item.get(key), str) and value.strip()
                    ),
                    None,
                )
            if isinstance(item, str) and item.strip():
                names.append(item.strip())
        return names

    @property
    def message(self) -> str:
        """What the gate asks (its configuration's ``message``), raw; '' if none."""
        message = self.configuration.get("message")
        return message if isinstance(message, str) else ""


def _step(item: dict[str, Any]) -> Step:
    tool = as_dict(item.get("tool"))
    return Step(
        id=as_str(item.get("_id")),
        name=as_str(item.get("name")),
        tool_identifier=as_str(tool.get("tool_identifier")),
        active=item.get("active") is not False,
        configuration=as_dict(tool.get("configuration")),
    )


def _plan_items(workflow: Any) -> list[dict[str, Any]]:
    plan = as_dict(workflow).get("plan")
    if not isinstance(plan, list):
        return []
    return [item for item in plan if isinstance(item, dict)]


def plan_of(workflow: Any) -> list[Step]:
    """The steps of ``workflow.plan``, in order (items that are not objects are left out)."""
    return [_step(item) for item in _plan_items(workflow)]


def locate_step(workflow: Any, step_id: str) -> tuple[int | None, Step | None, int]:
    """Where step ``step_id`` is in the plan: its index and the step (None, None when it is not
    there or ``step_id`` is ''), and how many steps the plan has. Only that one step is built."""
    items = _plan_items(workflow)
    if step_id:
        for index, item in enumerate(items):
            if as_str(item.get("_id")) == step_id:
                return index, _step(item), len(items)
    return None, None, len(items)


def _step_id(mark: Any) -> str:
    return as_str(as_dict(mark).get("step_id"))


def _at_gate(workflow: dict[str, Any], running: dict[str, Any]) -> bool:
    if not running.get("paused"):
        return False
    step_id = _step_id(running)
    return bool(step_id) and any(
        as_str(item.get("_id")) == step_id
        and as_str(as_dict(item.get("tool")).get("tool_identifier")) in APPROVAL_TOOLS
        for item in _plan_items(workflow)
    )


def derive_status(workflow: Any, state: Any = None) -> PipelineStatus:
    """A pipeline's status from its ``workflow`` and its own ``state`` word, as the portal shows it.

    Awaiting approval first (paused at a gate); then ``state`` when it is one of the four words
    the portal shows as they are; then ``workflow.last_step`` in the portal's order.
    """
    last_step = as_dict(workflow).get("last_step")
    running = as_dict(as_dict(last_step).get("running"))
    if isinstance(workflow, dict) and _at_gate(workflow, running):
        return PipelineStatus.AWAITING_APPROVAL
    if isinstance(state, str) and state in _STATE_WORDS:
        return _STATE_WORDS[state]
    if not isinstance(workflow, dict):
        return PipelineStatus.UNKNOWN
    if last_step is None or last_step == {}:
        return PipelineStatus.IDLE
    if not isinstance(last_step, dict):
        return PipelineStatus.UNKNOWN
    if _step_id(last_step.get("success")):
        return PipelineStatus.SUCCESS
    if _step_id(last_step.get("failed")):
        return PipelineStatus.FAILED
    if last_step.get("status") == "running":
        return PipelineStatus.RUNNING
    if last_step.get("status") == "stopped" and (
        running.get("status") == "pending" or running.get("paused")
    ):
        return PipelineStatus.PAUSED
    return PipelineStatus.STOPPED


def current_step_id(workflow: Any, status: PipelineStatus) -> str:
    """The id of the step the portal highlights for ``status`` ('' for none).

    The running step while running, paused or at a gate; the failed step after a failure; the
    succeeded step after a success; none without a ``last_step``.
    """
    last_step = as_dict(as_dict(workflow).get("last_step"))
    if status is PipelineStatus.FAILED:
        return _step_id(last_step.get("failed"))
    if status is PipelineStatus.SUCCESS:
        return _step_id(last_step.get("success"))
    return _step_id(last_step.get("running"))
