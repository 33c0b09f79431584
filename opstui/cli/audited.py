"""The audit line of one command-line action, built while it runs and written once, whatever
happens (an error, an unknown outcome, Ctrl-C or SIGTERM); and the unknown-outcome convention."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from opstui.api import OpseraError, OutcomeUnknownError
from opstui.audit import AuditEntry, AuditError, AuditLog, AuditOutcome, AuditTarget
from opstui.cli.errors import Interrupted, NotSentError
from opstui.cli.output import EXIT_SERVER, Output, clean, plural
from opstui.config import Settings

__all__ = [
    "UNKNOWN",
    "ActionAudit",
    "Kind",
    "audited",
    "label_of",
    "mark_unknown",
    "outcome_unknown",
    "server_text",
    "unknown_line",
    "unknown_text",
]

Kind = Literal["pipeline", "task"]

UNKNOWN = "unknown"
"""The outcome word (stdout, audit) for a target the action may or may not have reached."""


def server_text(settings: Settings) -> str:
    """The server for an audit line: profile and host, never a password or a path."""
    base = settings.base_url or ""
    host = base.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2]
    if settings.profile:
        return f"{settings.profile} ({host})" if host else settings.profile
    return host or "no server"


def label_of(item_id: str, names: dict[str, str]) -> str:
    name = names.get(item_id)
    return f"{name} ({item_id})" if name else item_id


@dataclass
class ActionAudit:
    """The audit line being built while an action runs; written once, whatever happens."""

    action: str
    kind: Kind
    ids: list[str]
    names: dict[str, str] = field(default_factory=dict)
    outcomes: list[AuditOutcome] = field(default_factory=list)
    reason: str | None = None
    error: str | None = None
    message: str | None = None
    """The server's own message for the whole action, when it sent one."""
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
            return f"clone of {label_of(item_id, self.names)} as {clean(self.details.get('name'))}"
        return label_of(item_id, self.names)

    def write(self, settings: Settings, out: Output) -> None:
        # Server text reaches the log too (names, messages): the token never does.
        hide = out.redact
        entry = AuditEntry(
            action=self.action,
            type=self.kind,
            targets=[AuditTarget(i, hide(self.names.get(i, ""))) for i in self.ids],
            server=server_text(settings),
            source="cli",
            profile=settings.profile,
            base_url=settings.base_url,
            message=None if self.message is None else hide(self.message),
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


def how_to_check(audit: ActionAudit, targets: Sequence[str]) -> str:
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


def unknown_text(message: str) -> str:
    """``message`` cleaned, without an ``outcome unknown:`` of its own (it is said once)."""
    text = clean(message, 300)
    prefix = "outcome unknown:"
    return text[len(prefix) :].strip() if text.lower().startswith(prefix) else text


def mark_unknown(audit: ActionAudit, out: Output, targets: Sequence[str], message: str) -> None:
    """Print and audit ``targets`` as unknown (the audit's convention for an unknown outcome)."""
    text = unknown_text(message)
    for target in targets:
        tail = f": {text}" if text else ""
        out.line(f"{UNKNOWN:<8}  {audit.label(target)}{tail}")
        audit.outcomes.append(AuditOutcome(target, False, UNKNOWN, text))
    audit.error = f"outcome unknown: {text}" if text else "outcome unknown"


def unknown_line(audit: ActionAudit, unknown: Sequence[str], failed: int = 0) -> str:
    head = "outcome unknown"
    if len(unknown) < len(audit.ids):
        head += f" for {len(unknown)} of {plural(len(audit.ids), audit.kind)}"
    if failed:
        head += f" ({failed} more failed)"
    return f"{head}: {how_to_check(audit, unknown)}"


def outcome_unknown(audit: ActionAudit, out: Output, error: OutcomeUnknownError) -> int:
    """The action reached the server, and what it did is not known: never sent again."""
    mark_unknown(audit, out, audit.ids, error.message)
    out.error(unknown_line(audit, audit.ids))
    return EXIT_SERVER


@contextmanager
def audited(audit: ActionAudit, settings: Settings, out: Output) -> Iterator[ActionAudit]:
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
            mark_unknown(audit, out, audit.ids, "interrupted while the request was on its way")
            raise Interrupted(how_to_check(audit, audit.ids)) from None
        audit.error = "interrupted: nothing sent"
        raise Interrupted("nothing was sent") from None
    finally:
        audit.write(settings, out)
