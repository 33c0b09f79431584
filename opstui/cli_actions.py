"""The command line's actions: run, stop, reset, approve, reject, delete, update, clone, tasks.

Every action follows one path: local checks (nothing sent) → one ``status`` request for all the
targets, refused as a whole if any target does not qualify (unless ``--force``) → one action
request with every target, never sent twice → one printed outcome per target (``ok``,
``failed`` or ``unknown``) → one ``opstui: error:`` line when not every target succeeded → one
audit line, written whatever happens (an error, an unknown outcome, Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from opstui.api import (
    ActionResult,
    OpseraClient,
    OpseraError,
    OutcomeUnknownError,
    Pipeline,
    RequestRefusedError,
    Task,
)
from opstui.api.client import clean_ids as api_clean_ids
from opstui.api.rules import why_not
from opstui.audit import AuditEntry, AuditError, AuditLog, AuditOutcome, AuditTarget
from opstui.cli_output import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SERVER,
    Output,
    clean,
    duration,
    plural,
    waited_seconds,
)
from opstui.cli_reads import connect, is_complete, unread
from opstui.config import Settings

__all__ = [
    "Interrupted",
    "NotSentError",
    "UsageError",
    "cmd_action",
    "cmd_clone",
    "cmd_update",
    "server_text",
]

Kind = Literal["pipeline", "task"]

PAST = {
    "run": "started",
    "stop": "stopped",
    "reset": "reset",
    "approve": "approved",
    "reject": "rejected",
    "delete": "deleted",
    "update": "updated",
    "clone": "cloned",
}

UNKNOWN = "unknown"
"""The outcome word (stdout, audit) for a target the action may or may not have reached."""


class UsageError(Exception):
    """The command line asks for something that cannot be sent (exit 2, nothing sent)."""


class NotSentError(Exception):
    """The client failed before the action request was sent: nothing was applied."""

    def __init__(self, error: OpseraError) -> None:
        self.error = error
        """What the client raised (it decides the exit code)."""
        super().__init__(error.message)


class Interrupted(Exception):
    """Ctrl-C or SIGTERM ended a command; the audit line, if any, is already written."""

    def __init__(self, detail: str = "", signum: int | None = None) -> None:
        self.detail = detail
        """What became of the action (``nothing was sent``, or how to check), or empty."""
        self.signum = signum
        """The signal, when one was caught (None: a KeyboardInterrupt)."""
        super().__init__(detail)


def server_text(settings: Settings) -> str:
    """The server for an audit line: profile and host, never a password or a path."""
    base = settings.base_url or ""
    host = base.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2]
    if settings.profile:
        return f"{settings.profile} ({host})" if host else settings.profile
    return host or "no server"


def clean_ids(raw: Sequence[str], kind: Kind) -> list[str]:
    """Ids as given, stripped and each once; UsageError for a blank or malformed one."""
    try:
        return api_clean_ids(raw, kind)
    except RequestRefusedError as error:
        raise UsageError(error.message) from None


def _label(item_id: str, names: dict[str, str]) -> str:
    name = names.get(item_id)
    return f"{name} ({item_id})" if name else item_id


@dataclass
class _Audit:
    """The audit line being built while an action runs; written once, whatever happens."""

    action: str
    kind: Kind
    ids: list[str]
    names: dict[str, str] = field(default_factory=dict)
    outcomes: list[AuditOutcome] = field(default_factory=list)
    reason: str | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    sent: bool = False
    """True once the action request may have left: from then on, an interruption is unknown."""

    @property
    def verb(self) -> str:
        """``run``, ``task stop``, ``clone``: the action, for a sentence."""
        return f"task {self.action}" if self.kind == "task" else self.action

    def label(self, item_id: str) -> str:
        """A target as stdout names it."""
        if self.action == "clone":
            return f"clone of {_label(item_id, self.names)} as {clean(self.details.get('name'))}"
        return _label(item_id, self.names)

    def write(self, settings: Settings, out: Output) -> None:
        # Server text reaches the log too (names, messages): the token never does.
        hide = out.redact
        entry = AuditEntry(
            action=self.action,
            type=self.kind,
            targets=[AuditTarget(i, hide(self.names.get(i, ""))) for i in self.ids],
            server=server_text(settings),
            source="cli",
            outcomes=[
                AuditOutcome(o.target, o.ok, hide(o.status), hide(o.message)) for o in self.outcomes
            ],
            reason=None if self.reason is None else hide(self.reason),
            error=None if self.error is None else hide(self.error),
            details={k: hide(v) if isinstance(v, str) else v for k, v in self.details.items()},
        )
        try:
            AuditLog(settings.audit_log).record(entry)
        except AuditError as exc:
            out.warn(f"{exc} (the action was still taken)")


def _how_to_check(audit: _Audit, targets: Sequence[str]) -> str:
    """What may have happened to ``targets``, and the read that tells."""
    if audit.action == "clone":
        name = shlex.quote(clean(audit.details.get("name"), 80))
        return (
            f"the clone may have been created; check with `opstui list --search {name}` "
            "before trying again"
        )
    if audit.kind == "task":
        check = f"`opstui tasks --search {targets[0]}`" if len(targets) == 1 else "`opstui tasks`"
        return f"the {audit.verb} may have been applied; check with {check} before trying again"
    if len(targets) == 1:
        check = f"check with `opstui show {targets[0]}`"
    else:
        check = "check each with `opstui show ID`"
    return f"the {audit.verb} may have been applied; {check} before trying again"


def _unknown_text(message: str) -> str:
    """``message`` cleaned, without an ``outcome unknown:`` of its own (it is said once)."""
    text = clean(message, 300)
    prefix = "outcome unknown:"
    return text[len(prefix) :].strip() if text.lower().startswith(prefix) else text


def _mark_unknown(audit: _Audit, out: Output, targets: Sequence[str], message: str) -> None:
    """Print and audit ``targets`` as unknown (the audit's convention for an unknown outcome)."""
    text = _unknown_text(message)
    for target in targets:
        tail = f": {text}" if text else ""
        out.line(f"{UNKNOWN:<8}  {audit.label(target)}{tail}")
        audit.outcomes.append(AuditOutcome(target, False, UNKNOWN, text))
    audit.error = f"outcome unknown: {text}" if text else "outcome unknown"


def _unknown_line(audit: _Audit, unknown: Sequence[str], failed: int = 0) -> str:
    head = "outcome unknown"
    if len(unknown) < len(audit.ids):
        head += f" for {len(unknown)} of {plural(len(audit.ids), audit.kind)}"
    if failed:
        head += f" ({failed} more failed)"
    return f"{head}: {_how_to_check(audit, unknown)}"


def _outcome_unknown(audit: _Audit, out: Output, error: OutcomeUnknownError) -> int:
    """The action reached the server, and what it did is not known: never sent again."""
    _mark_unknown(audit, out, audit.ids, error.message)
    out.error(_unknown_line(audit, audit.ids))
    return EXIT_SERVER


@contextmanager
def _audited(audit: _Audit, settings: Settings, out: Output) -> Iterator[_Audit]:
    """Write ``audit`` when the block ends, with the error that ended it, if any.

    An error before the action was sent becomes :class:`NotSentError`; an interruption becomes
    :class:`Interrupted`, with the targets unknown once the request may have left.
    """
    try:
        yield audit
    except OpseraError as error:
        audit.error = audit.error or error.message
        if not audit.sent:
            raise NotSentError(error) from None
        raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        if audit.sent:
            _mark_unknown(audit, out, audit.ids, "interrupted while the request was on its way")
            raise Interrupted(_how_to_check(audit, audit.ids)) from None
        audit.error = "interrupted: nothing sent"
        raise Interrupted("nothing was sent") from None
    finally:
        audit.write(settings, out)


async def _fetch(
    client: OpseraClient, kind: Kind, ids: list[str]
) -> tuple[dict[str, Pipeline | Task], Sequence[Pipeline | Task]]:
    items: Sequence[Pipeline | Task] = (
        await client.pipeline_status(ids) if kind == "pipeline" else await client.task_status(ids)
    )
    return {item.id: item for item in items}, items


def _absent_reason(items: Sequence[Pipeline | Task]) -> str:
    """Why a target is missing from a status answer (absence alone is not deletion)."""
    if unread(items):
        return "its status could not be read"
    if not is_complete(items):
        return "its status could not be checked: the server's answer carried no documents"
    return "not found"


async def _check(
    client: OpseraClient, action: str, kind: Kind, ids: list[str], audit: _Audit, out: Output
) -> dict[str, Pipeline | Task] | None:
    """The contract's "check status first": one request; None (and why, per target) if refused."""
    found, items = await _fetch(client, kind, ids)
    audit.names.update({i: clean(item.name, 120) for i, item in found.items() if item.name})
    refused: list[tuple[str, str]] = []
    for item_id in ids:
        item = found.get(item_id)
        reason = _absent_reason(items) if item is None else why_not(action, item)
        if reason:
            refused.append((item_id, reason))
    if not refused:
        return found
    for item_id, reason in refused:
        item = found.get(item_id)
        status = f" (status: {item.status.value})" if item is not None else ""
        out.note(f"refused  {_label(item_id, audit.names)}: {reason}{status}")
        audit.outcomes.append(AuditOutcome(item_id, False, "refused", reason))
    kinds = f"{kind}s" if len(ids) > 1 else kind
    first_id, first_reason = refused[0]
    first = f"{_label(first_id, audit.names)}: {first_reason}"
    if len(refused) == 1 == len(ids):
        summary = f"nothing sent: {first}"
    elif len(refused) == len(ids):
        summary = (
            f"nothing sent: {action} does not apply to the {len(ids)} {kinds} given: "
            f"{first} (and {len(refused) - 1} more)"
        )
    else:
        summary = (
            f"nothing sent: {len(refused)} of {len(ids)} {kinds} cannot be {PAST[action]} now, so "
            f"none were ({first}); leave them out, or use --force to send for all {len(ids)}"
        )
    audit.error = summary
    out.error(summary)
    return None


def _gate_note(item: Pipeline | Task | None, now: datetime) -> str:
    if not isinstance(item, Pipeline) or item.gate is None:
        return ""
    waited = waited_seconds(item.waiting_since, now)
    text = f' at "{clean(item.gate.name, 80)}"'
    return text + (f", waited {duration(waited)}" if waited is not None else "")


def _failed_line(audit: _Audit, reasons: list[tuple[str, str]]) -> str:
    """``run failed for 1 of 3 pipelines: deploy-web: already running``."""
    target, reason = reasons[0]
    first = f"{audit.names.get(target) or target}: {reason}"
    more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
    if len(audit.ids) == 1:
        return f"{audit.verb} failed: {first}"
    return (
        f"{audit.verb} failed for {len(reasons)} of "
        f"{plural(len(audit.ids), audit.kind)}: {first}{more}"
    )


def _report(
    result: ActionResult,
    found: dict[str, Pipeline | Task],
    audit: _Audit,
    out: Output,
) -> int:
    """Each target's outcome on stdout; one error line unless all succeeded; the exit code."""
    now = datetime.now(UTC)
    gated = result.action in ("approve", "reject")
    failed: list[tuple[str, str]] = []
    unknown: list[str] = []
    for outcome in result.outcomes:
        label = _label(outcome.target, audit.names)
        message = clean(outcome.message, 300)
        if outcome.unknown:
            message = _unknown_text(message)
            unknown.append(outcome.target)
            audit.outcomes.append(AuditOutcome(outcome.target, False, UNKNOWN, message))
            out.line(f"{UNKNOWN:<8}  {label}" + (f": {message}" if message else ""))
            continue
        audit.outcomes.append(
            AuditOutcome(outcome.target, outcome.ok, outcome.status, outcome.message)
        )
        gate = _gate_note(found.get(outcome.target), now) if gated else ""
        if outcome.ok:
            word = PAST[result.action] if gated else "ok"
            if not message and outcome.run_count is not None:
                message = f"run {outcome.run_count} started"
            tail = "" if gated or not message else f": {message}"
            out.line(f"{word:<8}  {label}{gate}{tail}")
        else:
            reason = message or clean(outcome.status, 40) or "failed"
            failed.append((outcome.target, reason))
            out.line(f"{'failed':<8}  {label}{gate}: {reason}")
    if not result.outcomes:
        out.line(f"{'ok':<8}  {clean(result.message) or 'sent'}")
    if unknown:
        first = next(o for o in audit.outcomes if o.status == UNKNOWN)
        audit.error = f"outcome unknown: {first.message or 'the server did not say'}"
        out.error(_unknown_line(audit, unknown, len(failed)))
        return EXIT_SERVER
    if failed:
        out.error(_failed_line(audit, failed))
        return EXIT_FAILED
    return EXIT_OK


async def _confirm_delete(ids: list[str], names: dict[str, str], out: Output) -> bool:
    """Ask on the terminal; anything but y/yes (or end of input) is no."""
    count = len(ids)
    out.note(f"Delete {plural(count, 'pipeline')}? This cannot be undone:")
    for item_id in ids:
        out.note(f"  {_label(item_id, names)}")
    sys.stderr.write("Delete? [y/N] ")
    sys.stderr.flush()
    answer = await _read_line()
    if not answer.endswith("\n"):  # end of input: what follows starts on a line of its own
        out.note("")
    return answer.strip().lower() in ("y", "yes")


async def _read_line() -> str:
    """One line from the terminal, awaited, so that Ctrl-C and SIGTERM still end the wait."""
    loop = asyncio.get_running_loop()
    fd = sys.stdin.fileno()
    ready: asyncio.Future[None] = loop.create_future()

    def readable() -> None:
        if not ready.done():
            ready.set_result(None)

    try:
        loop.add_reader(fd, readable)
    except (NotImplementedError, ValueError, OSError):  # no readers here: wait in place
        return sys.stdin.readline()
    try:
        await ready
    finally:
        loop.remove_reader(fd)
    return os.read(fd, 4096).decode(errors="replace")


async def cmd_action(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """run, stop, reset, approve, reject, delete (pipelines) and task run/stop: one request."""
    action: str = args.action
    kind: Kind = args.kind
    ids = clean_ids(args.ids, kind)
    reason: str | None = None
    if action == "reject":
        reason = (args.reason or "").strip()
        if not reason:
            raise UsageError("reject needs a reason: --reason TEXT (it is sent to the server)")
    interactive = action == "delete" and not args.yes
    if interactive and not _stdin_is_tty():
        raise UsageError("delete needs --yes when not run on a terminal (nothing was sent)")
    async with connect(settings) as client:
        with _audited(_Audit(action, kind, ids, reason=reason), settings, out) as audit:
            found: dict[str, Pipeline | Task] = {}
            if not args.force:
                checked = await _check(client, action, kind, ids, audit, out)
                if checked is None:
                    return EXIT_FAILED
                found = checked
            if interactive and not await _confirm_delete(ids, audit.names, out):
                audit.error = "not confirmed: nothing sent"
                out.error("not confirmed: nothing was deleted")
                return EXIT_FAILED
            audit.sent = True
            try:
                if action == "reject":
                    assert reason is not None
                    result = await client.reject_pipelines(ids, reason)
                else:
                    result = await client.action(action, kind, ids)
            except OutcomeUnknownError as error:
                return _outcome_unknown(audit, out, error)
            return _report(result, found, audit, out)


async def cmd_update(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui update ID --name N --description D``: one update request, checked first."""
    ids = clean_ids([args.id], "pipeline")
    if args.name is None and args.description is None:
        raise UsageError("update needs --name and/or --description")
    if args.name is not None and not args.name.strip():
        raise UsageError("the name cannot be blank")
    details = {
        k: v for k, v in (("name", args.name), ("description", args.description)) if v is not None
    }
    async with connect(settings) as client:
        with _audited(_Audit("update", "pipeline", ids, details=details), settings, out) as audit:
            found: dict[str, Pipeline | Task] = {}
            if not args.force:
                checked = await _check(client, "update", "pipeline", ids, audit, out)
                if checked is None:
                    return EXIT_FAILED
                found = checked
            audit.sent = True
            try:
                result = await client.update_pipeline(
                    ids[0], name=args.name, description=args.description
                )
            except OutcomeUnknownError as error:
                return _outcome_unknown(audit, out, error)
            return _report(result, found, audit, out)


async def cmd_clone(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui clone ID --name NEW``: the source checked, then one create with its copy."""
    ids = clean_ids([args.id], "pipeline")
    new_name = args.name.strip()
    if not new_name:
        raise UsageError("the clone needs a name: --name NEW")
    async with connect(settings) as client:
        with _audited(
            _Audit("clone", "pipeline", ids, details={"name": new_name}), settings, out
        ) as audit:
            source = await client.get_pipeline(ids[0])
            if source.name:
                audit.names[source.id] = clean(source.name, 120)
            audit.sent = True
            try:
                created = await client.clone_pipeline(ids[0], new_name)
            except OutcomeUnknownError as error:
                return _outcome_unknown(audit, out, error)
            audit.details["new_id"] = created.id
            audit.outcomes.append(AuditOutcome(ids[0], True, "created", created.id))
            out.line(f"{'cloned':<8}  {ids[0]} as {clean(created.name, 120)} ({created.id})")
            return EXIT_OK


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False
