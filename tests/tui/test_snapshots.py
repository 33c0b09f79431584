"""Snapshots of the main screen, its dialogs and its states, at 80x24 and 120x36.

Deterministic: a seeded simulator, a manual clock for every relative time, a fixed server label,
no cursor blink. A snapshot is a claim about the screen: review ``snapshot_report.html`` before
``--snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from opstui.api import PipelineStatus
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from tests.tui.conftest import MakeApp, first_with, highlight, named, settle, table_of

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]

Steps = Callable[[Pilot[Any]], Awaitable[None]]


async def loaded(pilot: Pilot[Any]) -> None:
    """The first refresh has landed."""
    await settle(pilot)


def on(status: PipelineStatus, *keys: str) -> Steps:
    """Highlight the first pipeline in ``status``, then press ``keys``."""

    async def steps(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await highlight(pilot, first_with(pilot.app, status))  # type: ignore[arg-type]
        await pilot.press(*keys)
        await pilot.pause()

    return steps


def on_named(name: str, *keys: str) -> Steps:
    """Highlight the pipeline called ``name``, then press ``keys``."""

    async def steps(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await highlight(pilot, named(pilot.app, name))  # type: ignore[arg-type]
        await pilot.press(*keys)
        await pilot.pause()

    return steps


async def marked_and_filtered(pilot: Pilot[Any]) -> None:
    """A quick view, a filter and two marks: what the summary line says about them."""
    await settle(pilot)
    await pilot.press("2", "space", "down", "space", "down", "slash", "n", "enter", "o")
    await pilot.pause()


SCREENS: dict[str, Steps] = {
    "main": loaded,
    "help": on(PipelineStatus.SUCCESS, "question_mark"),
    "confirm": on(PipelineStatus.RUNNING, "s"),
    "reject": on(PipelineStatus.AWAITING_APPROVAL, "x"),
    "delete": on_named("ledger-service-deploy", "D"),
    "edit": on_named("ledger-service-deploy", "e"),
    "clone": on_named("ledger-service-deploy", "c"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(name: str, size: tuple[int, int], make_app: MakeApp, snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=SCREENS[name])


def test_view(make_app: MakeApp, snap_compare: Any) -> None:
    """The summary line: quick view, filter, marks and sort."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=marked_and_filtered)


@pytest.mark.parametrize("size", SIZES)
def test_offline(
    size: tuple[int, int], make_app: MakeApp, sim: SimServer, snap_compare: Any
) -> None:
    """Offline after a first good load: rows kept and dimmed, one warning, the retry in words."""

    async def steps(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.client.retry = pilot.app.client.retry.__class__(attempts=1)  # type: ignore[attr-defined]
        sim.add_fault("GET", "/api/v2/pipelines", status=503, times=1)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert table_of(pilot.app).has_class("-stale")  # type: ignore[arg-type]

    assert snap_compare(make_app(), terminal_size=size, run_before=steps)


class TestEmptyServer:
    @pytest.fixture
    def world(self, clock: ManualClock) -> World:
        return World(seed=7, pipelines=0, tasks=0, clock=clock)

    @pytest.mark.parametrize("size", SIZES)
    def test_empty(self, size: tuple[int, int], make_app: MakeApp, snap_compare: Any) -> None:
        assert snap_compare(make_app(), terminal_size=size, run_before=loaded)
