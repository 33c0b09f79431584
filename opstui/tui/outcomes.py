"""How the outcome of an action is told: one toast per result, and what a re-check showed.

A result with many failed targets makes one toast ("Run failed for 5 of 12: a: reason; …"), not
one each. An outcome that is unknown (the request may have been applied) is never called a
failure: the app re-checks the targets' status and :func:`verdict` says what the server now shows
("deploy-web is running (run #5): the run was applied").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opstui.api import (
    ActionOutcome,
    ActionResult,
    Listing,
    NotFoundError,
    OpseraClient,
    OpseraError,
    Pipeline,
    PipelineStatus,
    Task,
)
from opstui.tui.data.pipelines import status_of
from opstui.tui.flights import Kind
from opstui.tui.format import safe_text
from opstui.tui.slices import in_slices

__all__ = [
    "MAX_LISTED",
    "NOUNS",
    "VERBS",
    "Severity",
    "Tally",
    "listed",
    "recheck",
    "result_message",
    "tally",
    "unknown_message",
    "verdict",
]

Severity = Literal["information", "warning", "error"]

VERBS: dict[str, tuple[str, str]] = {
    "run": ("Run", "Started"),
    "stop": ("Stop", "Stopped"),
    "reset": ("Reset", "Reset"),
    "approve": ("Approve", "Approved"),
    "reject": ("Reject", "Rejected"),
    "delete": ("Delete", "Deleted"),
    "update": ("Save", "Updated"),
    "clone": ("Clone", "Cloned"),
}
"""The imperative for a dialog's button and the past tense for its outcome."""

NOUNS: dict[str, str] = {
    "run": "run",
    "stop": "stop",
    "reset": "reset",
    "approve": "approval",
    "reject": "rejection",
    "delete": "delete",
    "update": "edit",
    "clone": "clone",
}
"""What one action is called in a sentence ("the approval may have been applied")."""

MAX_LISTED = 3
"""Targets named in one toast; the rest are an ellipsis."""

_ACTIVE = frozenset(
    {PipelineStatus.RUNNING, PipelineStatus.PAUSED, PipelineStatus.AWAITING_APPROVAL}
)


def listed(parts: Sequence[str]) -> str:
    """The first few ``parts``, joined by ``; ``, and ``…`` when there were more."""
    shown = "; ".join(parts[:MAX_LISTED])
    return shown + ("; …" if len(parts) > MAX_LISTED else "")


def _plural(count: int, kind: str) -> str:
    return f"{count} {kind}{'' if count == 1 else 's'}"


@dataclass
class Tally:
    """An answer's outcomes sorted by what happened (:func:`tally`)."""

    total: int
    succeeded: list[ActionOutcome] = field(default_factory=list)
    failed: list[ActionOutcome] = field(default_factory=list)
    """Neither applied nor of unknown outcome."""
    unknown: list[ActionOutcome] = field(default_factory=list)


async def tally(result: ActionResult) -> Tally:
    """``result``'s outcomes in one pass, in slices: fifty thousand outcomes read three ways
    (the toast, the marks that stay, the unknown) held the loop for tens of milliseconds."""
    counted = Tally(len(result.outcomes))
    succeeded, failed, unknown = counted.succeeded, counted.failed, counted.unknown
    async for part in in_slices(result.outcomes):
        for outcome in part:
            if outcome.ok:
                succeeded.append(outcome)
            if outcome.unknown:
                unknown.append(outcome)
            elif not outcome.ok:
                failed.append(outcome)
    return counted


def result_message(
    action: str, kind: str, names: Mapping[str, str], counted: Tally
) -> tuple[str, Severity] | None:
    """The one toast for an answer's outcomes: what succeeded, or what failed and why (None:
    only unknown).

    Targets whose outcome is unknown are left to :func:`unknown_message`: they did not fail.
    """
    verb, past = VERBS[action]
    total, failed, succeeded = counted.total, counted.failed, counted.succeeded
    if failed:
        # Only the few a toast names are made into text (of 10,000 failed, three are read).
        parts = [f"{_label(o, names)}: {_reason(o)}" for o in failed[: MAX_LISTED + 1]]
        if total == 1:
            return f"{verb} failed for {parts[0]}", "error"
        return f"{verb} failed for {len(failed)} of {total}: {listed(parts)}", "error"
    if not succeeded:
        return None
    if total == 1:
        return f"{past} {_label(succeeded[0], names)}.", "information"
    return f"{past} {len(succeeded)} of {_plural(total, kind)}.", "information"


def unknown_message(action: str, kind: str, names: Sequence[str], *, whole: bool) -> str:
    """The warning for an outcome nobody knows yet; ``whole`` when it is the whole request's.

    ``names`` may be a lazy sequence: past a few only its length is read.
    """
    noun = NOUNS[action]
    what = "it may have been created" if action == "clone" else f"the {noun} may have been applied"
    if whole and len(names) <= 1:
        return f"Outcome unknown: {what}; re-checking…"
    if len(names) > MAX_LISTED:
        return f"Outcome unknown for {_plural(len(names), kind)}: {what}; re-checking…"
    return f"Outcome unknown for {', '.join(names)}: {what}; re-checking…"


def _label(outcome: ActionOutcome, names: Mapping[str, str]) -> str:
    return names.get(outcome.target) or safe_text(outcome.target, 40)


def _reason(outcome: ActionOutcome) -> str:
    return safe_text(outcome.message or outcome.status or "failed", 200)


def _state(item: Pipeline | Task) -> str:
    return item.status.value


def verdict(
    action: str, before: Pipeline | Task, after: Pipeline | Task | None, answer: Any = None
) -> tuple[str, bool]:
    """What the server shows for one target after an unknown outcome, and whether it looks applied.

    ``before`` is the target as it was right before sending; ``after`` its status now (None when
    the server answered 404: it is gone); ``answer`` what the dialog returned (the edit).
    """
    name = safe_text(before.name or before.id, 60)
    noun = NOUNS[action]
    if after is None:
        if action == "delete":
            return f"{name} is gone: the delete was applied", True
        return f"{name} no longer exists", False
    if action == "delete":
        return f"{name} still exists: it seems not applied", False
    applied = _applied(action, before, after, answer)
    state = _state(after)
    if not applied:
        return (
            f"{safe_text(after.name or after.id, 60)} is still {state}: it seems not applied",
            False,
        )
    if action == "update":
        return f"{safe_text(after.name or after.id, 60)} has the edit: the edit was applied", True
    run = f" (run #{after.run_count})" if action == "run" else ""
    return f"{name} is {state}{run}: the {noun} was applied", True


def _applied(action: str, before: Pipeline | Task, after: Pipeline | Task, answer: Any) -> bool:
    if action == "run":
        return after.run_count > before.run_count
    if action == "stop":
        return after.run_count != before.run_count or after.status not in _ACTIVE
    if action == "reset":
        return after.updated_at != before.updated_at and after.status not in _ACTIVE
    if action in ("approve", "reject"):
        same_run = after.run_count == before.run_count
        if action == "reject":
            return same_run and after.status is PipelineStatus.FAILED
        gate_before = before.gate if isinstance(before, Pipeline) else None
        gate_after = after.gate if isinstance(after, Pipeline) else None
        moved_on = gate_after is None or gate_before is None or gate_after.id != gate_before.id
        return same_run and moved_on and after.status is not PipelineStatus.FAILED
    if action == "update":
        name = getattr(answer, "name", None)
        description = getattr(answer, "description", None)
        return (name is None or after.name == name) and (
            description is None or after.description == description
        )
    return after.updated_at != before.updated_at


async def recheck(
    client: OpseraClient,
    action: str,
    kind: Kind,
    items: Sequence[Pipeline | Task],
    answer: Any = None,
) -> tuple[str, Severity]:
    """Read the targets of an action with an unknown outcome again; say what the server shows.

    Only reads: the targets' status (a clone: the pipelines of its new name). Never re-sends.
    """
    if action == "clone":
        return await _recheck_clone(client, str(answer))
    names = [safe_text(item.name or item.id, 60) for item in items[: MAX_LISTED + 1]]
    ids = [item.id for item in items]
    fresh: Sequence[Pipeline | Task]
    try:
        fresh = await status_of(client, kind, ids)
    except NotFoundError:
        fresh = Listing([], complete=True)  # a 404 for them: none exists any more
    except OpseraError as error:
        return (
            f"Could not re-check {listed(names)} ({error.message}): check before trying again.",
            "warning",
        )
    if isinstance(fresh, Listing) and not fresh.complete:
        return (
            f"Could not re-check {listed(names)}: the server's answer carried no status. "
            "Check before trying again.",
            "warning",
        )
    by_id = {item.id: item for item in fresh}
    said: list[str] = []
    applied = True
    async for part in in_slices(items):
        for item in part:
            # Every target is judged; only the few the toast shows are put in words.
            text, ok = verdict(action, item, by_id.get(item.id), answer)
            applied = applied and ok
            if len(said) <= MAX_LISTED:
                said.append(text)
    return listed(said), "information" if applied else "warning"


async def _recheck_clone(client: OpseraClient, name: str) -> tuple[str, Severity]:
    shown = safe_text(name, 60)
    try:
        found = await client.list_pipelines(search=name)
    except OpseraError as error:
        return f"Could not check whether {shown} was created ({error.message}).", "warning"
    if any(pipeline.name == name for pipeline in found):
        return f"{shown} exists now: the clone was applied.", "information"
    return f"No pipeline is named {shown}: it seems not created.", "warning"
