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
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from opstui.api import (
    ActionResult,
    OpseraClient,
    OutcomeUnknownError,
    Pipeline,
    RequestRefusedError,
    Task,
)
from opstui.api.client import clean_ids as api_clean_ids
from opstui.api.rules import why_not
from opstui.audit import AuditOutcome
from opstui.cli.audited import (
    UNKNOWN,
    ActionAudit,
    Kind,
    audited,
    label_of,
    outcome_unknown,
    unknown_line,
    unknown_text,
)
from opstui.cli.commands import MUTATING
from opstui.cli.errors import UsageError
from opstui.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SERVER,
    Output,
    clean,
    duration,
    plural,
    waited_seconds,
)
from opstui.cli.reads import connect, is_complete, unread
from opstui.config import Settings

__all__ = ["MUTATING", "PAST", "cmd_action", "cmd_clone", "cmd_update"]

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


def clean_ids(raw: Sequence[str], kind: Kind) -> list[str]:
    """Ids as given, stripped and each once; UsageError for a blank or malformed one."""
    try:
        return api_clean_ids(raw, kind)
    except RequestRefusedError as error:
        raise UsageError(error.message) from None


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
    client: OpseraClient, action: str, kind: Kind, ids: list[str], audit: ActionAudit, out: Output
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
        out.note(f"refused  {label_of(item_id, audit.names)}: {reason}{status}")
        audit.outcomes.append(AuditOutcome(item_id, False, "refused", reason))
    kinds = f"{kind}s" if len(ids) > 1 else kind
    first_id, first_reason = refused[0]
    first = f"{label_of(first_id, audit.names)}: {first_reason}"
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


def _failed_line(audit: ActionAudit, reasons: list[tuple[str, str]]) -> str:
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
    audit: ActionAudit,
    out: Output,
) -> int:
    """Each target's outcome on stdout; one error line unless all succeeded; the exit code."""
    now = datetime.now(UTC)
    audit.message = result.message or None
    gated = result.action in ("approve", "reject")
    failed: list[tuple[str, str]] = []
    unknown: list[str] = []
    for outcome in result.outcomes:
        label = label_of(outcome.target, audit.names)
        message = clean(outcome.message, 300)
        if outcome.unknown:
            message = unknown_text(message)
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
        out.error(unknown_line(audit, unknown, len(failed)))
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
        out.note(f"  {label_of(item_id, names)}")
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
        with audited(ActionAudit(action, kind, ids, reason=reason), settings, out) as audit:
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
                return outcome_unknown(audit, out, error)
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
        with audited(
            ActionAudit("update", "pipeline", ids, details=details), settings, out
        ) as audit:
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
                return outcome_unknown(audit, out, error)
            return _report(result, found, audit, out)


async def cmd_clone(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui clone ID --name NEW``: the source checked, then one create with its copy."""
    ids = clean_ids([args.id], "pipeline")
    new_name = args.name.strip()
    if not new_name:
        raise UsageError("the clone needs a name: --name NEW")
    async with connect(settings) as client:
        with audited(
            ActionAudit("clone", "pipeline", ids, details={"name": new_name}), settings, out
        ) as audit:
            source = await client.get_pipeline(ids[0])
            if source.name:
                audit.names[source.id] = clean(source.name, 120)
            audit.sent = True
            try:
                created = await client.clone_pipeline(ids[0], new_name)
            except OutcomeUnknownError as error:
                return outcome_unknown(audit, out, error)
            audit.details["new_id"] = created.id
            audit.outcomes.append(AuditOutcome(ids[0], True, "created", created.id))
            out.line(f"{'cloned':<8}  {ids[0]} as {clean(created.name, 120)} ({created.id})")
            return EXIT_OK


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False
