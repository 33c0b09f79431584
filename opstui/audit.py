"""The audit log: one JSON line for every action taken, by the app or the command line.

An on-call engineer must be able to account for what they did: who, when, against which server,
which pipelines, with what reason, and what the server answered. The token is never written.
The file is created private (0600) and only ever appended to: each entry is one line, written
whole with one ``write`` under an exclusive lock and flushed to disk before the outcome is shown,
so two processes writing at once never interleave a line.

The fields, the same from the app and the command line: ``time`` (UTC, ISO 8601), ``user``,
``source`` (``cli`` or ``tui``), ``profile``, ``base_url`` (never a password in it), ``server``
(the profile and host, for a person), ``action``, ``type``, ``targets`` (``id``, ``name``),
``reason``, ``outcomes`` (per target: ``target``, ``ok``, ``status``, ``message``), ``message``
(the server's message for the whole action), ``error`` (``outcome unknown: ...`` when the outcome
is not known) and ``details``.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from opstui.config.settings import public_url

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one O_APPEND write is all there is
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "AuditOutcome",
    "AuditTarget",
    "Reported",
    "entry_time",
    "public_url",
]

Source = Literal["cli", "tui"]

_TAIL_BLOCK = 64 * 1024
"""How much of the log :meth:`AuditLog.tail` reads at a time, from the end."""


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


class Reported(Protocol):
    """What the log reads of one target's outcome: an :class:`AuditOutcome`, or the client's own
    ``ActionOutcome`` as it came (no copy of ten thousand outcomes to write them)."""

    @property
    def target(self) -> str:
        """The target's id."""

    @property
    def ok(self) -> bool:
        """Whether the server did it."""

    @property
    def status(self) -> str:
        """The server's word for it."""

    @property
    def message(self) -> str:
        """What the server said of it."""


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log."""

    action: str
    type: str
    targets: Sequence[AuditTarget]
    server: str
    source: Source
    outcomes: Sequence[Reported] = ()
    reason: str | None = None
    error: str | None = None
    """Set when the request itself failed (no per-target outcome is known)."""
    details: dict[str, Any] = field(default_factory=dict)
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    user: str = field(default_factory=lambda: _user())
    profile: str | None = None
    """The profile the action was taken on (None: the server came from the environment)."""
    base_url: str | None = None
    """The server's base URL (any ``user:password@`` in it is never written)."""
    message: str | None = None
    """The server's own message for the whole action, when it sent one."""

    def to_json(self) -> str:
        """The entry as one line of JSON."""
        # Piece by piece: a dict per target and per outcome (or ``asdict``'s deep copy) is ten
        # thousand objects for the collector on an action on 10,000 pipelines; strings are not.
        encode = _encode
        targets = ",".join(f'{{"id":{encode(t.id)},"name":{encode(t.name)}}}' for t in self.targets)
        outcomes = ",".join(
            f'{{"target":{encode(o.target)},"ok":{"true" if o.ok else "false"},'
            f'"status":{encode(o.status)},"message":{encode(o.message)}}}'
            for o in self.outcomes
        )
        fields = []
        for name in self.__slots__:
            if name == "targets":
                value = f"[{targets}]"
            elif name == "outcomes":
                value = f"[{outcomes}]"
            elif name == "base_url":
                value = encode(public_url(self.base_url))
            else:
                value = encode(getattr(self, name))
            fields.append(f"{encode(name)}:{value}")
        return "{" + ",".join(fields) + "}"


def entry_time(entry: dict[str, Any]) -> datetime | None:
    """When a recorded entry was written (UTC), or None when it does not say readably."""
    raw = entry.get("time")
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _parsed(line: str) -> dict[str, Any] | None:
    """One line of the log as an entry, or None when it is not a JSON object."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class AuditLog:
    """Appends :class:`AuditEntry` lines to a private file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, entry: AuditEntry) -> None:
        """Append one entry, whole, and flush it to disk; AuditError when it cannot be written.

        The line goes out in one ``write`` on a file opened for appending, under an exclusive
        ``flock`` (another opstui appending at the same moment waits its turn), then ``fsync``:
        when this returns, the line is on disk, and only then is the outcome shown.
        """
        line = (entry.to_json() + "\n").encode("utf-8", errors="replace")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                written = os.write(fd, line)
                while written < len(line):  # a short write (a full disk): finish the line
                    written += os.write(fd, line[written:])
                os.fsync(fd)
            finally:
                if fcntl is not None:
                    with suppress(OSError):
                        fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        except OSError as exc:
            raise AuditError(
                f"cannot write the audit log {self.path}: {exc.strerror or exc}"
            ) from None

    def tail(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` entries, oldest first; AuditError when the file cannot be read.

        Reads blocks from the end until it holds ``limit`` whole lines (or the start of the
        file), so its cost is that of the lines asked for, not of the file: a log of years reads
        as fast as a day's. Lines that are not a JSON object are skipped, as :meth:`entries`
        skips them (so a few fewer may come back). A missing file has no entries.
        """
        if limit <= 0:
            return []
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                position = handle.tell()
                data = b""
                while position > 0 and data.count(b"\n") <= limit:
                    step = min(_TAIL_BLOCK, position)
                    position -= step
                    handle.seek(position)
                    data = handle.read(step) + data
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise AuditError(
                f"cannot read the audit log {self.path}: {exc.strerror or exc}"
            ) from None
        lines = data.split(b"\n")
        if position > 0:
            lines = lines[1:]  # the first one is cut: its start lies before what was read
        if lines and not lines[-1].strip():
            lines.pop()  # after the last newline
        entries = [_parsed(line.decode("utf-8", errors="replace")) for line in lines[-limit:]]
        return [entry for entry in entries if entry is not None]

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every entry recorded so far, in the order written (lines that are not JSON objects
        are skipped); AuditError when the file exists but cannot be read."""
        try:
            with self.path.open(encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    entry = _parsed(line)
                    if entry is not None:
                        yield entry
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AuditError(
                f"cannot read the audit log {self.path}: {exc.strerror or exc}"
            ) from None
