"""The soak's command-line load: workers that each run ``opstui`` again and again.

A worker owns a few pipelines no other worker touches and loops until its deadline: mostly
actions (run, stop, approve, reject with a reason; half of them with ``--force`` so they are
sent whatever the status says), some reads (list, show, approvals). Each invocation is its own
process with its own token, so the gate can count exactly what each one sent.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.soak.gateway import token_for

TAIL = 2000
"""How much of an invocation's stderr is kept (the end, where a traceback ends)."""

ACTIONS: list[tuple[int, str]] = [(35, "run"), (25, "stop"), (25, "approve"), (15, "reject")]
READS = ["list", "approvals", "show"]


_FRAME = re.compile(r'(opstui/[\w/]+\.py)(?:", line |:)(\d+),? in (\w+)')
_RAISED = re.compile(r"^\s*([\w.]+(?:Error|Exception|Failed|Exit|Interrupt)\w*)(:.*)?$")


def where_it_broke(stderr: str) -> str:
    """For a traceback (plain or Rich), the last opstui frames and the exception; else ""."""
    if "Traceback" not in stderr:
        return ""
    rows = stderr.splitlines()
    frames: list[str] = []
    for row in rows:
        match = _FRAME.search(row)
        if match and "/site-packages/" not in row:
            frame = f"{match[1]}:{match[2]} in {match[3]}"
            if frame not in frames:
                frames.append(frame)
    raised = [row.strip() for row in rows if _RAISED.match(row)]
    shown = [f"at {frame}" for frame in frames[-3:]] + raised[-1:]
    return "\n".join("    " + row for row in shown)


def environment(base_url: str, token: str, audit_log: Path, scratch: Path) -> dict[str, str]:
    """The environment of one soak process: this server and token, the shared audit log, and
    nothing of the developer's own opstui settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSTUI_")}
    config = scratch / "config.toml"
    if not config.exists():
        config.write_text("")
    env.update(
        OPSTUI_BASE_URL=base_url,
        OPSTUI_TOKEN=token,
        OPSTUI_AUDIT_LOG=str(audit_log),
        OPSTUI_CONFIG=str(config),
        XDG_CONFIG_HOME=str(scratch / "config"),
        XDG_STATE_HOME=str(scratch / "state"),
        NO_COLOR="1",
    )
    return env


@dataclass
class Invocation:
    """One run of the command line, and what came of it."""

    who: str
    """Its name (and the middle of its token): ``cli03-0017``."""
    worker: int
    argv: list[str]
    action: str | None
    """The action, or None for a read."""
    targets: list[str]
    force: bool
    reason: str | None
    started: float = 0.0
    seconds: float = 0.0
    exit_code: int | None = None
    """None when it had to be killed."""
    stdout: str = ""
    stderr_tail: str = ""
    traceback: bool = False
    broke: str = ""
    """For a traceback: the opstui frames it went through and the exception."""
    leaked: bool = False
    """The token showed in its output."""


@dataclass
class CliLoad:
    """Ten (or ``workers``) loops of ``opstui`` invocations against one server."""

    base_url: str
    secret: str
    audit_log: Path
    scratch: Path
    pools: Sequence[Sequence[str]]
    """Pipeline ids per worker, disjoint."""
    timeout: float = 2.0
    seed: int = 0
    kill_after: float = 60.0
    """An invocation still running after this long is killed (and reported as hung)."""
    invocations: list[Invocation] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def plan(self, worker: int, index: int, rng: random.Random) -> Invocation:
        """The next invocation of ``worker``."""
        who = f"cli{worker:02d}-{index:04d}"
        pool = list(self.pools[worker])
        timeout = ["--timeout", f"{self.timeout:g}"]
        if rng.random() < 0.15:
            read = rng.choice(READS)
            argv = [read, *([rng.choice(pool)] if read == "show" else []), "--json", *timeout]
            return Invocation(who, worker, argv, None, [], False, None)
        action = rng.choices([a for _, a in ACTIONS], [w for w, _ in ACTIONS])[0]
        targets = rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2, 3])))
        force = rng.random() < 0.5
        reason = f"soak {who}" if action == "reject" else None
        argv = [action, *targets, *(["--reason", reason] if reason else [])]
        argv += ["--force"] if force else []
        return Invocation(who, worker, [*argv, *timeout], action, targets, force, reason)

    def run_one(self, invocation: Invocation) -> None:
        """Run it to the end (or kill it) and keep what it said."""
        token = token_for(invocation.who, self.secret)
        invocation.started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "opstui", *invocation.argv],
                env=environment(self.base_url, token, self.audit_log, self.scratch),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.kill_after,
                check=False,
            )
        except subprocess.TimeoutExpired as hung:
            out, err = hung.stdout or b"", hung.stderr or b""
            invocation.exit_code = None
        else:
            out, err = done.stdout, done.stderr
            invocation.exit_code = done.returncode
        invocation.seconds = time.monotonic() - invocation.started
        stdout = out.decode("utf-8", "replace")
        stderr = err.decode("utf-8", "replace")
        invocation.stdout = stdout[-TAIL:]
        invocation.stderr_tail = stderr[-TAIL:]
        invocation.traceback = "Traceback (most recent call last)" in stderr
        invocation.broke = where_it_broke(stderr)
        invocation.leaked = self.secret in stdout or self.secret in stderr

    def worker(self, worker: int, deadline: float) -> None:
        """Invoke again and again until ``deadline`` (the last one may end after it)."""
        rng = random.Random(self.seed * 1000 + worker)
        index = 0
        while time.monotonic() < deadline:
            invocation = self.plan(worker, index, rng)
            index += 1
            self.run_one(invocation)
            with self._lock:
                self.invocations.append(invocation)

    def run(self, seconds: float) -> None:
        """All the workers at once, for ``seconds``; returns when the last one is done."""
        deadline = time.monotonic() + seconds
        threads = [
            threading.Thread(target=self.worker, args=(w, deadline), name=f"soak-cli{w:02d}")
            for w in range(len(self.pools))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
