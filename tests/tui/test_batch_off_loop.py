"""An action on thousands of marked pipelines, with the per-pipeline work off the event loop.

Through the real app against a seeded simulator of 2,500 pipelines (more than one slice of
:data:`opstui.tui.slices.SLICE`, more than a dialog lists): one request, one audit line written by
the audit writer thread, the dialog listing 200 and counting the rest, one toast for the targets
that left meanwhile. And the audit writer's guarantee on its own: a line handed to the thread is
on disk before :meth:`Flights.abandon` returns, even when the action's worker was cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.visual import Visual

from opstui.api.rules import why_not
from opstui.audit import AuditEntry, AuditLog, AuditTarget
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.data.pipelines import STATUS_BATCH
from opstui.tui.dialogs import ConfirmDialog, Target
from opstui.tui.dialogs._base import TargetLines
from opstui.tui.flights import Flights, InFlight
from opstui.tui.slices import SLICE, Mapped, in_slices
from tests.tui.conftest import MakeApp, action_bodies, audit_lines, notes, screen_of, settle

PIPELINES = 2500


def body(action: str, ids: list[str]) -> dict[str, object]:
    """The exact body the contract says an action request carries."""
    return {"action": action, "type": "pipeline", "version": 1, "target": ids}


@pytest.fixture
def world(clock: ManualClock) -> World:
    """A tenant of 2,500 pipelines (the default world has 40)."""
    return World(seed=7, pipelines=PIPELINES, tasks=0, clock=clock)


@pytest.fixture
def writers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that wrote audit lines (the real write, watched)."""
    names: list[str] = []
    record = AuditLog.record

    def watched(self: AuditLog, entry: AuditEntry) -> None:
        names.append(threading.current_thread().name)
        record(self, entry)

    monkeypatch.setattr(AuditLog, "record", watched)
    return names


async def test_a_run_on_every_marked_pipeline_is_one_request_and_one_line_written_off_the_loop(
    make_app: MakeApp, sim: SimServer, audit_path: Path, writers: list[str]
) -> None:
    assert PIPELINES > 2 * SLICE
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        marked = set(screen_of(app).marked)
        assert len(marked) == PIPELINES
        eligible = [p.id for p in app.store.pipelines.values() if why_not("run", p) is None]
        sim.requests.clear()
        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        assert len(dialog.targets) == len(eligible)
        lines = dialog.query_one(TargetLines)
        assert lines.get_content_height(lines.size, lines.size, 80) == TargetLines.MAX_LISTED + 1
        await pilot.press("y")
        await settle(pilot)

        assert action_bodies(sim, "run") == [body("run", eligible)]
        actions = [r.body for r in sim.requests if r.method == "POST" and isinstance(r.body, dict)]
        rechecks = actions[: [a["action"] for a in actions].index("run")]
        # The re-check before it: batches of a list page's size at most, every target once.
        assert len(eligible) > STATUS_BATCH
        sizes = [
            min(STATUS_BATCH, len(eligible) - n) for n in range(0, len(eligible), STATUS_BATCH)
        ]
        assert [len(a["target"]) for a in rechecks] == sizes
        assert sorted(t for a in rechecks for t in a["target"]) == sorted(eligible)
        [line] = audit_lines(audit_path)
        assert [t["id"] for t in line["targets"]] == eligible
        assert [o["target"] for o in line["outcomes"]] == eligible
        assert writers and all(name != threading.main_thread().name for name in writers)
        started = {o["target"] for o in line["outcomes"] if o["ok"]}
        assert started, "the simulator started the runs"
        assert screen_of(app).marked == marked - started


async def test_many_that_left_meanwhile_make_one_toast_naming_three(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        eligible = [p.id for p in app.store.pipelines.values() if why_not("run", p) is None]
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        gone, kept = eligible[: SLICE + 5], eligible[SLICE + 5 :]
        sim.world.run_pipelines(gone, by="someone else")  # behind the dialog's back
        sim.requests.clear()
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim, "run") == [body("run", kept)]
        [toast] = [n for n in notes(app) if n.startswith("Not sent for")]
        assert toast.startswith(f"Not sent for {len(gone):,}: ")
        assert toast.endswith(f"; … (sent for the other {len(kept)}).")
        assert toast.count("; ") == 3  # three named, then the ellipsis


class _Gated(AuditLog):
    """The real log, whose write waits for ``gate`` (a disk that is slow to answer)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.started = threading.Event()
        self.gate = threading.Event()

    def record(self, entry: AuditEntry) -> None:
        self.started.set()
        self.gate.wait()
        super().record(entry)


def _flight(count: int) -> InFlight:
    targets = [AuditTarget(f"p{n:05d}", f"pipeline {n}") for n in range(count)]
    return InFlight("run", "pipeline", targets, sent=True)


async def test_a_line_being_written_when_the_app_ends_is_on_disk_before_abandon_returns(
    tmp_path: Path,
) -> None:
    log = _Gated(tmp_path / "audit.log")
    warned: list[str] = []
    flights = Flights(log, "sim", warn=warned.append)
    flight = flights.begin(_flight(3000))
    writing = asyncio.get_running_loop().create_task(flights.settle_unknown(flight, "timed out"))
    assert await asyncio.to_thread(log.started.wait, 10)  # the writer thread has the line
    assert flights.in_flight == []  # answered: the quit question need not hold the app
    writing.cancel()  # the app is ending: the worker that waited for the line is cancelled
    with pytest.raises(asyncio.CancelledError):
        await writing

    ended: list[int] = []
    ending = threading.Thread(target=lambda: ended.append(flights.abandon()))
    ending.start()
    ending.join(0.2)
    assert ending.is_alive(), "abandon returned while the line was still being written"
    log.gate.set()
    ending.join()
    assert ended == [0]  # nothing left to write as unknown: the line was already on its way
    [line] = [entry for entry in log.entries()]
    assert len(line["outcomes"]) == 3000
    assert {o["status"] for o in line["outcomes"]} == {"unknown"}
    assert line["error"] == "outcome unknown: timed out"
    assert warned == []


class _Dialog(App[None]):
    def __init__(self, dialog: ConfirmDialog) -> None:
        super().__init__()
        self.dialog = dialog

    def compose(self) -> ComposeResult:
        return iter(())

    def on_mount(self) -> None:
        self.push_screen(self.dialog)


async def test_a_dialog_over_ten_thousand_makes_and_paints_only_what_it_lists() -> None:
    made: list[int] = []

    def target(n: int) -> Target:
        made.append(n)
        return Target(name=f"[b]pipeline[/b] {n}", id=f"id-{n}")

    dialog = ConfirmDialog(action="Run", targets=Mapped(range(10_000), target))
    async with _Dialog(dialog).run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert sorted(made) == list(range(TargetLines.MAX_LISTED))
        lines = dialog.query_one(TargetLines)
        width = lines.size.width
        whole = Visual.to_strips(lines, lines.render(), width, None, lines.visual_style)
        assert len(whole) == TargetLines.MAX_LISTED + 1
        for y, line in enumerate(whole):
            assert lines.render_line(y) == line, y
            assert list(lines.render_line(y)) == list(line), y
        assert whole[-1].text.strip() == "… and 9,800 more"
        assert "[b]pipeline[/b] 0" in whole[0].text
        assert lines.render_line(TargetLines.MAX_LISTED + 1) == Strip.blank(
            width, lines.visual_style.rich_style
        )


def test_mapped_makes_on_reading() -> None:
    made: list[int] = []
    mapped: Mapped[int, Any] = Mapped(range(5), lambda n: made.append(n) or n * 10)
    assert len(mapped) == 5 and made == []
    assert mapped[3] == 30 and list(mapped[1:3]) == [10, 20] and made == [3, 1, 2]
    assert list(mapped) == [0, 10, 20, 30, 40]


async def test_in_slices_gives_the_loop_a_turn_between_slices() -> None:
    turns: list[int] = []
    seen: list[int] = []

    async def other() -> None:
        while True:
            turns.append(len(seen))
            await asyncio.sleep(0)

    beside = asyncio.get_running_loop().create_task(other())
    await asyncio.sleep(0)
    async for part in in_slices(list(range(25)), size=10):
        seen.extend(part)
    beside.cancel()
    assert seen == list(range(25))
    assert 10 in turns and 20 in turns  # the other task ran after the first and second slice
