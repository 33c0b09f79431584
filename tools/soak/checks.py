"""What must hold after a soak, checked from what the gate saw, the processes said and the audit.

Each check is judged (``ok`` True or False) or, for the memory of a short run, only measured
(``ok`` None). A failed check says which process and why, with the end of its stderr.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.soak.clis import Invocation, where_it_broke
from tools.soak.gateway import Seen

DOCUMENTED_EXITS = frozenset({0, 1, 2, 3, 4})
EXIT_UNREACHABLE = 4
AUDIT_KEYS = frozenset({"action", "type", "targets", "server", "source", "outcomes", "time"})
UNREADABLE_AFTER = frozenset(
    {"hang", "truncated", "empty-200", "malformed-json", "wrong-shape", "lying-gzip"}
)
"""Faults after the simulator applied an action whose answer a client cannot read."""
MEMORY_LIMIT = 0.10
"""The app's memory at the end may be at most this much above its memory after a minute."""


@dataclass
class Check:
    """One invariant, judged or measured."""

    name: str
    ok: bool | None
    summary: str
    problems: list[str] = field(default_factory=list)


@dataclass
class AppRun:
    """What the app process left behind."""

    exit_code: int | None
    stderr: str
    summary: dict[str, Any] | None
    samples: list[dict[str, Any]]


def _tail(text: str, lines: int = 6) -> str:
    """The end of a process's stderr, indented for the report."""
    rows = [row for row in text.strip().splitlines() if row.strip()]
    return "\n".join("    " + row for row in rows[-lines:])


def _said(stderr: str) -> str:
    """For a traceback, where in opstui it broke and what was raised; else the stderr's end."""
    return where_it_broke(stderr) or _tail(stderr)


def crashes(app: AppRun, invocations: Sequence[Invocation]) -> Check:
    """No process crashed: documented exit codes only, no traceback, nothing hung."""
    problems = []
    if app.exit_code != 0 or "Traceback" in app.stderr or app.summary is None:
        problems.append(f"app: exit code {app.exit_code}\n{_said(app.stderr)}")
    for inv in invocations:
        if inv.exit_code is None:
            problems.append(f"{inv.who} `opstui {' '.join(inv.argv)}`: hung, killed")
        elif inv.exit_code not in DOCUMENTED_EXITS or inv.traceback:
            problems.append(
                f"{inv.who} `opstui {' '.join(inv.argv)}`: exit code {inv.exit_code}"
                f"{', traceback' if inv.traceback else ''}\n{inv.broke or _tail(inv.stderr_tail)}"
            )
    summary = f"{len(problems)} of {len(invocations) + 1} processes crashed or hung"
    return Check("no crash", not problems, summary, problems)


def sent_once(app: AppRun, invocations: Sequence[Invocation], seen: Sequence[Seen]) -> Check:
    """Each invocation sent at most one mutating request (exactly one with --force); the app
    sent one request per action it performed."""
    mutating: Counter[str] = Counter(s.who for s in seen if s.mutating)
    problems = []
    for inv in invocations:
        count = mutating.pop(inv.who, 0)
        if inv.action is None and count:
            problems.append(f"{inv.who} (a read, {inv.argv[0]}) sent {count} mutating requests")
        elif count > 1:
            problems.append(f"{inv.who} `opstui {' '.join(inv.argv)}` sent it {count} times")
        elif inv.force and count == 0 and inv.exit_code not in (None, EXIT_UNREACHABLE):
            # With --force nothing stands before the send but the connection itself.
            problems.append(
                f"{inv.who} `opstui {' '.join(inv.argv)}` (--force) sent nothing, "
                f"exit {inv.exit_code}"
            )
    app_requests = mutating.pop("app", 0)
    if app.summary is None:
        problems.append(f"app: {app_requests} mutating requests, and no count of its actions")
    elif app_requests != app.summary["sent"]:
        problems.append(
            f"app: {app_requests} mutating requests for {app.summary['sent']} actions it sent"
        )
    for who, count in sorted(mutating.items()):
        problems.append(f"{count} mutating requests from an unknown sender {who!r}")
    summary = f"{sum(1 for s in seen if s.mutating)} mutating requests, {len(problems)} problems"
    return Check("nothing sent twice", not problems, summary, problems)


def parse_audit(raw: bytes) -> tuple[list[dict[str, Any]], list[str]]:
    """The audit file's entries and what is wrong with its lines (torn, not JSON, incomplete)."""
    problems = []
    if raw and not raw.endswith(b"\n"):
        problems.append("the file does not end with a newline: a line was cut")
    entries = []
    for number, line in enumerate(raw.split(b"\n")[:-1] if raw else [], start=1):
        try:
            value = json.loads(line)
        except ValueError:
            problems.append(f"line {number} is not JSON (torn or interleaved): {line[:120]!r}")
            continue
        if not isinstance(value, dict) or not value.keys() >= AUDIT_KEYS:
            problems.append(f"line {number} lacks audit fields: {line[:120]!r}")
            continue
        entries.append(value)
    return entries, problems


def audit(
    app: AppRun,
    invocations: Sequence[Invocation],
    pools: Sequence[Sequence[str]],
    raw: bytes,
    secret: str,
) -> tuple[Check, dict[str, dict[str, Any]]]:
    """Every action has its one whole line: per CLI worker in order, and one per app action.

    Also returns the CLI invocations' lines by invocation name (for the unknown-outcome figure).
    """
    entries, problems = parse_audit(raw)
    if secret.encode() in raw:
        problems.append("a token is in the audit log")
    owner = {pid: worker for worker, pool in enumerate(pools) for pid in pool}
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    tui = 0
    for entry in entries:
        if entry["source"] == "tui":
            tui += 1
            continue
        ids = [str(t.get("id")) for t in entry["targets"] if isinstance(t, dict)]
        workers = {owner.get(i, -1) for i in ids}
        if len(workers) != 1 or -1 in workers:
            problems.append(f"a CLI line names targets of no single worker: {ids}")
            continue
        lines[workers.pop()].append(entry)
    by_invocation: dict[str, dict[str, Any]] = {}
    for worker in range(len(pools)):
        expected = [
            inv
            for inv in invocations
            if inv.worker == worker and inv.action is not None and inv.exit_code is not None
        ]
        got = lines.get(worker, [])
        for index, inv in enumerate(expected):
            line = got[index] if index < len(got) else None
            named = [t.get("id") for t in line["targets"]] if line else None
            if line is None or line["action"] != inv.action or named != inv.targets:
                shown = f"{line['action']} {named}" if line else "nothing"
                problems.append(
                    f"worker {worker}: line {index + 1} should be {inv.who} "
                    f"{inv.action} {inv.targets}, is {shown} (lost or out of order)"
                )
                break
            if inv.reason is not None and line.get("reason") != inv.reason:
                problems.append(f"{inv.who}: reason {line.get('reason')!r}, sent {inv.reason!r}")
            by_invocation[inv.who] = line
        else:
            if len(got) > len(expected):
                problems.append(f"worker {worker}: {len(got) - len(expected)} lines too many")
    if app.summary is None:
        problems.append(f"app: {tui} audit lines, and no count of its actions")
    elif tui != app.summary["sent"]:
        problems.append(f"app: {tui} audit lines for {app.summary['sent']} actions sent")
    cli = sum(len(v) for v in lines.values())
    summary = f"{len(entries)} lines ({cli} cli, {tui} app), {len(problems)} problems"
    return Check("no audit line lost or torn", not problems, summary, problems), by_invocation


def unknown_outcomes(
    invocations: Sequence[Invocation], seen: Sequence[Seen], lines: dict[str, dict[str, Any]]
) -> Check:
    """Measured: actions applied whose answer was lost, audited as "outcome unknown"."""
    spoiled = {
        s.who
        for s in seen
        if s.mutating and s.fault and s.fault.split("/")[0] in UNREADABLE_AFTER
        if s.fault.endswith("/after")
    }
    problems = []
    total = 0
    for inv in invocations:
        if inv.who not in spoiled or inv.who not in lines:
            continue
        total += 1
        entry = lines[inv.who]
        error = entry.get("error") or ""
        unknown = error.startswith("outcome unknown") or any(
            o.get("status") == "unknown" for o in entry.get("outcomes", [])
        )
        if not unknown or inv.exit_code != 4:
            said = error or "; ".join(f"{o.get('status')}" for o in entry.get("outcomes", []))
            problems.append(
                f"{inv.who} `opstui {' '.join(inv.argv)}`: applied, answer lost; exit "
                f"{inv.exit_code}, audited {said!r}"
            )
    summary = f"{total - len(problems)} of {total} applied-but-unanswered CLI actions said unknown"
    return Check("outcome unknown (measured)", None, summary, problems)


def memory(app: AppRun, seconds: float) -> tuple[Check, dict[str, Any]]:
    """The app's memory: judged for runs of two minutes or more (end within 10% of minute one)."""
    samples = [(s["t"], s["rss"]) for s in app.samples]
    figures: dict[str, Any] = {}
    if len(samples) < 2:
        return Check("memory flat", False, "no memory samples from the app"), figures
    end = app.summary["rss_end"] if app.summary else samples[-1][1]
    warm = min(60.0, seconds / 4)
    later = [(t, r) for t, r in samples if t >= warm] or samples[-2:]
    base_t, base = later[0]
    mib = 2**20
    figures = {
        "rss_start_mib": round(samples[0][1] / mib, 1),
        "rss_base_mib": round(base / mib, 1),
        "rss_base_at_s": base_t,
        "rss_end_mib": round(end / mib, 1),
        "growth_pct": round((end - base) / base * 100, 1),
        "slope_mib_per_min": round(_slope(later) * 60 / mib, 2),
        "objects_base": app.samples[samples.index((base_t, base))]["objects"],
        "objects_end": app.samples[-1]["objects"],
    }
    summary = (
        f"{figures['rss_base_mib']} MiB at {base_t:g} s -> {figures['rss_end_mib']} MiB at the "
        f"end ({figures['growth_pct']:+.1f}%, {figures['slope_mib_per_min']:+.2f} MiB/min)"
    )
    if app.summary is None or app.summary.get("crashed"):
        ran = app.summary["seconds"] if app.summary else samples[-1][0]
        summary += f"; the app crashed after {ran:g} s"
        return Check("memory flat", None if seconds < 120 else False, summary), figures
    if seconds < 120:
        return Check("memory flat", None, summary + "; judged on runs of 2 min or more"), figures
    ok = end <= base * (1 + MEMORY_LIMIT)
    problems = [] if ok else [f"app memory grew {figures['growth_pct']}% after the first minute"]
    return Check("memory flat", ok, summary, problems), figures


def _slope(points: Sequence[tuple[float, int]]) -> float:
    """Least-squares bytes per second."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_r = sum(r for _, r in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return 0.0
    return sum((t - mean_t) * (r - mean_r) for t, r in points) / var
