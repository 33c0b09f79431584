"""The actions on their way, and their audit lines: each written once, even if the app ends early.

An action is "in flight" from the moment the user confirmed it until its audit line is written.
If the app ends before the server answered (quit anyway, SIGTERM), :meth:`Flights.abandon` writes
the line of each action that was sent, with the outcome unknown: the server may have applied it.

The line of an answered action is made and written in a thread (:meth:`Flights.settle`): for an
action on 10,000 pipelines it is a megabyte of JSON and an ``fsync``, which the event loop must not
wait for. The thread is the one audit writer (lines land in the order they were settled), and
:meth:`Flights.abandon` waits for it: a line being written when the app ends is on disk before
the app is gone.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from opstui.api import ActionResult
from opstui.audit import AuditEntry, AuditError, AuditLog, AuditTarget, Reported
from opstui.tui.slices import Mapped

__all__ = ["CLOSED", "Flights", "InFlight"]

Kind = Literal["pipeline", "task"]

CLOSED = "the app was closed before the server answered"
"""Why an action's outcome is unknown when the app ends while it is on its way."""

_writer: concurrent.futures.ThreadPoolExecutor | None = None
_writer_lock = threading.Lock()


def _audit_writer() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread that writes audit lines off the loop (one, so lines keep their order).

    Its thread is joined when the interpreter ends, after the lines queued before.
    """
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="opstui-audit")
        return _writer


@dataclass(frozen=True, slots=True)
class _Unknown:
    """One target's outcome when nobody knows it (made when the line is written, not before)."""

    target: str
    message: str
    ok: bool = False
    status: str = "unknown"


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
        self._writing: set[concurrent.futures.Future[None]] = set()
        """Lines handed to the writer thread and not yet written."""

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
        """Audit every action that was sent and is still unanswered, as unknown; return how many.

        First waits for the lines being written in the thread: when this returns, every action
        sent has its line on disk.
        """
        self.wait_written()
        abandoned = [flight for flight in self.in_flight if flight.sent]
        for flight in abandoned:
            self.record_unknown(flight, why, warn=False)
        return len(abandoned)

    def wait_written(self) -> None:
        """Block until every line handed to the writer thread is written (or failed)."""
        concurrent.futures.wait(list(self._writing))

    def record_unknown(self, flight: InFlight, message: str, *, warn: bool = True) -> None:
        """The audit line of an action whose outcome nobody knows (the outcome-unknown rule:
        ``error`` is ``outcome unknown: <message>``, each target ``unknown``), written now."""
        self.record(flight, **self._unknown(flight, message), warn=warn)

    async def settle_unknown(self, flight: InFlight, message: str) -> None:
        """:meth:`record_unknown`, written in the writer thread (see :meth:`settle`)."""
        await self.settle(flight, **self._unknown(flight, message))

    @staticmethod
    def _unknown(flight: InFlight, message: str) -> dict[str, Any]:
        return {
            "outcomes": Mapped(flight.targets, lambda target: _Unknown(target.id, message)),
            "error": f"outcome unknown: {message}",
        }

    def record(
        self,
        flight: InFlight,
        *,
        outcomes: ActionResult | Sequence[Reported] = (),
        error: str | None = None,
        warn: bool = True,
    ) -> None:
        """Write ``flight``'s audit line now, once (a second call does nothing)."""
        if flight.recorded:
            return
        flight.recorded = True
        try:
            self.audit.record(self._entry(flight, outcomes, error))
        except AuditError as exc:
            if warn:
                self._warn(f"The action was sent, but {exc}")

    async def settle(
        self,
        flight: InFlight,
        *,
        outcomes: ActionResult | Sequence[Reported] = (),
        error: str | None = None,
    ) -> None:
        """Write ``flight``'s audit line once, in the writer thread; return when it is on disk.

        From the call on the action is no longer in flight (its answer is known) and
        :meth:`abandon` waits for the line instead of writing another. Cancelling the caller
        (the app is ending) does not cancel the write.
        """
        if flight.recorded:
            return
        flight.recorded = True
        entry = self._entry(flight, outcomes, error)
        written = _audit_writer().submit(self.audit.record, entry)
        self._writing.add(written)
        written.add_done_callback(self._writing.discard)
        try:
            await asyncio.shield(asyncio.wrap_future(written))
        except AuditError as exc:
            self._warn(f"The action was sent, but {exc}")

    def _entry(
        self,
        flight: InFlight,
        outcomes: ActionResult | Sequence[Reported],
        error: str | None,
    ) -> AuditEntry:
        message = outcomes.message or None if isinstance(outcomes, ActionResult) else None
        return AuditEntry(
            action=flight.action,
            type=flight.kind,
            targets=flight.targets,
            server=self.server,
            profile=self.profile,
            base_url=self.base_url,
            message=message,
            source="tui",
            outcomes=outcomes.outcomes if isinstance(outcomes, ActionResult) else outcomes,
            reason=flight.reason,
            error=error,
            details=flight.details,
        )
