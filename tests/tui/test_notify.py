"""Notifications fire once per event: a gate opened, a run failed; bell and desktop escapes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from opstui.api import OpseraClient, Pipeline, PipelineStatus
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.notify import NEWS_GAP_SECONDS, Notifier, desktop_escape
from tests.conftest import TOKEN
from tests.tui.conftest import MakeApp, settle


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
        busy_refreshes = 0
        for _ in range(20):
            clock.advance(30)
            fresh = watcher.observe(await client.list_pipelines())
            events += fresh
            busy_refreshes += bool(fresh)
        assert events, "ten simulated minutes bring at least one gate or failure"
        assert len({e.key for e in events}) == len(events), "no event twice"
        assert len(events) > busy_refreshes, "some refresh brought several events"
        assert len(recorder.toasts) == busy_refreshes, "one toast per refresh that brought news"
        assert recorder.emitted.count("\x07") == busy_refreshes, "one bell per such refresh"
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
    assert desktop == ["\x1b]9;opstui: 5 gates wait for approval: p0, p1, p2…\x07"]
    assert recorder.toasts == [("5 gates wait for approval: p0, p1, p2…", "warning")]


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


def _is_news(message: str) -> bool:
    return "approval" in message or " failed" in message


async def test_the_app_notifies_each_new_gate_or_failure_once(
    make_app: Any, sim: SimServer, clock: ManualClock
) -> None:
    from tests.tui.conftest import refresh, settle

    app = make_app(bell=True)
    emitted: list[str] = []
    app.notifier._emit = emitted.append
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not any(_is_news(str(n.message)) for n in app._notifications), (
            "gates that waited before the app started are not news"
        )
        announced: list[str] = []
        for _ in range(20):
            clock.advance(30)
            await refresh(pilot)
            announced = [str(n.message) for n in app._notifications if _is_news(str(n.message))]
            if announced:
                break
        assert announced, "ten simulated minutes bring a gate or a failure"
        rings = emitted.count("\x07")
        assert rings == 1
        await refresh(pilot)  # the same state again
        again = [str(n.message) for n in app._notifications if _is_news(str(n.message))]
        assert again == announced
        assert emitted.count("\x07") == rings


# -- one toast, one bell, one desktop notification per refresh ---------------------------------


def test_a_flood_of_failures_makes_one_toast_one_bell_one_desktop_notification() -> None:
    recorder = Recorder()
    watcher = notifier(recorder, desktop="osc777")
    watcher.observe([])
    events = watcher.observe([_pipeline(f"run{i:03d}", "failed") for i in range(200)])
    assert len(events) == 200, "each event still counts"
    assert recorder.toasts == [("200 runs failed: run000, run001, run002…", "error")]
    assert recorder.emitted == [
        "\x07",
        "\x1b]777;notify;opstui;200 runs failed: run000, run001, run002…\x07",
    ]


def test_gates_and_failures_of_one_refresh_share_one_toast() -> None:
    recorder = Recorder()
    watcher = notifier(recorder, desktop="osc9")
    watcher.observe([])
    gates = [_pipeline(f"gate{i}", "gate") for i in range(3)]
    watcher.observe([*gates, _pipeline("build", "failed")])
    assert recorder.toasts == [
        ("3 gates wait for approval: gate0, gate1, gate2\nbuild failed at Approve (run 2)", "error")
    ]
    assert recorder.emitted.count("\x07") == 1
    [desktop] = [e for e in recorder.emitted if e != "\x07"]
    assert desktop == (
        "\x1b]9;opstui: 3 gates wait for approval: gate0, gate1, gate2; "
        "build failed at Approve (run 2)\x07"
    )


def test_one_event_keeps_its_own_words() -> None:
    recorder = Recorder()
    watcher = notifier(recorder, desktop="osc9")
    watcher.observe([])
    watcher.observe([_pipeline("deploy", "gate")])
    assert recorder.toasts == [("deploy awaits approval at Approve", "warning")]
    assert recorder.emitted == [
        "\x07",
        "\x1b]9;Approval needed: deploy awaits approval at Approve\x07",
    ]


# -- bounded memory ---------------------------------------------------------------------------


def _running(name: str, run: int) -> Pipeline:
    return Pipeline.model_validate(
        {
            "_id": f"{abs(hash(name)) % 10**24:024d}",
            "name": name,
            "workflow": {"run_count": run, "last_step": {"status": "running"}},
        }
    )


def test_a_state_that_ends_is_forgotten_and_can_fire_again() -> None:
    recorder = Recorder()
    watcher = notifier(recorder)
    watcher.observe([])
    failed = _pipeline("deploy", "failed", run=2)
    assert len(watcher.observe([failed])) == 1
    assert watcher.remembered == {(failed.id, "2", "failed")}
    watcher.observe([_running("deploy", 3)])
    assert watcher.remembered == set(), "re-run: the failure is no longer current"
    [gate] = watcher.observe([_pipeline("deploy", "gate", run=3)])
    assert watcher.remembered == {gate.key} == {(failed.id, "3", "gate", "b" * 24)}
    watcher.observe([])
    assert watcher.remembered == set(), "a pipeline gone from the list drops its key"
    assert len(recorder.toasts) == 2


def test_memory_stays_bounded_over_ten_thousand_refreshes_with_churn() -> None:
    """Pipelines come and go, runs start, wait, fail and start again: the notifier keeps only
    the keys of what is current, and still announces each new state exactly once."""
    rng = random.Random(7)
    population = [f"p{i:03d}" for i in range(120)]
    runs = range(1, 6)
    # Built once: parsing documents is what a real refresh does, and too slow to repeat here.
    states: dict[tuple[str, str, int], Pipeline] = {}
    for name in population:
        for run in runs:
            states[name, "gate", run] = _pipeline(name, "gate", run)
            states[name, "failed", run] = _pipeline(name, "failed", run)
            states[name, "running", run] = _running(name, run)
    recorder = Recorder()
    watcher = notifier(recorder)
    current: dict[str, tuple[str, int]] = {}
    previous_keys: set[tuple[str, ...]] = set()
    ever: set[tuple[str, ...]] = set()
    busy = 0
    for cycle in range(10_000):
        window = population[(cycle // 40) % 90 :][:30]  # a sliding tenant: some leave, some come
        for name in list(current):
            if name not in window:
                del current[name]
        for name in rng.sample(window, 4):
            kind = rng.choice(("gate", "failed", "running"))
            current[name] = (kind, rng.choice(runs))
        shown = [states[name, kind, run] for name, (kind, run) in current.items()]
        fresh = watcher.observe(shown)
        keys = {
            (states[name, kind, run].id, str(run), "gate", "b" * 24)
            if kind == "gate"
            else (states[name, kind, run].id, str(run), "failed")
            for name, (kind, run) in current.items()
            if kind != "running"
        }
        if cycle:
            assert {e.key for e in fresh} == keys - previous_keys, "each new state once"
        busy += bool(fresh)
        ever |= keys
        previous_keys = keys
        assert len(watcher.remembered) <= len(keys)
        assert watcher.remembered == keys
    assert len(ever) > 10 * 30, "the churn went through far more states than are ever current"
    assert len(recorder.toasts) == busy
    assert recorder.emitted.count("\x07") == busy


# -- hostile text stays inert in desktop notifications -----------------------------------------

HOSTILE = "ev\u202eil\u2066 na\u200bme\x1b]52;c;aGk=\x07 line\u2028two\u2029\ud800 \x9b31m; end"


@pytest.mark.parametrize("kind", ["osc9", "osc777"])
@pytest.mark.parametrize("tmux", [False, True], ids=["plain", "tmux"])
def test_desktop_bodies_carry_no_control_or_format_characters(kind: Any, tmux: bool) -> None:
    recorder = Recorder()
    watcher = notifier(recorder, desktop=kind, tmux=tmux, bell=False)
    watcher.observe([])
    watcher.observe([_pipeline(HOSTILE, "gate")])
    [escape] = recorder.emitted
    if tmux:
        assert escape.startswith("\x1bPtmux;\x1b\x1b]") and escape.endswith("\x07\x1b\\")
        inner = escape[len("\x1bPtmux;\x1b\x1b]") : -len("\x07\x1b\\")]
    else:
        assert escape.startswith("\x1b]") and escape.endswith("\x07")
        inner = escape[2:-1]
    assert inner.isprintable(), repr(inner)  # no Cc, Cf, Cs, Zl, Zp: no ESC, BEL, bidi, ZWSP
    for char in "\u202e\u2066\u200b\x1b\x07\u2028\u2029\ud800\x9b":
        assert char not in inner
    cleaned = "ev il na me ]52;c;aGk= line two 31m; end awaits approval at Approve"
    if kind == "osc9":
        assert inner == f"9;Approval needed: {cleaned}"
    else:
        assert inner == f"777;notify;Approval needed;{cleaned}"
    escape.encode("utf-8")  # a lone surrogate would not even reach the terminal


def test_a_semicolon_in_the_title_cannot_end_it_early() -> None:
    assert desktop_escape("osc777", "a;b\u202e;c", "d") == "\x1b]777;notify;a,b ,c;d\x07"


def test_toasts_are_one_clean_line_per_kind() -> None:
    recorder = Recorder()
    watcher = notifier(recorder, bell=False)
    watcher.observe([])
    watcher.observe([_pipeline(HOSTILE, "failed")])
    [(text, _)] = recorder.toasts
    assert text.isprintable() and "\u202e" not in text


# -- in the app ---------------------------------------------------------------------------------


async def test_a_refresh_with_200_failures_raises_one_toast_and_one_bell(
    make_app: Any, sim: SimServer, clock: ManualClock
) -> None:
    from tests.tui.conftest import refresh, settle

    sim.world = World(seed=7, pipelines=0, tasks=0, clock=clock, failure_rate=1.0, autorun=False)
    app = make_app(bell=True)
    toasts: list[str] = []
    rings: list[int] = []
    notify = app.notify

    def recording_notify(message: str, **options: Any) -> None:
        toasts.append(message)
        notify(message, **options)

    app.notify = recording_notify  # type: ignore[method-assign]
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert toasts == [] and rings == []
        ids = [
            sim.world.create_pipeline(
                {
                    "name": f"build-{i:03d}",
                    "workflow": {
                        "plan": [{"name": "Build", "tool": {"tool_identifier": "command-line"}}]
                    },
                }
            )["_id"]
            for i in range(200)
        ]
        await refresh(pilot)
        sim.world.run_pipelines(ids)
        clock.advance(60)
        await refresh(pilot)
        failed = [p for p in app.store.pipelines.values() if p.status is PipelineStatus.FAILED]
        assert len(failed) == 200
        assert toasts == ["200 runs failed: build-000, build-001, build-002…"]
        assert len(rings) == 1
        shown = [str(n.message) for n in app._notifications]
        assert shown.count(toasts[0]) == 1 and len(shown) == 1
        assert len(app.notifier.remembered) == 200

        await refresh(pilot)  # the same failures again: not news
        assert len(toasts) == 1 and len(rings) == 1

        sim.world.run_pipelines(ids)  # a new run of each: its failure is news again, once
        await refresh(pilot)
        assert len(app.notifier.remembered) == 0, "running: nothing to remember"
        clock.advance(60)
        await refresh(pilot)
        assert toasts[1:] == ["200 runs failed: build-000, build-001, build-002…"]
        assert len(rings) == 2


# -- one news toast on screen at a time ---------------------------------------------------------


def test_news_within_the_gap_waits_for_the_last_toast_to_go_and_comes_as_one() -> None:
    recorder = Recorder()
    clock = ManualClock()
    watcher = notifier(recorder, bell=True, gap=8.0, now=clock.now)
    watcher.observe_changes([])  # primed
    watcher.observe_changes([_pipeline("a", "failed")])
    assert recorder.toasts == [("a failed at Approve (run 2)", "error")]  # after quiet: at once
    clock.advance(5)
    assert len(watcher.observe_changes([_pipeline("b", "failed")])) == 1  # news, seen
    assert [event.name for event in watcher.held] == ["b"]
    assert len(recorder.toasts) == 1  # but held: the first toast still shows
    clock.advance(2)
    watcher.observe_changes([_pipeline("c", "gate")])
    assert watcher.release() == [] and len(recorder.toasts) == 1
    clock.advance(1)  # eight seconds since the first toast
    told = watcher.release()
    assert sorted(event.name for event in told) == ["b", "c"]
    assert recorder.toasts[1:] == [
        ("c awaits approval at Approve\nb failed at Approve (run 2)", "error")
    ]
    assert recorder.emitted.count("\x07") == 2  # one bell a toast
    assert watcher.held == [] and watcher.release() == []


def test_held_news_that_stopped_being_true_is_not_told() -> None:
    recorder = Recorder()
    clock = ManualClock()
    watcher = notifier(recorder, gap=8.0, now=clock.now)
    watcher.observe_changes([])
    watcher.observe_changes([_pipeline("a", "failed")])
    clock.advance(1)
    watcher.observe_changes([_pipeline("gate", "gate"), _pipeline("b", "failed")])
    watcher.observe_changes([_running("gate", 3)])  # approved before the gap passed
    clock.advance(10)
    assert [event.name for event in watcher.release()] == ["b"]
    assert recorder.toasts[1:] == [("b failed at Approve (run 2)", "error")]


async def test_the_app_holds_news_for_the_gap_after_a_toast(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notifier = app.notifier
        assert notifier.gap == NEWS_GAP_SECONDS
        told: list[str] = []
        notifier._toast = lambda text, severity: told.append(text)
        notifier.observe_changes([_pipeline("0-first", "failed")])
        notifier.observe_changes([_pipeline("0-second", "failed")])
        assert len(told) == 1 and [event.name for event in notifier.held] == ["0-second"]
        clock.advance(NEWS_GAP_SECONDS)
        app.data.poll_now()  # the next poll tells what was held (with its own news, if any)
        await settle(pilot)
        assert len(told) == 2 and "0-second" in told[1]
        assert notifier.held == []
