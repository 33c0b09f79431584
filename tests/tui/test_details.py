"""The pipeline details screen against the seeded simulator, with a manual clock."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from rich.console import Console, RenderableType
from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.signal import Signal
from textual.widgets import Static

from opstui.api import (
    ActivityEntry,
    OpseraClient,
    Pipeline,
    PipelineStatus,
    RetryPolicy,
    ServerError,
    Task,
)
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.actions import Performed
from opstui.tui.data.service import DataService
from opstui.tui.format import duration
from opstui.tui.screens.details import (
    DetailsScreen,
    LiveStatus,
    render_heading,
    render_summary,
)
from opstui.tui.store import PipelineStore
from opstui.tui.widgets.activity_log import ActivityLog, ActivityTable
from opstui.tui.widgets.plan_view import (
    PlanView,
    StepState,
    ascii_markers,
    render_plan,
    step_states,
)
from tests.conftest import TOKEN

AWAITING = "user-profile-nightly"
"""Awaiting approval at 'Approve production deploy' (6/8), with a message and two approvers."""
RUNNING = "checkout-service-ci"
"""Running, at 'Unit tests' (3/5)."""
FAILED = "recommendations-promote"
"""Failed at 'Build' (2/4)."""
NEVER = "payments-api-nightly"
"""Never ran."""


class HostApp(App[None]):
    """A stand-in for the real app: a client, a clock, a store and the data service that feeds it
    (which never polls by itself here: a test reads when it says), and a ``perform_action`` that
    only records."""

    def __init__(
        self,
        make_screen: Callable[[HostApp], Screen[Any]],
        base_url: str,
        clock: ManualClock,
    ) -> None:
        super().__init__()
        self.client = OpseraClient(base_url, TOKEN, retry=RetryPolicy(attempts=1))
        self.now = clock.now
        self.store = PipelineStore(self, refresh=3600)
        self.data = DataService(self, self.client, self.store, now=clock.now)
        self.calls: list[tuple[str, list[Pipeline | Task]]] = []
        self.action_done: Signal[Performed] = Signal(self, "action-done")
        self.notes: list[str] = []
        self._make_screen = make_screen

    def on_mount(self) -> None:
        self.push_screen(self._make_screen(self))

    async def on_unmount(self) -> None:
        await self.client.aclose()

    def perform_action(self, action: str, items: Sequence[Pipeline | Task]) -> None:
        self.calls.append((action, list(items)))

    def notify(self, message: str, **kwargs: Any) -> None:
        self.notes.append(message)
        super().notify(message, **kwargs)


def find(sim: SimServer, name: str) -> Pipeline:
    """The world's pipeline called ``name``, decoded as the client decodes it."""
    for doc in sim.world.list_pipelines().items:
        if doc["name"] == name:
            return Pipeline.model_validate(doc)
    raise LookupError(name)


def details_app(sim: SimServer, clock: ManualClock, name: str) -> HostApp:
    """A host app showing the details of pipeline ``name``; reads it when it opens, then only when
    told (``refresh_now``)."""
    pipeline = find(sim, name)
    return HostApp(
        lambda app: DetailsScreen(pipeline, data=app.data, now=app.now),
        sim.base_url,
        clock,
    )


async def settle(pilot: Pilot[Any]) -> None:
    """Let every poll and action worker finish, and the screen repaint."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def poll(pilot: Pilot[Any]) -> DetailsScreen:
    """Ask the details screen to read now, and wait for it."""
    screen = pilot.app.screen
    assert isinstance(screen, DetailsScreen)
    screen.refresh_now()
    await settle(pilot)
    return screen


def text_of(renderable: RenderableType, width: int = 78) -> str:
    """What a renderable shows, as plain text, ``width`` cells wide."""
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def shown(screen: Screen[Any], selector: str, width: int = 78) -> str:
    """What the Static matched by ``selector`` shows, as plain text."""
    widget = screen.query_one(selector, Static)
    return text_of(widget.content, width)  # type: ignore[arg-type]


def plan_lines(screen: Screen[Any]) -> list[str]:
    return shown(screen, PlanView.__name__).splitlines()


# -- what it shows ------------------------------------------------------------------------------


async def test_awaiting_shows_plan_gate_and_activity(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, AWAITING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        pipeline = screen.pipeline
        assert pipeline.status is PipelineStatus.AWAITING_APPROVAL

        assert "awaiting approval" in shown(screen, "#details-heading")
        summary = shown(screen, "#details-summary")
        for fact in (pipeline.id, pipeline.owner_name, "env:"):
            assert fact in summary

        lines = plan_lines(screen)
        assert len(lines) == 8
        current = [line for line in lines if line.lstrip().startswith("▶")]
        assert len(current) == 1
        assert "6." in current[0]
        assert "Approve production deploy" in current[0]
        assert "waiting at gate" in current[0]
        assert all("done" in line for line in lines[:5] if "inactive" not in line)
        assert all("pending" in line or "inactive" in line for line in lines[6:])

        gate = shown(screen, "#details-gate")
        assert "Approve production deploy" in gate
        assert "step 6 of 8" in gate
        assert "Approve release of user-profile to staging?" in gate
        assert "ada@example.com, katherine@example.com" in gate
        since = pipeline.waiting_since
        assert since is not None
        assert duration((clock.now() - since).total_seconds()) in gate

        log = screen.query_one(ActivityLog)
        assert log.entries, "the activity log was loaded"
        assert log.entries[0].action == "awaiting approval"
        times = [entry.created_at for entry in log.entries if entry.created_at is not None]
        assert times == sorted(times, reverse=True)
        assert "awaiting approval" in text_of(log.content, 78).splitlines()[0]  # type: ignore[arg-type]
        assert "updated just now" in shown(screen, "#details-status")


async def test_failed_and_never_ran_plans(sim: SimServer, clock: ManualClock) -> None:
    failed = find(sim, FAILED)
    assert failed.status is PipelineStatus.FAILED
    states = step_states(failed)
    assert states[0] is StepState.DONE
    assert states[1] is StepState.FAILED
    assert set(states[2:]) <= {StepState.NOT_RUN, StepState.INACTIVE}
    lines = text_of(render_plan(failed)).splitlines()
    assert lines[1].lstrip().startswith("▶ ✗")
    assert "failed" in lines[1]

    never = find(sim, NEVER)
    assert never.status is PipelineStatus.IDLE
    assert set(step_states(never)) <= {StepState.NOT_RUN, StepState.INACTIVE}
    assert "▶" not in text_of(render_plan(never))
    assert "never ran" in text_of(render_summary(never, clock.now()))


def test_ascii_markers_read_without_unicode(sim: SimServer) -> None:
    text = text_of(render_plan(find(sim, FAILED), ascii=True))
    assert text.isascii()
    assert "> x" in text
    assert "+ " in text


def test_server_text_is_never_markup() -> None:
    evil = "[b]x[/b]\x1b[2J[link=http://e.vil]y[/link]"
    pipeline = Pipeline.model_validate(
        {
            "_id": "0123456789abcdef01234567",
            "name": evil,
            "description": evil,
            "owner_name": evil,
            "tags": [{"type": "env", "value": evil}],
            "workflow": {
                "plan": [{"_id": "a" * 24, "name": evil, "tool": {"tool_identifier": evil}}],
                "last_step": {"status": "running", "running": {"step_id": "a" * 24}},
            },
        }
    )
    entry = ActivityEntry.model_validate(
        {"_id": "1", "step_name": evil, "action": evil, "message": evil, "status": "failed"}
    )
    for renderable in (
        render_heading(pipeline),
        render_summary(pipeline, pipeline_now()),
        render_plan(pipeline),
        ActivityTable([entry], pipeline_now()),
    ):
        text = text_of(renderable, 200)
        assert "[b]x[/b]" in text
        assert "\x1b" not in text
        assert "\ufffd[2J" in text


def test_a_malformed_workflow_still_renders() -> None:
    now = pipeline_now()
    for workflow in (None, "garbage", {"plan": "x", "last_step": 3}, {"plan": [1, {"_id": 2}]}):
        pipeline = Pipeline.model_validate(
            {"_id": "0123456789abcdef01234567", "workflow": workflow}
        )
        assert "(unnamed pipeline)" in text_of(render_heading(pipeline))
        assert "runs 0" in text_of(render_summary(pipeline, now))
        assert text_of(render_plan(pipeline)).strip() in (
            "This pipeline has no steps.",
            "· 1. (unnamed step) not run",
        )


def test_ascii_markers_follow_the_terminal() -> None:
    assert ascii_markers("linux")
    assert ascii_markers("vt100")
    assert not ascii_markers("xterm")
    assert not ascii_markers("xterm-256color")
    assert not ascii_markers("tmux-256color")


def pipeline_now() -> Any:
    return ManualClock().now()


def test_live_status_backs_off_and_recovers() -> None:
    clock = ManualClock()
    live = LiveStatus()
    assert str(live.text(clock.now())) == "loading…"
    live.succeeded(clock.now())
    clock.advance(3)
    assert str(live.text(clock.now())) == "updated just now"
    clock.advance(20)
    assert str(live.text(clock.now())) == "updated 20s ago"
    delays = [
        live.failed(ServerError("HTTP 503", status_code=503), clock.now(), 5) for _ in range(6)
    ]
    assert delays == [5, 10, 20, 40, 60, 60]
    clock.advance(12)
    assert str(live.text(clock.now())) == (
        "offline · retrying in 48s · last update 35s ago · HTTP 503"
    )
    live.succeeded(clock.now())
    assert str(live.text(clock.now())) == "updated just now"


# -- live ---------------------------------------------------------------------------------------


async def test_live_refresh_moves_the_step(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, RUNNING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        assert screen.pipeline.step_text == "3/5 Unit tests"
        assert "running" in plan_lines(screen)[2]
        first_log = len(screen.entries)

        for _ in range(9):  # a step takes 3 to 9 s
            sim.requests.clear()
            clock.advance(1)
            await poll(pilot)
            assert [(r.method, r.path) for r in sim.requests] == [
                ("POST", "/api/v2/actions"),
                ("POST", "/api/v1/pipeline/logs"),
            ]
            assert (sim.requests[0].body or {})["action"] == "status"
            if screen.pipeline.current_step_index != 2:
                break
        assert screen.pipeline.current_step_index == 3
        assert screen.pipeline.status is PipelineStatus.RUNNING
        lines = plan_lines(screen)
        assert lines[2].lstrip().startswith("✓")
        assert lines[3].lstrip().startswith("▶")
        assert len(screen.entries) > first_log
        assert screen.entries[0].step_name == screen.pipeline.plan[3].name


async def test_approved_elsewhere_then_refresh(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, AWAITING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        assert screen.query_one("#details-gate").has_class("-shown")
        assert screen.check_action("approve", ()) is True
        assert screen.check_action("run", ()) is None

        async with OpseraClient(sim.base_url, TOKEN) as other:
            result = await other.approve_pipelines([screen.pipeline.id])
        assert result.ok
        await poll(pilot)

        assert screen.pipeline.status is PipelineStatus.RUNNING
        assert "running" in shown(screen, "#details-heading")
        assert not screen.query_one("#details-gate").has_class("-shown")
        assert plan_lines(screen)[5].lstrip().startswith("✓")
        assert plan_lines(screen)[6].lstrip().startswith("▶")
        assert screen.entries[0].action == "started"
        assert any(entry.action == "approved" for entry in screen.entries[:3])
        assert screen.check_action("approve", ()) is None
        assert screen.check_action("stop", ()) is True


async def test_offline_keeps_the_data_and_says_so(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, AWAITING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        before = plan_lines(screen)
        entries = list(screen.entries)

        sim.add_fault("POST", "/api/v2/actions", status=503, body='{"message": "down"}')
        clock.advance(2)
        await poll(pilot)

        status = shown(screen, "#details-status", 120)
        assert status.startswith("offline · retrying in 5s")  # the one back-off rule
        assert "last update 2s ago" in status
        assert "down (HTTP 503)" in status
        assert screen.query_one("#details-status").has_class("-offline")
        assert plan_lines(screen) == before
        assert screen.entries == entries
        assert screen.query_one("#details-gate").has_class("-shown")

        await poll(pilot)  # the fault was used up: back online
        assert shown(screen, "#details-status").startswith("updated just now")
        assert not screen.query_one("#details-status").has_class("-offline")


async def test_deleted_pipeline_says_so(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, FAILED)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        sim.world.delete_pipelines([screen.pipeline.id])
        await poll(pilot)

        assert screen.deleted
        notice = screen.query_one("#details-notice")
        assert notice.has_class("-shown")
        assert "deleted" in shown(screen, "#details-notice")
        assert "deleted" in shown(screen, "#details-status")
        assert plan_lines(screen), "the last known plan stays on screen"
        assert all(
            screen.check_action(action, ()) is None
            for action in ("run", "reset", "edit", "clone", "delete")
        )
        sim.requests.clear()
        await pilot.press("r")
        await settle(pilot)
        assert app.calls == []
        assert app.notes[-1] == f"{FAILED} was deleted."
        assert sim.requests == []


# -- keys ---------------------------------------------------------------------------------------


async def test_approve_key_on_awaiting_calls_perform_action(
    sim: SimServer, clock: ManualClock
) -> None:
    app = details_app(sim, clock, AWAITING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        sim.requests.clear()
        await pilot.press("a")
        await settle(pilot)
        assert [(action, [item.id for item in items]) for action, items in app.calls] == [
            ("approve", [screen.pipeline.id])
        ]
        # Nothing was sent by the screen itself: the app acts; the screen polls on action_done.
        assert sim.requests == []


async def test_polls_again_when_the_app_says_an_action_was_sent(
    sim: SimServer, clock: ManualClock
) -> None:
    app = details_app(sim, clock, AWAITING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        sim.requests.clear()
        app.action_done.publish(Performed("approve", "pipeline"))  # asked, then cancelled
        app.action_done.publish(Performed("run", "task", sent=["a" * 24]))
        await settle(pilot)
        assert sim.requests == []
        app.action_done.publish(Performed("approve", "pipeline", sent=[screen.pipeline.id]))
        await settle(pilot)
        assert [r.path for r in sim.requests] == ["/api/v2/actions", "/api/v1/pipeline/logs"]


async def test_other_action_keys_on_awaiting(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, AWAITING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("x", "e", "c", "D", "s", "R"):
            await pilot.press(key)
            await settle(pilot)
        assert [call[0] for call in app.calls] == [
            "reject",
            "update",
            "clone",
            "delete",
            "stop",
            "reset",
        ]
        assert app.notes == []


async def test_keys_that_do_not_apply_explain_instead(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, RUNNING)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailsScreen)
        enabled = {
            binding.binding.action: binding.enabled
            for binding in screen.active_bindings.values()
            if binding.node is screen
            and not binding.binding.action.startswith(("app.", "screen."))
            and binding.binding.action != "refresh_now"
        }
        assert enabled == {
            "back": True,
            "run": False,
            "stop": True,
            "reset": True,
            "approve": False,
            "reject": False,
            "edit": True,
            "clone": True,
            "delete": True,
        }
        await pilot.press("a", "r")
        await settle(pilot)
        assert app.calls == []
        assert app.notes == [
            f"{RUNNING} is not awaiting approval.",
            f"{RUNNING} is already running.",
        ]
        await pilot.press("R")
        await settle(pilot)
        assert [call[0] for call in app.calls] == ["reset"]


async def test_escape_goes_back(sim: SimServer, clock: ManualClock) -> None:
    app = details_app(sim, clock, NEVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DetailsScreen)
        assert len(app.screen_stack) == 1


async def test_escape_while_a_poll_is_in_flight(sim: SimServer, clock: ManualClock) -> None:
    sim.add_fault("POST", "/api/v1/pipeline/logs", status=200, body="{}", delay=0.3)
    app = details_app(sim, clock, NEVER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DetailsScreen)
        await pilot.press("escape")  # the poll's second request is still waiting
        await settle(pilot)
        assert not isinstance(app.screen, DetailsScreen)
        await pilot.pause(0.4)
    assert app.return_code in (None, 0)


# -- snapshots ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("name", [AWAITING, RUNNING], ids=["awaiting", "running"])
def test_snapshot(
    snap_compare: Any, sim: SimServer, clock: ManualClock, name: str, size: tuple[int, int]
) -> None:
    assert snap_compare(details_app(sim, clock, name), terminal_size=size, run_before=settle)
