"""``opstui audit [--since AGE] [--profile NAME] [--last N] [--json]``: the audit log, read back.

``--last N`` reads only the log's last N entries (:meth:`opstui.audit.AuditLog.tail`, the one
way the app's audit view reads it too), so a log of years answers at once.

The log is opstui's own file, but what it holds came partly from servers (names, messages):
the table shows it cleaned, the JSON lines ASCII-only, like every other output.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from opstui.audit import AuditError, AuditLog, entry_time
from opstui.cli.errors import UsageError
from opstui.cli.output import EXIT_OK, Output, clean, render_table, stamp
from opstui.config import audit_log_path

__all__ = ["audit_cmd", "audit_rows", "parse_age", "select"]

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_age(text: str) -> timedelta:
    """``90m``, ``24h``, ``2d``, ``1w`` (or ``30s``) as a duration; ArgumentTypeError otherwise."""
    match = _AGE.match(text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"{clean(text, 40)!r} is not an age: a number and a unit, e.g. 90m, 24h, 2d, 1w"
        )
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])


def _profile_of(entry: dict[str, Any]) -> str | None:
    profile = entry.get("profile")
    if isinstance(profile, str):
        return profile
    # Lines written before the profile had a field of its own: "prod (host)" in ``server``.
    server = entry.get("server")
    if isinstance(server, str) and " (" in server:
        return server.split(" (", 1)[0]
    return None


def select(
    entries: Iterable[dict[str, Any]],
    *,
    since: timedelta | None = None,
    profile: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The entries written within ``since`` and on ``profile``, oldest first (by their time;
    entries whose time cannot be read keep their place in the file, and are left out by
    ``since``)."""
    cutoff = (now or datetime.now(UTC)) - since if since is not None else None
    chosen: list[tuple[datetime | None, int, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        moment = entry_time(entry)
        if cutoff is not None and (moment is None or moment < cutoff):
            continue
        if profile is not None and _profile_of(entry) != profile:
            continue
        chosen.append((moment, index, entry))
    # Two processes may append out of time order: newest last, by time, else by place.
    floor = datetime.min.replace(tzinfo=UTC)
    chosen.sort(key=lambda item: (item[0] or floor, item[1]))
    return [entry for _, _, entry in chosen]


def _targets(entry: dict[str, Any]) -> str:
    names = []
    for target in entry.get("targets") or ():
        if isinstance(target, dict):
            names.append(clean(target.get("name") or target.get("id"), 60))
    return ", ".join(n for n in names if n) or "-"


def _outcome(entry: dict[str, Any]) -> str:
    outcomes = [o for o in entry.get("outcomes") or () if isinstance(o, dict)]
    if not outcomes:
        return "error" if entry.get("error") else "-"
    words: dict[str, int] = {}
    for outcome in outcomes:
        word = "ok" if outcome.get("ok") is True else clean(outcome.get("status"), 20) or "failed"
        words[word] = words.get(word, 0) + 1
    return ", ".join(
        f"{count} {word}" if len(outcomes) > 1 else word for word, count in words.items()
    )


def audit_rows(entries: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    """The table's rows: time, profile or host, action, targets, outcome, reason or error."""
    rows: list[tuple[str, ...]] = []
    for entry in entries:
        moment = entry_time(entry)
        action = clean(entry.get("action"), 20) or "-"
        if entry.get("type") == "task":
            action = f"task {action}"
        note = entry.get("reason") or entry.get("error") or entry.get("message") or ""
        rows.append(
            (
                stamp(moment),
                clean(_profile_of(entry) or entry.get("server"), 30) or "-",
                action,
                _targets(entry),
                _outcome(entry),
                clean(note, 200) or "-",
            )
        )
    return rows


def audit_cmd(args: argparse.Namespace, out: Output) -> int:
    """Show the audit log: a table, newest last, or the entries as JSON lines."""
    log = AuditLog(audit_log_path())
    last = getattr(args, "last", None)
    try:
        read = log.tail(last) if last is not None else log.entries()
        entries = select(read, since=args.since, profile=getattr(args, "profile", None))
    except AuditError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        for entry in entries:
            out.json(entry)
        return EXIT_OK
    if not entries:
        out.note(f"no actions recorded in {log.path}" + (" in that time" if args.since else ""))
        return EXIT_OK
    out.lines(
        render_table(
            ("TIME (UTC)", "PROFILE", "ACTION", "TARGETS", "OUTCOME", "REASON / ERROR"),
            audit_rows(entries),
            width=out.width,
            flexible=(3, 5),
        )
    )
    return EXIT_OK
