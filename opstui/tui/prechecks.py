"""The status re-check right before an action is sent: the server's word, not the table's.

The table may be seconds old. Before a run, stop, reset, approve or reject, the targets' status is
read again (``status`` reads of 1,000 targets each) and the rule is applied to what the server
says now; an approval is also held to the gate and run the dialog showed. Targets that no longer
qualify are left out, and one warning says which. Nothing is sent when the re-check cannot be
made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opstui.api import Listing, NotFoundError, OpseraClient, OpseraError, Pipeline, Task
from opstui.api.rules import why_not
from opstui.tui.asking import name_of
from opstui.tui.data.pipelines import status_of
from opstui.tui.flights import Kind
from opstui.tui.outcomes import MAX_LISTED, Severity, listed
from opstui.tui.slices import in_slices

__all__ = ["RECHECKED", "Notify", "gate_of", "still_eligible"]

RECHECKED = frozenset({"run", "stop", "reset", "approve", "reject"})
"""Actions whose targets are re-checked through the server right before sending."""

Notify = Callable[[str, Severity], None]
"""Tells the user something in one toast."""


def gate_of(item: Pipeline | Task) -> tuple[int, str] | None:
    """The run and the gate a pipeline waits at: what an approve or reject is really about."""
    if isinstance(item, Pipeline) and item.gate is not None:
        return (item.run_count, item.gate.id)
    return None


async def still_eligible(
    client: OpseraClient,
    action: str,
    kind: Kind,
    items: Sequence[Pipeline | Task],
    notify: Notify,
) -> list[Pipeline | Task]:
    """The items still eligible by the server's current word (as it sent them); says why the
    rest are not. Empty when the status could not be re-checked (nothing may be sent then)."""
    ids = [item.id for item in items]
    try:
        fresh = await status_of(client, kind, ids)
    except NotFoundError:
        # A 404 for the ids asked: none of them exists any more.
        what = name_of(items[0]) if len(items) == 1 else f"none of the {len(items)} {kind}s"
        notify(f"Not sent: {what} no longer exists.", "warning")
        return []
    except OpseraError as error:
        notify(f"Not sent: could not re-check the status first ({error.message}).", "error")
        return []
    if isinstance(fresh, Listing) and not fresh.complete:
        notify(
            "Not sent: the server's status answer carried no documents, so the status could "
            "not be re-checked first.",
            "error",
        )
        return []
    by_id = {item.id: item for item in fresh}
    still: list[Pipeline | Task] = []
    lost: list[Pipeline | Task | str] = []
    """What was left out: the item with the rule's reason to say, or the sentence itself."""
    approving = action in ("approve", "reject")
    async for part in in_slices(items):
        for item in part:
            now = by_id.get(item.id)
            if now is None:
                lost.append(f"{name_of(item)}: the server sent no status for it")
            elif why_not(action, now) is not None:
                lost.append(now)
            elif approving and gate_of(now) != gate_of(item):
                # Approving is about one gate of one run: the one the dialog showed.
                lost.append(f"{name_of(now)} waits at another gate or run than the one you saw")
            else:
                still.append(now)
    if lost:
        # The first few by name: a batch of 10,000 makes one toast, not 10,000 sentences.
        said = [
            one if isinstance(one, str) else f"{name_of(one)} {why_not(action, one)}"
            for one in lost[: MAX_LISTED + 1]
        ]
        sent = "nothing sent" if not still else f"sent for the other {len(still)}"
        many = f"{len(lost):,}: " if len(lost) > MAX_LISTED else ""
        notify(f"Not sent for {many}{listed(said)} ({sent}).", "warning")
    return still
