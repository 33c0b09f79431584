"""The soak's driver: a simulator behind the gate, one headless app, ten CLI loops, then checks.

:func:`run_soak` runs it all on 127.0.0.1 and returns a :class:`SoakResult` (the checks and the
figures); :func:`render` prints it as a table. ``python -m tools.soak`` is the command.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from opstui.sim.clock import RealClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from tools.soak import checks
from tools.soak.checks import AppRun, Check
from tools.soak.clis import CliLoad, Invocation, environment
from tools.soak.faults import FaultMix
from tools.soak.gateway import Gateway, Seen, token_for

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_SERVER_LOGS = (
    "ASGI callable returned without completing response",
    "timeout graceful shutdown exceeded",
)
"""What uvicorn logs on purpose: for the ``truncated`` fault, and when the soak ends while a
``hang`` fault still holds a request (uvicorn cancels it, and says so)."""


@dataclass(frozen=True)
class SoakConfig:
    """How long, how many and how hostile."""

    seconds: float = 60.0
    clis: int = 10
    fault_rate: float = 0.2
    pipelines: int = 200
    pool: int = 6
    """Pipelines per CLI worker (disjoint); the app acts on any pipeline."""
    speed: float = 30.0
    """The simulated clock's speed: runs, gates and failures churn."""
    timeout: float = 2.0
    """Every client's request timeout; a ``hang`` fault outlasts it by a second."""
    refresh: float = 1.0
    sample_every: float = 2.0
    seed: int = 7
    out: Path | None = None
    """Where the logs go (default: a new temporary directory)."""


@dataclass
class SoakResult:
    """The checks, the figures, and where the logs are."""

    config: SoakConfig
    checks: list[Check]
    figures: dict[str, Any]
    out: Path
    struck: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every judged check held."""
        return all(check.ok is not False for check in self.checks)

    def to_json(self) -> dict[str, Any]:
        """Everything, for ``soak.json``."""
        config = asdict(self.config)
        config["out"] = str(self.out)
        return {
            "ok": self.ok,
            "config": config,
            "checks": [asdict(check) for check in self.checks],
            "figures": self.figures,
            "faults_struck": self.struck,
        }


class _ServerLog(logging.Handler):
    """Keeps what the simulator and uvicorn log (except the expected), off the console."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, asyncio.CancelledError) and "graceful shutdown" in str(error):
            return  # the hanging request the shutdown cancelled (above), its traceback
        if not any(expected in text for expected in EXPECTED_SERVER_LOGS):
            self.records.append(self.format(record))


def _capture_server_logs() -> _ServerLog:
    handler = _ServerLog()
    for name in ("opstui.sim", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
    return handler


def _start_app(config: SoakConfig, url: str, secret: str, out: Path) -> subprocess.Popen[bytes]:
    env = environment(url, token_for("app", secret), out / "audit.log", out)
    env["PYTHONPATH"] = str(ROOT)
    argv = [
        sys.executable,
        "-m",
        "tools.soak.app_runner",
        f"--base-url={url}",
        f"--seconds={config.seconds}",
        f"--audit-log={out / 'audit.log'}",
        f"--samples={out / 'app-memory.jsonl'}",
        f"--summary={out / 'app-summary.json'}",
        f"--ready={out / 'app-ready'}",
        f"--timeout={config.timeout}",
        f"--refresh={config.refresh}",
        f"--sample-every={config.sample_every}",
        f"--seed={config.seed}",
    ]
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=(out / "app-stdout.txt").open("wb"),
        stderr=(out / "app-stderr.txt").open("wb"),
    )


def _wait_ready(process: subprocess.Popen[bytes], ready: Path, limit: float = 120.0) -> None:
    """Until the app is up (its start on a loaded machine must not eat into the soak)."""
    deadline = time.monotonic() + limit
    while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)


def _wait_app(process: subprocess.Popen[bytes], config: SoakConfig, out: Path) -> AppRun:
    try:
        code: int | None = process.wait(timeout=config.seconds + 4 * config.timeout + 90)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        code = None
    stderr = (out / "app-stderr.txt").read_text("utf-8", "replace")
    if code is None:
        stderr += "\n(the app did not exit in time and was killed)"
    summary_path = out / "app-summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    samples_path = out / "app-memory.jsonl"
    samples = (
        [json.loads(line) for line in samples_path.read_text().splitlines() if line.strip()]
        if samples_path.exists()
        else []
    )
    return AppRun(code, stderr, summary, samples)


def run_soak(config: SoakConfig) -> SoakResult:
    """Run the soak; nothing raised for what it finds (that is in the checks)."""
    out = config.out or Path(tempfile.mkdtemp(prefix="opstui-soak-"))
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("audit.log", "app-memory.jsonl", "app-summary.json", "app-ready"):
        (out / stale).unlink(missing_ok=True)
    secret = secrets.token_hex(12)
    sim_token = secrets.token_urlsafe(18)
    world = World(
        seed=config.seed, pipelines=config.pipelines, tasks=4, clock=RealClock(config.speed)
    )
    server = SimServer(world, token=sim_token)
    faults = FaultMix(config.fault_rate, seed=config.seed) if config.fault_rate > 0 else None
    gateway = Gateway(
        server.app, sim_token=sim_token, secret=secret, faults=faults, hang=config.timeout + 1
    )
    server.app = gateway  # type: ignore[assignment]  # served in front of the simulator
    ids = world.pipeline_ids()
    random.Random(config.seed).shuffle(ids)
    pools = [ids[w * config.pool : (w + 1) * config.pool] for w in range(config.clis)]
    if any(len(pool) < config.pool for pool in pools):
        raise ValueError(
            f"{config.pipelines} pipelines cannot give {config.clis} pools of {config.pool}"
        )
    with server:
        server_log = _capture_server_logs()  # after uvicorn configured its own logging
        launched = time.monotonic()
        app_process = _start_app(config, server.base_url, secret, out)
        _wait_ready(app_process, out / "app-ready")
        started = time.monotonic()
        load = CliLoad(
            server.base_url,
            secret,
            out / "audit.log",
            out,
            pools,
            timeout=config.timeout,
            seed=config.seed,
        )
        load.run(config.seconds)
        app = _wait_app(app_process, config, out)
        elapsed = time.monotonic() - started
    raw = (out / "audit.log").read_bytes() if (out / "audit.log").exists() else b""
    invocations = sorted(load.invocations, key=lambda inv: inv.who)
    seen = list(gateway.seen)
    audit_check, lines = checks.audit(app, invocations, pools, raw, secret)
    memory_check, memory_figures = checks.memory(app, config.seconds)
    found = [
        checks.crashes(app, invocations),
        checks.sent_once(app, invocations, seen),
        audit_check,
        memory_check,
        _leaks(app, invocations, secret),
        Check(
            "simulator healthy",
            not server_log.records,
            f"{len(server_log.records)} unexpected server log records",
            server_log.records[:20],
        ),
        checks.unknown_outcomes(invocations, seen, lines),
    ]
    figures = _figures(config, elapsed, app, invocations, seen, gateway.struck, memory_figures)
    figures["app_start_s"] = round(started - launched, 1)
    result = SoakResult(config, found, figures, out, dict(sorted(gateway.struck.items())))
    (out / "soak.json").write_text(json.dumps(result.to_json(), indent=2), encoding="utf-8")
    _write_invocations(out, invocations)
    with (out / "requests.jsonl").open("w", encoding="utf-8") as handle:
        for request in seen:
            handle.write(json.dumps(asdict(request)) + "\n")
    return result


def _leaks(app: AppRun, invocations: list[Invocation], secret: str) -> Check:
    problems = [f"{inv.who}: the token is in its output" for inv in invocations if inv.leaked]
    if secret in app.stderr:
        problems.append("app: the token is in its stderr")
    return Check("token never shown", not problems, f"{len(problems)} leaks", problems)


def _write_invocations(out: Path, invocations: list[Invocation]) -> None:
    with (out / "cli-invocations.jsonl").open("w", encoding="utf-8") as handle:
        for inv in invocations:
            handle.write(json.dumps(asdict(inv)) + "\n")


def _figures(
    config: SoakConfig,
    elapsed: float,
    app: AppRun,
    invocations: list[Invocation],
    seen: list[Seen],
    struck: Counter[str],
    memory: dict[str, Any],
) -> dict[str, Any]:
    requests = len(seen)
    faults = sum(struck.values())
    exits = Counter(str(inv.exit_code) for inv in invocations)
    actions = Counter(inv.action or f"read:{inv.argv[0]}" for inv in invocations)
    durations = sorted(inv.seconds for inv in invocations)
    summary = app.summary or {}
    return {
        "seconds": round(elapsed, 1),
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1) if elapsed else 0,
        "requests_app": sum(1 for s in seen if s.who == "app"),
        "requests_cli": sum(1 for s in seen if s.who.startswith("cli")),
        "mutating_requests": sum(1 for s in seen if s.mutating),
        "faults": faults,
        "fault_pct": round(faults / requests * 100, 1) if requests else 0,
        "cli_invocations": len(invocations),
        "cli_per_s": round(len(invocations) / elapsed, 2) if elapsed else 0,
        "cli_median_s": round(durations[len(durations) // 2], 2) if durations else 0,
        "cli_exit_codes": dict(sorted(exits.items())),
        "cli_commands": dict(sorted(actions.items())),
        "app_keys": summary.get("keys", 0),
        "app_actions_sent": summary.get("sent", 0),
        "app_actions_failed": summary.get("sent_errors", 0),
        "app_toasts": summary.get("toasts", 0),
        "app_dialogs": summary.get("dialogs", {}),
        "app_longest_stall_s": summary.get("longest_stall_s"),
        "app_stalls_over_half_s": summary.get("stalls_over_half_s"),
        **memory,
    }


def render(result: SoakResult) -> str:
    """The figures and the checks as a small table, then each problem found."""
    f = result.figures
    c = result.config
    rows = [
        (
            "run",
            f"{f['seconds']} s, {c.clis} CLI loops + 1 app, {c.pipelines} pipelines "
            f"(the app took {f['app_start_s']} s to start, before the clock)",
        ),
        (
            "requests",
            f"{f['requests']} ({f['requests_per_s']}/s; app {f['requests_app']}, "
            f"cli {f['requests_cli']}; {f['mutating_requests']} mutating)",
        ),
        (
            "faults struck",
            f"{f['faults']} ({f['fault_pct']}% of requests; target {c.fault_rate:.0%})",
        ),
        (
            "cli invocations",
            f"{f['cli_invocations']} ({f['cli_per_s']}/s, median "
            f"{f['cli_median_s']} s); exit codes {f['cli_exit_codes']}",
        ),
        (
            "app",
            f"{f['app_keys']} keys, {f['app_actions_sent']} actions sent "
            f"({f['app_actions_failed']} failed), {f['app_toasts']} toasts",
        ),
    ]
    if "rss_end_mib" in f:
        rows.append(
            (
                "app memory",
                f"{f['rss_start_mib']} MiB at start, {f['rss_base_mib']} at "
                f"{f['rss_base_at_s']:g} s, {f['rss_end_mib']} at the end "
                f"({f['growth_pct']:+.1f}%, {f['slope_mib_per_min']:+.2f} MiB/min; "
                f"objects {f['objects_base']} -> {f['objects_end']})",
            )
        )
    rows.append(("faults by kind", ", ".join(f"{k} {v}" for k, v in result.struck.items())))
    lines = ["opstui soak (all on 127.0.0.1)", ""]
    width = max(len(name) for name, _ in rows)
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    lines.append("")
    for check in result.checks:
        mark = {True: "ok  ", False: "FAIL", None: "info"}[check.ok]
        lines.append(f"  {mark}  {check.name}: {check.summary}")
    for check in result.checks:
        if check.problems:
            lines.append("")
            lines.append(
                f"{check.name}: {len(check.problems)} problem(s)"
                + (", the first 8:" if len(check.problems) > 8 else ":")
            )
            for problem in check.problems[:8]:
                lines.append("  - " + problem)
    lines.append("")
    lines.append(f"logs and soak.json in {result.out}")
    lines.append("soak: " + ("ok" if result.ok else "FAILED"))
    return "\n".join(lines)
