"""What the user is asked before an action, and what the answer adds to its audit line.

One dialog per action (confirm, reject with a reason, delete with a typed phrase, edit, clone),
built from the targets as the server named them; the confirmation also says which gate is
approved and who is skipped. An action on ten thousand pipelines makes a :class:`Target` only for
the rows the dialog lists (:class:`~opstui.tui.slices.Mapped`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual.app import App

from opstui.api import Pipeline, Task
from opstui.tui.flights import Kind
from opstui.tui.format import safe_text
from opstui.tui.outcomes import MAX_LISTED, VERBS, listed
from opstui.tui.slices import Mapped

if TYPE_CHECKING:
    from opstui.tui.dialogs import Target

__all__ = ["DANGEROUS", "ask", "audit_details", "confirm_detail", "name_of"]

DANGEROUS = frozenset({"stop", "reset", "reject", "delete"})
"""Actions whose dialog is styled as destructive."""


def name_of(item: Pipeline | Task) -> str:
    """How a target is named in a sentence: its name (else its id), made safe, 60 cells at most."""
    return safe_text(item.name or item.id, 60)


def _target(item: Pipeline | Task) -> Target:
    from opstui.tui.dialogs import Target

    return Target(name=safe_text(item.name), id=item.id)


def confirm_detail(
    action: str,
    items: Sequence[Pipeline | Task],
    blocked: Sequence[tuple[Pipeline | Task, str]],
) -> str | None:
    """What a confirmation should say besides the targets: the gate, and who is skipped."""
    lines = []
    if action == "approve" and len(items) == 1 and isinstance(items[0], Pipeline):
        gate = items[0].gate
        if gate is not None:
            lines.append(f"Gate: {safe_text(gate.name, 60)} · run #{items[0].run_count}")
    if blocked:
        # The first few by name (a dialog over 10,000 marked must not wrap 10,000 reasons).
        reasons = listed([f"{name_of(i)} {reason}" for i, reason in blocked[: MAX_LISTED + 1]])
        many = f"{len(blocked):,} (the action does not apply): " if len(blocked) > 1 else ""
        lines.append(f"Skipping {many}{reasons}.")
    return "\n".join(lines) or None


def audit_details(action: str, answer: Any, created: Pipeline | None = None) -> dict[str, Any]:
    """What the audit line says besides the targets: the new name, the edited fields."""
    if action == "update":
        return {
            k: v
            for k, v in (("name", answer.name), ("description", answer.description))
            if v is not None
        }
    if action == "clone":
        return {"name": str(answer), "new_id": created.id if created else None}
    return {}


async def ask(
    app: App[Any],
    action: str,
    items: Sequence[Pipeline | Task],
    kind: Kind,
    detail: str | None,
) -> Any:
    """Push the dialog for ``action`` on ``items`` and wait for it; None when the user cancelled.

    What comes back is the answer the action needs: True, a reason, a :class:`PipelineEdit`, a
    new name. Call from a worker (it waits for the dialog).
    """
    # The dialogs are imported when the first is asked for, not at every start.
    from opstui.tui.dialogs import (
        CloneDialog,
        ConfirmDialog,
        DeleteDialog,
        EditPipelineDialog,
        RejectDialog,
    )

    targets = Mapped(items, _target)
    if action == "reject":
        return await app.push_screen_wait(RejectDialog(targets=targets, noun=kind))
    if action == "delete":
        deleting = await app.push_screen_wait(DeleteDialog(targets=targets, noun=kind))
        return True if deleting else None
    if action == "update":
        return await app.push_screen_wait(
            EditPipelineDialog(target=targets[0], description=items[0].description, noun=kind)
        )
    if action == "clone":
        return await app.push_screen_wait(CloneDialog(target=targets[0], noun=kind))
    confirmed = await app.push_screen_wait(
        ConfirmDialog(
            action=VERBS[action][0],
            targets=targets,
            detail=detail,
            danger=action in DANGEROUS,
            noun=kind,
        )
    )
    return True if confirmed else None
