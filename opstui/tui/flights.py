"""The actions on their way, and their audit lines: each written once, even if the app ends early.

An action is "in flight" from the moment the user confirmed it until its audit line is written.
If the app ends before the server answered (quit anyway, SIGTERM), :meth:`Flights.abandon` writes
the line of each action that was sent, with the outcome unknown: the server may have applied it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opstui.api import ActionResult
from opstui.audit import AuditEntry, AuditError, AuditLog, AuditOutcome, AuditTarget

__all__ = ["CLOSED", "Flights", "InFlight"]

Kind = Literal["pipeline", "task"]

CLOSED = "the app was closed before the server answered"
"""Why an action's outcome is unknown when the app ends while it is on its way."""


@dataclass
class InFlight:
    """An action confirmed by the user and not yet audited: what an early end must record."""

    action: str
    kind: Kind
    targets: list[AuditTarget]
    """What it is for, with the names the user saw."""
    reason: str | None = None
    """The reason of a reject."""
    details: dict[str, Any] = field(default_factory=dict)
    """What else the audit line says (an edit's fields, a clone's name)."""
    sent: bool = False
    """True once the request may have left: from then on, its outcome may be applied."""
    recorded: bool = False
    """True once it needs no audit line any more (written, or nothing was sent)."""


class Flights:
    """The actions on their way, and the one place that writes their audit lines."""

    def __init__(
        self,
        audit: AuditLog,
        server: str,
        *,
        warn: Callable[[str], None],
        profile: str | None = None,
        base_url: str | None = None,
    ) -> None:
        """``warn`` tells the user, in a sentence, that an audit line could not be written."""
        self.audit = audit
        self.server = server
        self.profile = profile
        self.base_url = base_url
        self._warn = warn
        self._flights: list[InFlight] = []

    @property
    def in_flight(self) -> list[InFlight]:
        """The actions confirmed and not yet audited, oldest first."""
        return [flight for flight in self._flights if not flight.recorded]

    def begin(self, flight: InFlight) -> InFlight:
        """Track ``flight`` until :meth:`end`."""
        self._flights.append(flight)
        return flight

    def end(self, flight: InFlight) -> None:
        """Stop tracking ``flight`` (its action is over, one way or another)."""
        if flight in self._flights:
            self._flights.remove(flight)

    def abandon(self, why: str = CLOSED) -> int:
        """Audit every action that was sent and is still unanswered, as unknown; return how many."""
        abandoned = [flight for flight in self.in_flight if flight.sent]
        for flight in abandoned:
            self.record_unknown(flight, why, warn=False)
        return len(abandoned)

    def record_unknown(self, flight: InFlight, message: str, *, warn: bool = True) -> None:
        """The audit line of an action whose outcome nobody knows (the outcome-unknown rule:
        ``error`` is ``outcome unknown: <message>``, each target ``unknown``)."""
        outcomes = [AuditOutcome(t.id, False, "unknown", message) for t in flight.targets]
        self.record(flight, outcomes=outcomes, error=f"outcome unknown: {message}", warn=warn)

    def record(
        self,
        flight: InFlight,
        *,
        outcomes: ActionResult | Sequence[AuditOutcome] = (),
        error: str | None = None,
        warn: bool = True,
    ) -> None:
        """Write ``flight``'s audit line, once (a second call does nothing)."""
        if flight.recorded:
            return
        flight.recorded = True
        message = outcomes.message or None if isinstance(outcomes, ActionResult) else None
        if isinstance(outcomes, ActionResult):
            outcomes = [
                AuditOutcome(o.target, o.ok, o.status, o.message) for o in outcomes.outcomes
            ]
        entry = AuditEntry(
            action=flight.action,
            type=flight.kind,
            targets=flight.targets,
            server=self.server,
            profile=self.profile,
            base_url=self.base_url,
            message=message,
            source="tui",
            outcomes=outcomes,
            reason=flight.reason,
            error=error,
            details=flight.details,
        )
        try:
            self.audit.record(entry)
        except AuditError as exc:
            if warn:
                self._warn(f"The action was sent, but {exc}")
