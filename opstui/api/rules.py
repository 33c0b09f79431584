"""Which action applies to which state: the contract's "check status before acting", in one place.

The app greys out keys with it, re-checks with it right before sending, and the command line
refuses with it; so all three say the same thing in the same words.
"""

from __future__ import annotations

from opstui.api.models import Pipeline, PipelineStatus, Task

__all__ = ["PIPELINE_ACTIONS", "TASK_ACTIONS", "why_not"]

PIPELINE_ACTIONS = ("run", "stop", "reset", "approve", "reject", "update", "clone", "delete")
TASK_ACTIONS = ("run", "stop", "update")

_ACTIVE_RUN = frozenset(
    {PipelineStatus.RUNNING, PipelineStatus.PAUSED, PipelineStatus.AWAITING_APPROVAL}
)


def why_not(action: str, item: Pipeline | Task) -> str | None:
    """Why ``action`` does not apply to ``item`` now, in a few words; None when it does."""
    status = item.status
    if action == "run":
        if not item.active:
            return "is inactive"
        if status is PipelineStatus.RUNNING:
            return "is already running"
        if status is PipelineStatus.AWAITING_APPROVAL:
            return "is waiting at an approval gate: approve or reject it"
        if status is PipelineStatus.PAUSED:
            return "is paused: reset it first"
        return None
    if action == "stop":
        return None if status in _ACTIVE_RUN else "is not running"
    if action in ("approve", "reject"):
        if isinstance(item, Task):
            return "is a task: tasks have no approval gates"
        return None if status is PipelineStatus.AWAITING_APPROVAL else "is not awaiting approval"
    if isinstance(item, Task) and action not in TASK_ACTIONS:
        return f"is a task: {action} applies to pipelines only"
    return None
