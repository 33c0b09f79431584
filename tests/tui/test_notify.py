"""Notifications fire once per event: a gate opened, a run failed; bell and desktop escapes."""

from __future__ import annotations

from typing import Any

from opstui.api import OpseraClient, Pipeline, PipelineStatus
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.notify import Notifier, desktop_escape
from tests.conftest import TOKEN


class Recorder:
    def __init__(self) -> None:
        self.toasts: list[tuple[str, str]] = []
        self.emitted: list[str] = []

    def toast(self, text: str, severity: Any) -> None:
        self.toasts.append((text, severity))

    def emit(self, data: str) -> None:
        self.emitted.append(data)


def notifier(recorder: Recorder, **options: Any) -> Notifier:
    return Notifier(toast=recorder.toast, emit=recorder.emit, **options)


async def test_each_new_gate_and_failure_notifies_exactly_once(
    sim: SimServer, clock: ManualClock
) -> None:
    recorder = Recorder()
    watcher = notifier(recorder)
    async with OpseraClient(sim.base_url, TOKEN) as client:
        before = await client.list_pipelines()
        assert watcher.observe(before) == [], "what waited at start is not news"
        assert recorder.toasts == []
        waiting_before = {p.id for p in before if p.status is PipelineStatus.AWAITING_APPROVAL}

        # Let the world live for ten minutes; runs reach gates and some fail.
        events = []
        for _ in range(20):
            clock.advance(30)
            events += watcher.observe(await client.list_pipelines())
        assert events, "ten simulated minutes bring at least one gate or failure"
        assert len({e.key for e in events}) == len(events), "no event twice"
        assert len(recorder.toasts) == len(events)
        assert recorder.emitted.count("\x07") >= 1
        now = await client.list_pipelines()
        assert watcher.observe(now) == [], "the same state again is not news"
        for event in events:
            if event.kind == "gate":
                assert event.pipeline_id not in waiting_before or any(
                    p.id == event.pipeline_id and p.run_count > 0 for p in now
                )


def _pipeline(name: str, status: str, run: int = 2) -> Pipeline:
    gate = "b" * 24
    last_step: dict[str, Any]
    if status == "gate":
        last_step = {"status": "stopped", "running": {"step_id": gate, "paused": True}}
    else:
        last_step = {"status": "stopped", "failed": {"step_id": gate}}
    return Pipeline.model_validate(
        {
            "_id": f"{abs(hash(name)) % 10**24:024d}",
            "name": name,
            "workflow": {
                "run_count": run,
                "plan": [{"_id": gate, "name": "Approve", "tool": {"tool_identifier": "approval"}}],
                "last_step": last_step,
            },
        }
    )


def test_bell_rings_once_per_refresh_and_desktop_summarises_floods() -> None:
    recorder = Recorder()
    watcher = notifier(recorder, desktop="osc9")
    watcher.observe([])
    events = watcher.observe([_pipeline(f"p{i}", "gate") for i in range(5)])
    assert len(events) == 5
    assert recorder.emitted.count("\x07") == 1
    desktop = [e for e in recorder.emitted if e.startswith("\x1b]9;")]
    assert desktop == ["\x1b]9;opstui: 5 gate(s) await approval, 0 run(s) failed\x07"]


def test_bell_and_desktop_can_be_turned_off() -> None:
    recorder = Recorder()
    watcher = notifier(recorder, bell=False, desktop="off")
    watcher.observe([])
    watcher.observe([_pipeline("deploy", "failed")])
    assert recorder.emitted == []
    assert recorder.toasts == [("deploy failed at Approve (run 2)", "error")]


def test_untrusted_names_cannot_smuggle_escapes_into_the_terminal() -> None:
    recorder = Recorder()
    watcher = notifier(recorder, desktop="osc777")
    watcher.observe([])
    watcher.observe([_pipeline("evil\x07\x1b]52;c;aGk=\x07;name", "gate")])
    [escape] = [e for e in recorder.emitted if e != "\x07"]
    assert escape.startswith("\x1b]777;notify;Approval needed;")
    assert escape.count("\x1b") == 1
    assert escape.count("\x07") == 1
    assert escape.endswith("\x07")


def test_desktop_escape_forms() -> None:
    assert desktop_escape("off", "t", "b") == ""
    assert desktop_escape("osc9", "Run failed", "x") == "\x1b]9;Run failed: x\x07"
    assert desktop_escape("osc777", "a;b", "c") == "\x1b]777;notify;a,b;c\x07"
    wrapped = desktop_escape("osc9", "t", "b", tmux=True)
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;t: b\x07\x1b\\"


def test_the_same_gate_in_a_new_run_is_a_new_event() -> None:
    recorder = Recorder()
    watcher = notifier(recorder)
    watcher.observe([])
    assert len(watcher.observe([_pipeline("deploy", "gate", run=2)])) == 1
    assert watcher.observe([_pipeline("deploy", "gate", run=2)]) == []
    assert len(watcher.observe([_pipeline("deploy", "gate", run=3)])) == 1
    assert [text for text, _ in recorder.toasts] == ["deploy awaits approval at Approve"] * 2


async def test_the_app_notifies_each_new_gate_or_failure_once(
    make_app: Any, sim: SimServer, clock: ManualClock
) -> None:
    from tests.tui.conftest import refresh, settle

    app = make_app(bell=True)
    emitted: list[str] = []
    app.notifier._emit = emitted.append
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not any("awaits approval" in str(n.message) for n in app._notifications), (
            "gates that waited before the app started are not news"
        )
        announced: list[str] = []
        for _ in range(20):
            clock.advance(30)
            await refresh(pilot)
            announced = [
                str(n.message)
                for n in app._notifications
                if "awaits approval" in str(n.message) or " failed" in str(n.message)
            ]
            if announced:
                break
        assert announced, "ten simulated minutes bring a gate or a failure"
        rings = emitted.count("\x07")
        assert rings == 1
        await refresh(pilot)  # the same state again
        again = [
            str(n.message)
            for n in app._notifications
            if "awaits approval" in str(n.message) or " failed" in str(n.message)
        ]
        assert again == announced
        assert emitted.count("\x07") == rings
