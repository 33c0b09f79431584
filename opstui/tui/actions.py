"""The one path every mutating key follows.

check (``why_not``) → dialog (confirm, reason, typed name, form: :mod:`~opstui.tui.asking`) →
status re-check through the client (:mod:`~opstui.tui.prechecks`) → one request with every
target → outcome per target → one toast and one audit line (:mod:`~opstui.tui.flights`).
An outcome that is unknown (a timeout after sending, a reset, an unreadable answer) is never
re-sent: it is audited as unknown, and the targets' status is read again to show what happened.

:meth:`ActionRunner.perform` pushes modal dialogs and waits for them, so it must be awaited from a
worker (``@work``), never from a message handler. A pass over every target (the rule, the
re-check, the names) is done in slices (:mod:`~opstui.tui.slices`), and the audit line is written
in a thread: an action on ten thousand pipelines leaves the event loop free for keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.app import App

from opstui.api import ActionResult, OpseraClient, OpseraError, OutcomeUnknownError, Pipeline, Task
from opstui.api.rules import why_not
from opstui.audit import AuditLog, AuditTarget
from opstui.tui.asking import ask, audit_details, confirm_detail, name_of
from opstui.tui.flights import CLOSED, Flights, InFlight, Kind
from opstui.tui.format import safe_text
from opstui.tui.outcomes import (
    VERBS,
    Severity,
    recheck,
    result_message,
    tally,
    unknown_message,
)
from opstui.tui.prechecks import RECHECKED, still_eligible
from opstui.tui.slices import Mapped, in_slices

__all__ = ["CLOSED", "RECHECKED", "VERBS", "ActionRunner", "InFlight", "Performed"]


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


BATCH = 1000
"""Targets from which an action is a batch: its re-check and its answer are a generation of new
objects (for the idle collector: :mod:`opstui.tui.memory`)."""


class _Names(Mapping[str, str]):
    """The targets' names by id, each made when a toast names it (a few of 10,000 at most);
    the index by id is made at the first name asked (a toast of successes asks none)."""

    def __init__(self, items: Sequence[Pipeline | Task]) -> None:
        self._items = items
        self._by_id: dict[str, Pipeline | Task] | None = None

    def _index(self) -> dict[str, Pipeline | Task]:
        if self._by_id is None:
            self._by_id = {item.id: item for item in self._items}
        return self._by_id

    def __getitem__(self, key: str) -> str:
        return name_of(self._index()[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._index())

    def __len__(self) -> int:
        return len(self._index())


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
            warn=lambda text: self._notify(text, "error"),
            profile=profile,
            base_url=base_url,
        )
        self._in_flight: set[str] = set()
        """Ids with an action on its way: a second one for them is refused until it is done."""

    @property
    def in_flight(self) -> list[InFlight]:
        """The actions confirmed and not yet audited, oldest first."""
        return self.flights.in_flight

    def batch_in_flight(self) -> bool:
        """Whether an action on :data:`BATCH` targets or more is on its way."""
        return any(len(flight.targets) >= BATCH for flight in self.flights.in_flight)

    def abandon(self, why: str = CLOSED) -> int:
        """Audit every action that was sent and is still unanswered, as unknown; return how many.

        Called when the app ends (quit anyway, SIGTERM): the server may have applied them.
        It waits for audit lines being written: when it returns, every line is on disk.
        """
        return self.flights.abandon(why)

    def _notify(self, message: str, severity: Severity = "information") -> None:
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
            self._notify("Nothing selected.", "warning")
            return done
        eligible: list[Pipeline | Task] = []
        blocked: list[tuple[Pipeline | Task, str]] = []
        async for part in in_slices(items):
            for item in part:
                reason = self._why_not(action, item)
                if reason:
                    blocked.append((item, reason))
                else:
                    eligible.append(item)
        if not eligible:
            self._explain(blocked)
            return done
        if action in ("update", "clone") and len(eligible) > 1:
            self._notify(f"{VERBS[action][0]} works on one {kind} at a time.", "warning")
            return done

        answer = await ask(
            self.app, action, eligible, kind, confirm_detail(action, eligible, blocked)
        )
        answered()
        if answer is None:
            return done
        claimed = {item.id for item in eligible} - self._in_flight
        if len(claimed) < len(eligible):
            eligible = [item for item in eligible if item.id in claimed]
        if not eligible:  # another action for them began while this dialog was open
            self._notify("Not sent: an action for it is already on its way.", "warning")
            return done
        self._in_flight |= claimed
        try:
            targets: list[AuditTarget] = []
            async for part in in_slices(eligible):
                targets.extend(AuditTarget(item.id, safe_text(item.name, 200)) for item in part)
            flight = self.flights.begin(
                InFlight(
                    action,
                    kind,
                    targets,
                    reason=str(answer) if action == "reject" else None,
                    details=audit_details(action, answer),
                )
            )
            try:
                return await self._send_checked(flight, eligible, answer)
            finally:
                self.flights.end(flight)
        finally:
            self._in_flight -= claimed

    def _why_not(self, action: str, item: Pipeline | Task) -> str | None:
        if item.id in self._in_flight:
            return "has an action on its way already: wait for its outcome"
        return why_not(action, item)

    async def _send_checked(
        self, flight: InFlight, eligible: list[Pipeline | Task], answer: Any
    ) -> Performed:
        action, kind = flight.action, flight.kind
        if action in RECHECKED:
            checked = await still_eligible(self.client, action, kind, eligible, self._notify)
            if not checked:  # nothing sent: nothing to audit
                return Performed(action, kind)
            if len(checked) < len(eligible):
                kept = {item.id for item in checked}
                flight.targets = [target for target in flight.targets if target.id in kept]
            eligible = checked
        ids = [item.id for item in eligible]
        flight.sent = True
        try:
            result, created = await self._send(action, kind, eligible, answer)
        except asyncio.CancelledError:
            self.flights.record_unknown(flight, CLOSED, warn=False)  # the app is ending
            raise
        except OutcomeUnknownError as error:
            await self.flights.settle_unknown(flight, error.message)
            await self._settle_unknown(action, kind, eligible, answer, whole=True)
            return Performed(action, kind, ids, error=error, unknown=ids)
        except OpseraError as error:
            await self.flights.settle(flight, error=error.message)
            self._notify(f"{VERBS[action][0]} failed: {error.message}", "error")
            return Performed(action, kind, ids, error=error)
        if created is not None:
            flight.details = audit_details(action, answer, created)
            await self.flights.settle(flight)
            self._notify(
                f"{VERBS[action][1]} {name_of(eligible[0])} as {safe_text(created.name, 60)}."
            )
            return Performed(action, kind, ids, created=created, succeeded=ids)
        assert result is not None
        await self.flights.settle(flight, outcomes=result)
        counted = await tally(result)
        message = result_message(action, kind, _Names(eligible), counted)
        if message is not None:
            self._notify(*message)
        unknown = [o.target for o in counted.unknown]
        if unknown:
            unsure_ids = set(unknown)
            unsure = [item for item in eligible if item.id in unsure_ids]
            await self._settle_unknown(action, kind, unsure, answer, whole=False)
        succeeded = [o.target for o in counted.succeeded]
        return Performed(action, kind, ids, result, succeeded=succeeded, unknown=unknown)

    def _explain(self, blocked: Sequence[tuple[Pipeline | Task, str]]) -> None:
        if len(blocked) == 1:
            item, reason = blocked[0]
            self._notify(f"{name_of(item)} {reason}.", "warning")
        else:
            self._notify(
                f"None of the {len(blocked)} selected: "
                + "; ".join(f"{name_of(item)} {reason}" for item, reason in blocked[:4])
                + ("…" if len(blocked) > 4 else ""),
                "warning",
            )

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
        names = Mapped(items, name_of)
        self._notify(unknown_message(action, kind, names, whole=whole), "warning")
        self._notify(*await recheck(self.client, action, kind, items, answer))
