"""Keys typed ahead, as a fast operator (or a soak) types them: no screen may fall over.

``enter`` then ``escape`` pops the details screen while it mounts or before its first poll
answers; two ``escape`` pressed at once must leave one screen, not the pipelines screen too.
Keys are posted straight to the driver, without waiting for the app to be idle between them.
"""

from __future__ import annotations

import asyncio

from textual import events

from opstui.sim.server import SimServer
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.pipelines import PipelinesScreen
from tests.tui.conftest import MakeApp, settle


def type_ahead(app: object, keys: list[str]) -> None:
    driver = app._driver  # type: ignore[attr-defined]
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)  # type: ignore[arg-type]
        driver.send_message(event)


async def test_enter_escape_typed_ahead_never_crashes(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(6):
            type_ahead(app, ["enter", "escape", "j"])
            await asyncio.sleep(0.01)
        await settle(pilot)
        assert app._exception is None
        # Each key went to the screen on top when it was handled; so some details screens may
        # be open still. Escape closes them, one each, down to the pipelines.
        for _ in range(len(app.screen_stack)):
            if len(app.screen_stack) == 1:
                break
            assert isinstance(app.screen, DetailsScreen)
            await pilot.press("escape")
            await settle(pilot)
        assert app._exception is None
        assert [type(s) for s in app.screen_stack] == [PipelinesScreen]


async def test_two_escapes_leave_one_screen(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        type_ahead(app, ["escape", "escape"])
        await settle(pilot)
        assert app._exception is None
        assert [type(s) for s in app.screen_stack] == [PipelinesScreen]
