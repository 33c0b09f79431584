"""The audit log: one JSON line for every action taken, by the app or the command line.

An on-call engineer must be able to account for what they did: who, when, against which server,
which pipelines, with what reason, and what the server answered. The token is never written.
The file is created private (0600) and only ever appended to.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

__all__ = ["AuditEntry", "AuditError", "AuditLog", "AuditOutcome", "AuditTarget"]

Source = Literal["cli", "tui"]


class AuditError(Exception):
    """The audit log could not be written; the message is one line for a person."""


@dataclass(frozen=True, slots=True)
class AuditTarget:
    """A pipeline or task an action was aimed at."""

    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """What the server said for one target."""

    target: str
    ok: bool
    status: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    action: str
    type: str
    targets: Sequence[AuditTarget]
    server: str
    source: Source
    outcomes: Sequence[AuditOutcome] = ()
    reason: str | None = None
    error: str | None = None
    """Set when the request itself failed (no per-target outcome is known)."""
    details: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    user: str = field(default_factory=lambda: _user())

    def to_json(self) -> str:
        """The entry as one line of JSON."""
        data = asdict(self)
        data["targets"] = [asdict(t) for t in self.targets]
        data["outcomes"] = [asdict(o) for o in self.outcomes]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class AuditLog:
    """Appends :class:`AuditEntry` lines to a private file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, entry: AuditEntry) -> None:
        """Append one entry; raises AuditError when the file cannot be written."""
        line = (entry.to_json() + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}"
            ) from None

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry recorded so far, oldest first (lines that are not JSON are skipped)."""
        try:
            with self.path.open(encoding="utf-8") as handle:
                for line in handle:
                    try:
                        value = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(value, dict):
                        yield value
        except FileNotFoundError:
            return
