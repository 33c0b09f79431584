"""Figures taken through a real terminal, as an operator sees them: tmux at 80x24.

Each run starts the simulator in this process (loopback, a seeded living world), then opens the
app under test in a fresh tmux session and reads the screen with ``capture-pane`` until what it
waits for is there. The same figures are taken for opstui and for the floor (``bench.floor``: a
bare DataTable + Footer), so every number has the one it is compared with beside it.

- start to data on screen: from spawning the app to a pipeline's name on the screen;
- Down key to frame during live refresh: from ``send-keys Down`` to the cursor's row having
  moved on the captured screen (found by its background colour, which only the cursor row has);
- peak memory (VmHWM) of the app's process after some seconds of live refresh;
- CPU of the app's process while idle (what a terminal left open overnight costs);
- CLI cold start (``opstui list --json``) against ``python -c "import httpx, pydantic"``.

Not a test: machines are noisy, so every figure is a median (or a percentile) of several tries.
"""

from __future__ import annotations

import compileall
import contextlib
import gc
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from opstui.sim.clock import ManualClock, RealClock
from opstui.sim.server import SimServer
from opstui.sim.world import World

TOKEN = "bench-terminal-token"
WIDTH, HEIGHT = 80, 24
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
TMUX = ["tmux", "-L", f"opstui-bench-{os.getpid()}"]
"""A tmux server of this run's own: sessions on the shared default server come and go with it."""


def compile_sources() -> None:
    """Bytecode for opstui and the bench, as an install has it (pip compiles what it installs).

    An editable install has none until an import writes it, and with ``PYTHONDONTWRITEBYTECODE``
    set (as on the machines the bench runs on) no import ever does: every start then compiled
    all of opstui from source (117 modules, 0.25 s of CPU), a cost no user pays and the floor,
    one small file, hardly had. That, and not the app, is what made the start "regress" from
    1.26x to 1.69x of the floor as the code grew.
    """
    root = Path(__file__).resolve().parent.parent
    for package in ("opstui", "bench"):
        compileall.compile_dir(root / package, quiet=1)


def have_tmux() -> bool:
    """Whether tmux is installed (the terminal figures need it)."""
    return shutil.which("tmux") is not None


@contextmanager
def simulator(pipelines: int, *, live: bool) -> Iterator[SimServer]:
    """A seeded world on loopback; ``live`` runs its clock (runs advance, gates open)."""
    clock = RealClock(60.0) if live else ManualClock()
    world = World(seed=7, pipelines=pipelines, tasks=12, clock=clock)
    try:
        with SimServer(world, token=TOKEN) as sim:
            yield sim
    finally:
        # The world shares this process with the next measure's simulator: drop it now, not
        # at some later full collection walking it while that one answers.
        del world
        gc.collect()


def _stat(pid: int) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command's name (the state is the first)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _running(pid: int) -> bool:
    """Whether process ``pid`` is still running (a zombie waiting for its parent is not)."""
    try:
        return _stat(pid)[0] != "Z"
    except (OSError, IndexError):
        return False


OUTLIVED = 10.0
"""Seconds an app may take to end once its terminal closed, before the bench kills it."""


class Terminal:
    """One tmux session running one command at 80x24."""

    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        self.name = f"opstui-bench-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{key}={_quote(value)}" for key, value in env.items())
        line = f"env {exports} " + " ".join(_quote(part) for part in command)
        session = [*TMUX, "new-session", "-d", "-s", self.name]
        session += ["-x", str(WIDTH), "-y", str(HEIGHT), line]
        for attempt in range(20):
            self.started = time.perf_counter()
            made = subprocess.run(session, capture_output=True, text=True, check=False)
            if made.returncode == 0:
                break
            # The last session's end takes its server down a moment later: a session made in
            # that moment meets a server on its way out ("server exited unexpectedly").
            time.sleep(0.05 * (attempt + 1))
        else:
            raise RuntimeError(f"tmux could not start a session: {made.stderr.strip()}")

    def capture(self, *, escapes: bool = False) -> str:
        """The screen as text (with its colour escapes, if asked)."""
        args = [*TMUX, "capture-pane", "-p", "-t", self.name] + (["-e"] if escapes else [])
        return subprocess.run(args, capture_output=True, text=True, check=False).stdout

    def wait_for(
        self, check: Callable[[str], bool], *, escapes: bool = False, timeout: float = 60.0
    ) -> float:
        """Seconds from now until ``check(screen)`` holds; raises TimeoutError after ``timeout``."""
        began = time.perf_counter()
        while time.perf_counter() - began < timeout:
            if check(self.capture(escapes=escapes)):
                return time.perf_counter() - began
        raise TimeoutError(f"the screen never showed what was awaited:\n{self.capture()}")

    def keys(self, *keys: str) -> None:
        """Type keys (tmux key names: Down, q, C-c)."""
        subprocess.run([*TMUX, "send-keys", "-t", self.name, *keys], check=True)

    def pid(self) -> int:
        """The process running in the pane (``env`` execs the command, so it is the app)."""
        out = subprocess.run(
            [*TMUX, "display-message", "-p", "-t", self.name, "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return int(out.strip())

    def close(self) -> None:
        """End the session, and make sure the app in it ended too.

        A closed terminal sends the app SIGHUP, and opstui ends the orderly way. Once in a full
        bench an app at 50,000 pipelines was found still running eleven minutes later, its
        terminal gone, polling a simulator that was gone too: it took CPU from every figure
        measured after it. So an app that outlives its terminal by ``OUTLIVED`` seconds is
        killed, and said so on stderr (not reproduced in three tries since: see issue 8).
        """
        try:
            pid: int | None = self.pid()
        except (subprocess.CalledProcessError, ValueError):
            pid = None  # the session had already ended
        subprocess.run([*TMUX, "kill-session", "-t", self.name], check=False, capture_output=True)
        if pid is None:
            return
        deadline = time.monotonic() + OUTLIVED
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _running(pid):
            print(f"bench: the app (pid {pid}) outlived its terminal; killed", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@dataclass(frozen=True)
class Subject:
    """An app under test: what to run, and how."""

    name: str
    command: list[str]


def subjects() -> list[Subject]:
    """opstui and its floor, both run by this Python."""
    return [
        Subject("opstui", [sys.executable, "-m", "opstui", "--no-bell"]),
        Subject("floor", [sys.executable, "-m", "bench.floor"]),
    ]


def app_env(sim: SimServer, scratch: Path) -> dict[str, str]:
    """The environment an app under test gets: the simulator, a private config and audit log."""
    (scratch / "config.toml").touch()
    return {
        "OPSTUI_BASE_URL": sim.base_url,
        "OPSTUI_TOKEN": TOKEN,
        "OPSTUI_CONFIG": str(scratch / "config.toml"),
        "OPSTUI_AUDIT_LOG": str(scratch / "audit.log"),
        "TERM": "xterm-256color",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(scratch),
    }


def some_names(sim: SimServer) -> set[str]:
    """Names of pipelines, any of which on screen means data has arrived: the first of them by
    name (opstui's order) and the first by age (the floor's; at 50,000 the floor's screen held
    none of the first thousand by name, and its figures timed out)."""
    names: set[str] = set()
    for sort in ("name", "oldest"):
        page = sim.world.list_pipelines(page_size=1000, sort=sort)
        names.update(str(doc["name"]) for doc in page.items if len(str(doc["name"])) >= 6)
    return names


def start_to_data(
    subject: Subject, pipelines: int, scratch: Path, tries: int
) -> tuple[float, float, float]:
    """Median seconds from spawning the app to a pipeline's name on the screen (the first rows),
    and to every row landed (opstui's status line no longer says ``loading``; the floor shows
    all its rows at once); and the app's CPU seconds when its first rows were seen (what a
    shared machine bends least)."""
    first, every, cpu = [], [], []
    with simulator(pipelines, live=False) as sim:
        names = some_names(sim)
        for _ in range(tries):
            terminal = Terminal(subject.command, app_env(sim, scratch))
            try:
                terminal.wait_for(lambda screen: any(name in screen for name in names))
                first.append(time.perf_counter() - terminal.started)
                cpu.append(_cpu_seconds(terminal.pid()))
                terminal.wait_for(lambda screen: "loading" not in screen, timeout=120)
                every.append(time.perf_counter() - terminal.started)
            finally:
                terminal.close()
    return statistics.median(first), statistics.median(every), statistics.median(cpu)


def _backgrounds(screen: str) -> dict[str, set[int]]:
    """Each background colour on the screen, and the lines it appears on."""
    found: dict[str, set[int]] = {}
    for index, line in enumerate(screen.splitlines()):
        for codes in _SGR.findall(line):
            parts = codes.split(";")
            at = 0
            while at < len(parts):
                part = parts[at]
                if part == "48" and at + 1 < len(parts):
                    size = 3 if parts[at + 1] == "2" else 1
                    found.setdefault(";".join(parts[at : at + 2 + size]), set()).add(index)
                    at += 2 + size
                    continue
                if part.isdigit() and (40 <= int(part) <= 47 or 100 <= int(part) <= 107):
                    found.setdefault(part, set()).add(index)
                at += 1
    return found


def _cursor_colour(before: str, after: str) -> str | None:
    """The background that stood on one line before a Down key and on the next one after."""
    old, new = _backgrounds(before), _backgrounds(after)
    for code, lines in old.items():
        if len(lines) == 1 and new.get(code) == {next(iter(lines)) + 1}:
            return code
    return None


def _line_of(code: str, screen: str) -> int | None:
    lines = _backgrounds(screen).get(code, set())
    return next(iter(lines)) if len(lines) == 1 else None


def _back_on_top(terminal: Terminal, cursor: str) -> int | None:
    """The cursor's line once the jump to the top has landed (a long table may scroll there with an
    animation: a Down key typed meanwhile would be measured against the wrong line)."""
    try:
        terminal.wait_for(
            lambda screen: (_line_of(cursor, screen) or HEIGHT) < HEIGHT // 2,
            escapes=True,
            timeout=5.0,
        )
    except TimeoutError:
        return None
    time.sleep(0.3)  # let a scroll animation end: the line must not move under the next key
    return _line_of(cursor, terminal.capture(escapes=True))


def key_latency(
    subject: Subject, pipelines: int, scratch: Path, presses: int
) -> tuple[float, float, float, int]:
    """Down key to frame while the data refreshes live: p50, p99, max (seconds), keys lost.

    The cursor row is found by its colour: the one background that moves down a line when Down
    is pressed (learnt once, before measuring). A key whose frame never comes is lost.
    """
    latencies: list[float] = []
    lost = 0
    top = "C-Home" if subject.name == "floor" else "g"  # DataTable: ctrl+home is its top
    with simulator(pipelines, live=True) as sim:
        names = some_names(sim)
        terminal = Terminal(subject.command, app_env(sim, scratch))
        try:
            terminal.wait_for(lambda screen: any(name in screen for name in names), timeout=120)
            time.sleep(1.0)
            first = terminal.capture(escapes=True)
            terminal.keys("Down")
            time.sleep(0.5)
            cursor = _cursor_colour(first, terminal.capture(escapes=True))
            if cursor is None:
                raise RuntimeError(f"{subject.name}: the cursor row could not be told apart")
            for _ in range(presses):
                before = _line_of(cursor, terminal.capture(escapes=True))
                if before is None or before >= HEIGHT - 4:
                    terminal.keys(top)
                    before = _back_on_top(terminal, cursor)
                if before is None:
                    lost += 1
                    continue
                began = time.perf_counter()
                terminal.keys("Down")
                try:
                    terminal.wait_for(
                        lambda screen, at=before: _line_of(cursor, screen) == at + 1,
                        escapes=True,
                        timeout=3.0,
                    )
                except TimeoutError:
                    lost += 1
                    continue
                latencies.append(time.perf_counter() - began)
                time.sleep(0.05)
        finally:
            terminal.close()
    if not latencies:
        nan = float("nan")
        return nan, nan, nan, lost
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered), p99, ordered[-1], lost


def _proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_and_cpu(
    subject: Subject, pipelines: int, scratch: Path, live_seconds: float, *, live: bool = True
) -> tuple[int, float]:
    """Peak RSS after ``live_seconds`` of live refresh, and CPU use (fraction of a core) then;
    ``live=False`` holds the world still (every poll finds nothing new)."""
    with simulator(pipelines, live=live) as sim:
        names = some_names(sim)
        terminal = Terminal(subject.command, app_env(sim, scratch))
        try:
            terminal.wait_for(lambda screen: any(name in screen for name in names), timeout=120)
            pid = terminal.pid()
            cpu_before, began = _cpu_seconds(pid), time.perf_counter()
            time.sleep(live_seconds)
            cpu = (_cpu_seconds(pid) - cpu_before) / (time.perf_counter() - began)
            return _proc_status(pid, "VmHWM"), cpu
        finally:
            terminal.close()


def cli_cold_start(scratch: Path, tries: int) -> tuple[float, float]:
    """Median seconds of ``opstui list --json`` (40 pipelines) and of importing httpx + pydantic."""
    with simulator(40, live=False) as sim:
        env = {**os.environ, **app_env(sim, scratch)}
        cli, floor = [], []
        for _ in range(tries):
            began = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "opstui", "list", "--json"],
                env=env,
                check=True,
                capture_output=True,
            )
            cli.append(time.perf_counter() - began)
            began = time.perf_counter()
            subprocess.run([sys.executable, "-c", "import httpx, pydantic"], env=env, check=True)
            floor.append(time.perf_counter() - began)
    return statistics.median(cli), statistics.median(floor)
