"""The command line's actions: run, stop, reset, approve, reject, delete, update, clone, tasks.

Every action follows one path: local checks (nothing sent) → one ``status`` request for all the
targets, refused as a whole if any target does not qualify (unless ``--force``) → one action
request with every target → one printed outcome per target → one audit line.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from opstui.api import ActionResult, OpseraClient, OpseraError, Pipeline, RequestRefusedError, Task
from opstui.api.client import clean_ids as api_clean_ids
from opstui.api.rules import why_not
from opstui.audit import AuditEntry, AuditError, AuditLog, AuditOutcome, AuditTarget
from opstui.cli_output import Output, clean, duration, waited_seconds
from opstui.cli_reads import connect
from opstui.config import Settings

__all__ = ["UsageError", "cmd_action", "cmd_clone", "cmd_update", "server_text"]

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


class UsageError(Exception):
    """The command line asks for something that cannot be sent (exit 2, nothing sent)."""


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

    def write(self, settings: Settings, out: Output) -> None:
        entry = AuditEntry(
            action=self.action,
            type=self.kind,
            targets=[AuditTarget(i, self.names.get(i, "")) for i in self.ids],
            server=server_text(settings),
            source="cli",
            outcomes=self.outcomes,
            reason=self.reason,
            error=self.error,
            details=self.details,
        )
        try:
            AuditLog(settings.audit_log).record(entry)
        except AuditError as exc:
            out.warn(f"{exc} (the action was still taken)")


@contextmanager
def _audited(audit: _Audit, settings: Settings, out: Output) -> Iterator[_Audit]:
    """Write ``audit`` when the block ends, with the error that ended it, if any."""
    try:
        yield audit
    except OpseraError as error:
        audit.error = audit.error or error.message
        raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        audit.error = audit.error or "interrupted: the outcome is not known"
        raise
    finally:
        audit.write(settings, out)


async def _fetch(client: OpseraClient, kind: Kind, ids: list[str]) -> dict[str, Pipeline | Task]:
    items: Sequence[Pipeline | Task] = (
        await client.pipeline_status(ids) if kind == "pipeline" else await client.task_status(ids)
    )
    return {item.id: item for item in items}


async def _check(
    client: OpseraClient, action: str, kind: Kind, ids: list[str], audit: _Audit, out: Output
) -> dict[str, Pipeline | Task] | None:
    """The contract's "check status first": one request; None (and why, per target) if refused."""
    found = await _fetch(client, kind, ids)
    audit.names.update({i: clean(item.name, 120) for i, item in found.items() if item.name})
    refused: list[tuple[str, str]] = []
    for item_id in ids:
        item = found.get(item_id)
        reason = "not found" if item is None else why_not(action, item)
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
    if len(refused) == len(ids):
        summary = f"nothing sent: {action} does not apply to the {kinds} given"
    else:
        summary = (
            f"nothing sent: {len(refused)} of {len(ids)} {kinds} cannot be {PAST[action]} now, so "
            f"none were; leave them out, or use --force to send for all {len(ids)}"
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


def _report(
    result: ActionResult,
    found: dict[str, Pipeline | Task],
    audit: _Audit,
    out: Output,
) -> int:
    now = datetime.now(UTC)
    gated = result.action in ("approve", "reject")
    for outcome in result.outcomes:
        audit.outcomes.append(
            AuditOutcome(outcome.target, outcome.ok, outcome.status, outcome.message)
        )
        label = _label(outcome.target, audit.names)
        gate = _gate_note(found.get(outcome.target), now) if gated else ""
        message = clean(outcome.message, 300)
        if outcome.ok:
            word = PAST[result.action] if gated else "ok"
            if not message and outcome.run_count is not None:
                message = f"run {outcome.run_count} started"
            tail = "" if gated or not message else f": {message}"
            out.line(f"{word:<8}  {label}{gate}{tail}")
        else:
            reason = message or clean(outcome.status, 40) or "failed"
            out.line(f"{'failed':<8}  {label}{gate}: {reason}")
    if not result.outcomes:
        out.line(f"{'ok':<8}  {clean(result.message) or 'sent'}")
    return 0 if result.ok else 1


def _confirm_delete(ids: list[str], names: dict[str, str], out: Output) -> bool:
    """Ask on the terminal; anything but y/yes (or end of input) is no."""
    count = len(ids)
    out.note(f"Delete {count} pipeline{'s' if count != 1 else ''}? This cannot be undone:")
    for item_id in ids:
        out.note(f"  {_label(item_id, names)}")
    sys.stderr.write("Delete? [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


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
                    return 1
                found = checked
            if interactive and not _confirm_delete(ids, audit.names, out):
                audit.error = "not confirmed: nothing sent"
                out.error("not confirmed: nothing was deleted")
                return 1
            if action == "reject":
                assert reason is not None
                result = await client.reject_pipelines(ids, reason)
            else:
                result = await client.action(action, kind, ids)
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
                    return 1
                found = checked
            result = await client.update_pipeline(
                ids[0], name=args.name, description=args.description
            )
            return _report(result, found, audit, out)


async def cmd_clone(args: argparse.Namespace, settings: Settings, out: Output) -> int:
    """``opstui clone ID --name NEW``: fetch, copy under a new name, create."""
    ids = clean_ids([args.id], "pipeline")
    new_name = args.name.strip()
    if not new_name:
        raise UsageError("the clone needs a name: --name NEW")
    async with connect(settings) as client:
        with _audited(
            _Audit("clone", "pipeline", ids, details={"name": new_name}), settings, out
        ) as audit:
            created = await client.clone_pipeline(ids[0], new_name)
            audit.details["new_id"] = created.id
            audit.outcomes.append(AuditOutcome(ids[0], True, "created", created.id))
            out.line(f"{'cloned':<8}  {ids[0]} as {clean(created.name, 120)} ({created.id})")
            return 0


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False
