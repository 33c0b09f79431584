"""What ``opstui doctor`` can learn of a token's scope: what it claims, and whether it may act,
without acting.

Opsera's tokens each carry one scope (``api``, ``api-readonly``, ...), and a wrong scope answers
403 (``docs/opsera-api.md``). A JWT names its scope in its claims (:func:`claimed_scopes`, read
unverified: only the words leave). An opaque token does not say it, so doctor asks the server
with a request that cannot change anything: a ``stop`` aimed at :data:`PROBE_ID`, a pipeline id
that cannot exist (24 zeros: an ObjectId made at the Unix epoch). A token the server lets act
gets past the scope check and is answered "not found" (404, or a failure for that id in a 200);
a read-only one is refused (403) before anything is looked up. The simulator does exactly that.

What it cannot know: whether a real tenant checks the user's role on each pipeline before the
scope (then a 403 means "no rights on that pipeline", and a token allowed here may still be
refused on a pipeline whose role says no). The check's hint says so.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from opstui.api import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    OpseraClient,
    OpseraError,
    OutcomeUnknownError,
    PermissionDeniedError,
    TransportError,
)
from opstui.cli.output import clean
from opstui.config import Secret

__all__ = [
    "PROBE_ACTION",
    "PROBE_ID",
    "Probe",
    "Result",
    "claimed_scopes",
    "is_read_only_scope",
    "probe_actions",
    "scope_verdict",
]

PROBE_ID = "0" * 24
"""A pipeline id no server holds: the probe's one target."""

PROBE_ACTION = "stop"
"""The probe's action (of those a read-only token may not send, the one that only halts)."""

Verdict = Literal["may act", "read-only", "not known", "odd"]
Result = Literal["ok", "warn", "failed"]
"""A doctor's check: fine, worth a look, or in the way."""


@dataclass(frozen=True)
class Probe:
    """What the server answered the probe, and what that says of the token."""

    verdict: Verdict
    """``may act`` (past the scope check), ``read-only`` (403), ``not known`` (no usable answer),
    ``odd`` (it said the impossible pipeline was stopped)."""
    answer: str
    """What the server said, for a person (``404 not found``, ``403: ...``)."""


def _b64json(part: str) -> Any:
    padded = part + "=" * (-len(part) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        return None


def claimed_scopes(token: Secret) -> list[str] | None:
    """The scopes a JWT token names in its claims (``scope``, ``scp`` or ``scopes``), unverified;
    None when the token is not a JWT or names none. Only the scope words leave this function."""
    parts = token.reveal().split(".")
    if len(parts) != 3:
        return None
    claims = _b64json(parts[1])
    del parts
    if not isinstance(claims, dict):
        return None
    for key in ("scope", "scp", "scopes"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.split()
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [v for v in value if v]
    return None


def is_read_only_scope(scopes: Sequence[str]) -> bool:
    """True when every scope named is a read-only one (``api-readonly``, ``pipeline:read``)."""
    words = [s.lower() for s in scopes]
    return bool(words) and all(
        w.endswith(("readonly", "read-only", "read_only", ":read", ".read")) for w in words
    )


async def probe_actions(client: OpseraClient) -> Probe:
    """Send the probe (once, never retried) and read its answer."""
    try:
        result = await client.action(PROBE_ACTION, "pipeline", [PROBE_ID])
    except PermissionDeniedError as exc:
        return Probe("read-only", f"403: {clean(exc.message, 200)}")
    except NotFoundError:
        return Probe("may act", "404 not found")
    except AuthenticationError as exc:
        return Probe("not known", f"401 to an action, though reads were let through: {exc.message}")
    except OutcomeUnknownError as exc:
        return Probe("not known", f"no answer read ({clean(exc.message, 200)})")
    except TransportError as exc:
        return Probe("not known", clean(exc.message, 200))
    except ApiError as exc:
        if 400 <= exc.status_code < 500:  # looked at, then refused: past the scope check
            return Probe("may act", f"HTTP {exc.status_code}: {clean(exc.message, 200)}")
        return Probe("not known", f"HTTP {exc.status_code}: {clean(exc.message, 200)}")
    except OpseraError as exc:
        return Probe("not known", clean(exc.message, 200))
    if result.ok and result.outcomes:
        return Probe("odd", f"{clean(result.status, 20)}: {clean(result.message, 200)}")
    said = result.failed[0].message if result.failed else result.message
    return Probe("may act", f"a failure for that id: {clean(said, 200) or result.status}")


def scope_verdict(probe: Probe, scopes: Sequence[str] | None) -> tuple[Result, str, str]:
    """The scope check's result, what it says and its hint, from the probe and the claims."""
    claimed = f" (scope {clean(' '.join(scopes), 120)})" if scopes else ""
    sent = f"a {PROBE_ACTION} aimed at no pipeline ({PROBE_ID}) was answered {probe.answer}"
    if probe.verdict == "read-only":
        return (
            "warn",
            f"the token is read-only{claimed}: {sent}, so every action will be refused",
            "fine for watching; to act, use a token with a write scope (a 403 may also be the "
            "user's role: doctor cannot tell the two apart)",
        )
    if probe.verdict == "may act":
        return (
            "ok",
            f"actions allowed{claimed}: {sent} (nothing changed)",
            "a pipeline's own role may still refuse an action on it",
        )
    if probe.verdict == "odd":
        return (
            "warn",
            f"{sent}: the server says it stopped a pipeline that cannot exist",
            "attach a --trace to a bug report",
        )
    if scopes is not None and is_read_only_scope(scopes):
        return (
            "warn",
            f"the token is read-only{claimed}: every action will be refused (the server's "
            f"answer could not tell: {probe.answer})",
            "fine for watching; to act, use a token with a write scope",
        )
    return (
        "warn",
        f"whether the token may act is not known{claimed}: {sent}",
        "run doctor again; an action says so if it is refused (403)",
    )
