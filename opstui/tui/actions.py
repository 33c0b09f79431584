"""The one path every mutating key follows.

check (``why_not``) → dialog (confirm, reason, typed name, form) → status re-check through the
client → one request with every target → outcome per target → one toast and one audit line.
An outcome that is unknown (a timeout after sending, a reset, an unreadable answer) is never
re-sent: it is audited as unknown, and the targets' status is read again to show what happened.

:meth:`ActionRunner.perform` pushes modal dialogs and waits for them, so it must be awaited from a
worker (``@work``), never from a message handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from textual.app import App

from opstui.api import (
    ActionResult,
    Listing,
    NotFoundError,
    OpseraClient,
    OpseraError,
    OutcomeUnknownError,
    Pipeline,
    Task,
)
from opstui.api.rules import why_not
from opstui.audit import AuditLog, AuditTarget
from opstui.tui.dialogs import (
    CloneDialog,
    ConfirmDialog,
    DeleteDialog,
    EditPipelineDialog,
    RejectDialog,
    Target,
)
from opstui.tui.flights import CLOSED, Flights, InFlight
from opstui.tui.format import safe_text
from opstui.tui.outcomes import (
    MAX_LISTED,
    VERBS,
    Severity,
    listed,
    recheck,
    result_message,
    unknown_message,
)

__all__ = ["CLOSED", "RECHECKED", "VERBS", "ActionRunner", "InFlight", "Performed"]

Kind = Literal["pipeline", "task"]

RECHECKED = frozenset({"run", "stop", "reset", "approve", "reject"})
"""Actions whose targets are re-checked through the server right before sending."""

DANGEROUS = frozenset({"stop", "reset", "reject", "delete"})


@dataclass(frozen=True)
class Performed:
    """What :meth:`ActionRunner.perform` did: sent (``result``) or not, and to whom."""

    action: str
    kind: Kind
    sent: list[str] = field(default_factory=list)
    """Ids the request was sent for (empty when nothing was sent)."""
    result: ActionResult | None = None
    created: Pipeline | None = None
    """The new pipeline, after a clone."""
    error: OpseraError | None = None
    succeeded: list[str] = field(default_factory=list)
    """Ids the server said it did the action for. The other sent ids failed or have an unknown
    outcome: their marks stay, so that they can be retried."""
    unknown: list[str] = field(default_factory=list)
    """Ids whose outcome is unknown (they may have been applied)."""


def _name(item: Pipeline | Task) -> str:
    return safe_text(item.name or item.id, 60)


def _gate_of(item: Pipeline | Task) -> tuple[int, str] | None:
    """The run and the gate a pipeline waits at: what an approve or reject is really about."""
    if isinstance(item, Pipeline) and item.gate is not None:
        return (item.run_count, item.gate.id)
    return None


def _detail(
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
        reasons = listed([f"{_name(i)} {reason}" for i, reason in blocked[: MAX_LISTED + 1]])
        many = f"{len(blocked):,} (the action does not apply): " if len(blocked) > 1 else ""
        lines.append(f"Skipping {many}{reasons}.")
    return "\n".join(lines) or None


def _details(action: str, answer: Any, created: Pipeline | None = None) -> dict[str, Any]:
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


class ActionRunner:
    """Runs actions for the app's screens, always behind a dialog, never twice.

    It knows what is on its way (:attr:`in_flight`), so that an app that ends early can still
    write each action's audit line, with the outcome unknown (:meth:`abandon`).
    """

    def __init__(
        self,
        app: App[Any],
        client: OpseraClient,
        audit: AuditLog,
        server: str,
        *,
        profile: str | None = None,
        base_url: str | None = None,
    ) -> None:
        self.app = app
        self.client = client
        self.flights = Flights(
            audit,
            server,
            warn=lambda text: self._notify(text, severity="error"),
            profile=profile,
            base_url=base_url,
        )
        self._in_flight: set[str] = set()
        """Ids with an action on its way: a second one for them is refused until it is done."""

    @property
    def in_flight(self) -> list[InFlight]:
        """The actions confirmed and not yet audited, oldest first."""
        return self.flights.in_flight

    def abandon(self, why: str = CLOSED) -> int:
        """Audit every action that was sent and is still unanswered, as unknown; return how many.

        Called when the app ends (quit anyway, SIGTERM): the server may have applied them.
        """
        return self.flights.abandon(why)

    def _notify(self, message: str, *, severity: Severity = "information") -> None:
        self.app.notify(
            message, severity=severity, markup=False, timeout=8 if severity == "error" else 5
        )

    async def perform(
        self,
        action: str,
        items: Sequence[Pipeline | Task],
        *,
        on_answered: Callable[[], None] | None = None,
    ) -> Performed:
        """Ask, re-check and send ``action`` for ``items``; report the outcome. Call from a worker.

        ``on_answered`` is called once, as soon as the dialog is closed (or when none opens),
        before anything goes on the network: the app uses it to allow the next action key.
        """
        called = False

        def answered() -> None:
            nonlocal called
            if not called and on_answered is not None:
                called = True
                on_answered()

        try:
            return await self._perform(action, items, answered)
        finally:
            answered()

    async def _perform(
        self, action: str, items: Sequence[Pipeline | Task], answered: Callable[[], None]
    ) -> Performed:
        kind: Kind = "task" if items and isinstance(items[0], Task) else "pipeline"
        done = Performed(action, kind)
        if not items:
            self._notify("Nothing selected.", severity="warning")
            return done
        blocked = [(item, reason) for item in items if (reason := self._why_not(action, item))]
        eligible = [item for item in items if not self._why_not(action, item)]
        if not eligible:
            self._explain(blocked)
            return done
        if action in ("update", "clone") and len(eligible) > 1:
            self._notify(f"{VERBS[action][0]} works on one {kind} at a time.", severity="warning")
            return done

        answer = await self._ask(action, eligible, kind, _detail(action, eligible, blocked))
        answered()
        if answer is None:
            return done
        claimed = {item.id for item in eligible} - self._in_flight
        eligible = [item for item in eligible if item.id in claimed]
        if not eligible:  # another action for them began while this dialog was open
            self._notify("Not sent: an action for it is already on its way.", severity="warning")
            return done
        self._in_flight |= claimed
        flight = self.flights.begin(
            InFlight(
                action,
                kind,
                [AuditTarget(item.id, safe_text(item.name, 200)) for item in eligible],
                reason=str(answer) if action == "reject" else None,
                details=_details(action, answer),
            )
        )
        try:
            return await self._send_checked(flight, eligible, answer)
        finally:
            self._in_flight -= claimed
            self.flights.end(flight)

    def _why_not(self, action: str, item: Pipeline | Task) -> str | None:
        if item.id in self._in_flight:
            return "has an action on its way already: wait for its outcome"
        return why_not(action, item)

    async def _send_checked(
        self, flight: InFlight, eligible: list[Pipeline | Task], answer: Any
    ) -> Performed:
        action, kind = flight.action, flight.kind
        if action in RECHECKED:
            eligible = await self._recheck(action, eligible, kind)
            if not eligible:  # nothing sent: nothing to audit
                return Performed(action, kind)
            kept = {item.id for item in eligible}
            flight.targets = [target for target in flight.targets if target.id in kept]
        ids = [item.id for item in eligible]
        flight.sent = True
        try:
            result, created = await self._send(action, kind, eligible, answer)
        except asyncio.CancelledError:
            self.flights.record_unknown(flight, CLOSED, warn=False)  # the app is ending
            raise
        except OutcomeUnknownError as error:
            self.flights.record_unknown(flight, error.message)
            await self._settle_unknown(action, kind, eligible, answer, whole=True)
            return Performed(action, kind, ids, error=error, unknown=ids)
        except OpseraError as error:
            self._notify(f"{VERBS[action][0]} failed: {error.message}", severity="error")
            self.flights.record(flight, error=error.message)
            return Performed(action, kind, ids, error=error)
        if created is not None:
            flight.details = _details(action, answer, created)
            self.flights.record(flight)
            self._notify(
                f"{VERBS[action][1]} {_name(eligible[0])} as {safe_text(created.name, 60)}."
            )
            return Performed(action, kind, ids, created=created, succeeded=ids)
        assert result is not None
        self.flights.record(flight, outcomes=result)
        names = {item.id: _name(item) for item in eligible}
        message = result_message(action, kind, names, result)
        if message is not None:
            self._notify(message[0], severity=message[1])
        unknown = [o.target for o in result.outcomes if o.unknown]
        if unknown:
            unsure = [item for item in eligible if item.id in set(unknown)]
            await self._settle_unknown(action, kind, unsure, answer, whole=False)
        succeeded = [o.target for o in result.outcomes if o.ok]
        return Performed(action, kind, ids, result, succeeded=succeeded, unknown=unknown)

    def _explain(self, blocked: Sequence[tuple[Pipeline | Task, str]]) -> None:
        if len(blocked) == 1:
            item, reason = blocked[0]
            self._notify(f"{_name(item)} {reason}.", severity="warning")
        else:
            self._notify(
                f"None of the {len(blocked)} selected: "
                + "; ".join(f"{_name(item)} {reason}" for item, reason in blocked[:4])
                + ("…" if len(blocked) > 4 else ""),
                severity="warning",
            )

    async def _ask(
        self, action: str, items: Sequence[Pipeline | Task], kind: Kind, detail: str | None
    ) -> Any:
        """The dialog for ``action``; None when the user cancelled."""
        targets = [Target(name=safe_text(item.name), id=item.id) for item in items]
        if action == "reject":
            return await self.app.push_screen_wait(RejectDialog(targets=targets, noun=kind))
        if action == "delete":
            return (
                True
                if await self.app.push_screen_wait(DeleteDialog(targets=targets, noun=kind))
                else None
            )
        if action == "update":
            return await self.app.push_screen_wait(
                EditPipelineDialog(target=targets[0], description=items[0].description, noun=kind)
            )
        if action == "clone":
            return await self.app.push_screen_wait(CloneDialog(target=targets[0], noun=kind))
        confirmed = await self.app.push_screen_wait(
            ConfirmDialog(
                action=VERBS[action][0],
                targets=targets,
                detail=detail,
                danger=action in DANGEROUS,
                noun=kind,
            )
        )
        return True if confirmed else None

    async def _status(self, kind: Kind, ids: list[str]) -> Sequence[Pipeline | Task]:
        if kind == "pipeline":
            return await self.client.pipeline_status(ids)
        return await self.client.task_status(ids)

    async def _recheck(
        self, action: str, items: Sequence[Pipeline | Task], kind: Kind
    ) -> list[Pipeline | Task]:
        """The items still eligible by the server's current word; says why the rest are not."""
        ids = [item.id for item in items]
        try:
            fresh = await self._status(kind, ids)
        except NotFoundError:
            # A 404 for the ids asked: none of them exists any more.
            what = _name(items[0]) if len(items) == 1 else f"none of the {len(items)} {kind}s"
            self._notify(f"Not sent: {what} no longer exists.", severity="warning")
            return []
        except OpseraError as error:
            self._notify(
                f"Not sent: could not re-check the status first ({error.message}).",
                severity="error",
            )
            return []
        if isinstance(fresh, Listing) and not fresh.complete:
            self._notify(
                "Not sent: the server's status answer carried no documents, so the status could "
                "not be re-checked first.",
                severity="error",
            )
            return []
        by_id = {item.id: item for item in fresh}
        still: list[Pipeline | Task] = []
        lost: list[str] = []
        for item in items:
            now = by_id.get(item.id)
            if now is None:
                lost.append(f"{_name(item)}: the server sent no status for it")
            elif reason := why_not(action, now):
                lost.append(f"{_name(now)} {reason}")
            elif action in ("approve", "reject") and _gate_of(now) != _gate_of(item):
                # Approving is about one gate of one run: the one the dialog showed.
                lost.append(f"{_name(now)} waits at another gate or run than the one you saw")
            else:
                still.append(now)
        if lost:
            sent = "nothing sent" if not still else f"sent for the other {len(still)}"
            self._notify(f"Not sent for {'; '.join(lost)} ({sent}).", severity="warning")
        return still

    async def _send(
        self, action: str, kind: Kind, items: Sequence[Pipeline | Task], answer: Any
    ) -> tuple[ActionResult | None, Pipeline | None]:
        client = self.client
        ids = [item.id for item in items]
        if action == "clone":
            return None, await client.clone_pipeline(ids[0], str(answer))
        if action == "update":
            edit = answer
            if kind == "task":
                return await client.update_task(
                    ids[0], name=edit.name, description=edit.description
                ), None
            return await client.update_pipeline(
                ids[0], name=edit.name, description=edit.description
            ), None
        if action == "reject":
            return await client.reject_pipelines(ids, str(answer)), None
        return await client.action(action, kind, ids), None

    async def _settle_unknown(
        self,
        action: str,
        kind: Kind,
        items: Sequence[Pipeline | Task],
        answer: Any,
        *,
        whole: bool,
    ) -> None:
        """Say the outcome is unknown, read the targets' status again, and say what it shows.

        Nothing is sent again: the re-check is a read (retried as reads are).
        """
        names = [_name(item) for item in items]
        self._notify(unknown_message(action, kind, names, whole=whole), severity="warning")
        text, severity = await recheck(self.client, action, kind, items, answer)
        self._notify(text, severity=severity)
