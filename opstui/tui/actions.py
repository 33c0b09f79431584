"""The one path every mutating key follows.

check (``why_not``) → dialog (confirm, reason, typed name, form) → status re-check through the
client → one request with every target → outcome per target → notification and audit line.

:meth:`ActionRunner.perform` pushes modal dialogs and waits for them, so it must be awaited from a
worker (``@work``), never from a message handler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from textual.app import App

from opstui.api import (
    ActionResult,
    OpseraClient,
    OpseraError,
    Pipeline,
    Task,
)
from opstui.api.rules import why_not
from opstui.audit import AuditEntry, AuditError, AuditLog, AuditOutcome, AuditTarget
from opstui.tui.dialogs import (
    CloneDialog,
    ConfirmDialog,
    DeleteDialog,
    EditPipelineDialog,
    RejectDialog,
    Target,
)
from opstui.tui.format import safe_text

__all__ = ["RECHECKED", "VERBS", "ActionRunner", "Performed"]

Kind = Literal["pipeline", "task"]

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
        lines.append("Skipping " + "; ".join(f"{_name(i)} {reason}" for i, reason in blocked) + ".")
    return "\n".join(lines) or None


def _plural(count: int, kind: Kind) -> str:
    return f"{count} {kind}{'' if count == 1 else 's'}"


class ActionRunner:
    """Runs actions for the app's screens, always behind a dialog, never twice."""

    def __init__(self, app: App[Any], client: OpseraClient, audit: AuditLog, server: str) -> None:
        self.app = app
        self.client = client
        self.audit = audit
        self.server = server
        self._in_flight: set[str] = set()
        """Ids with an action on its way: a second one for them waits until it is done."""

    def _notify(
        self, message: str, *, severity: Literal["information", "warning", "error"] = "information"
    ) -> None:
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
        try:
            return await self._send_checked(action, kind, eligible, answer)
        finally:
            self._in_flight -= claimed

    def _why_not(self, action: str, item: Pipeline | Task) -> str | None:
        if item.id in self._in_flight:
            return "has an action on its way already: wait for its outcome"
        return why_not(action, item)

    async def _send_checked(
        self, action: str, kind: Kind, eligible: list[Pipeline | Task], answer: Any
    ) -> Performed:
        if action in RECHECKED:
            eligible = await self._recheck(action, eligible, kind)
            if not eligible:
                return Performed(action, kind)
        ids = [item.id for item in eligible]
        try:
            result, created = await self._send(action, kind, eligible, answer)
        except OpseraError as error:
            self._notify(f"{VERBS[action][0]} failed: {error.message}", severity="error")
            self._record(action, kind, eligible, answer, error=error.message)
            return Performed(action, kind, ids, error=error)
        self._report(action, kind, eligible, result, created)
        self._record(action, kind, eligible, answer, result=result, created=created)
        return Performed(action, kind, ids, result, created)

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

    async def _recheck(
        self, action: str, items: Sequence[Pipeline | Task], kind: Kind
    ) -> list[Pipeline | Task]:
        """The items still eligible by the server's current word; says why the rest are not."""
        ids = [item.id for item in items]
        try:
            fresh: Sequence[Pipeline | Task] = (
                await self.client.pipeline_status(ids)
                if kind == "pipeline"
                else await self.client.task_status(ids)
            )
        except OpseraError as error:
            self._notify(
                f"Not sent: could not re-check the status first ({error.message}).",
                severity="error",
            )
            return []
        by_id = {item.id: item for item in fresh}
        still: list[Pipeline | Task] = []
        lost: list[str] = []
        for item in items:
            now = by_id.get(item.id)
            if now is None:
                lost.append(f"{_name(item)} no longer exists")
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

    def _report(
        self,
        action: str,
        kind: Kind,
        items: Sequence[Pipeline | Task],
        result: ActionResult | None,
        created: Pipeline | None,
    ) -> None:
        past = VERBS[action][1]
        if created is not None:
            self._notify(f"{past} {_name(items[0])} as {safe_text(created.name, 60)}.")
            return
        assert result is not None
        names = {item.id: _name(item) for item in items}
        failed = result.failed
        succeeded = len(result.outcomes) - len(failed)
        if succeeded:
            if len(items) == 1:
                self._notify(f"{past} {names[items[0].id]}.")
            else:
                self._notify(f"{past} {succeeded} of {_plural(len(items), kind)}.")
        for outcome in failed:
            label = names.get(outcome.target, safe_text(outcome.target, 40))
            reason = safe_text(outcome.message or outcome.status or "failed", 200)
            self._notify(f"{VERBS[action][0]} failed for {label}: {reason}", severity="error")

    def _record(
        self,
        action: str,
        kind: Kind,
        items: Sequence[Pipeline | Task],
        answer: Any,
        *,
        result: ActionResult | None = None,
        created: Pipeline | None = None,
        error: str | None = None,
    ) -> None:
        details: dict[str, Any] = {}
        if action == "update":
            details = {
                k: v
                for k, v in (("name", answer.name), ("description", answer.description))
                if v is not None
            }
        elif action == "clone":
            details = {"name": str(answer), "new_id": created.id if created else None}
        outcomes = [
            AuditOutcome(o.target, o.ok, o.status, o.message)
            for o in (result.outcomes if result else [])
        ]
        entry = AuditEntry(
            action=action,
            type=kind,
            targets=[AuditTarget(item.id, safe_text(item.name, 200)) for item in items],
            server=self.server,
            source="tui",
            outcomes=outcomes,
            reason=str(answer) if action == "reject" else None,
            error=error,
            details=details,
        )
        try:
            self.audit.record(entry)
        except AuditError as exc:
            self._notify(f"The action was sent, but {exc}", severity="error")
