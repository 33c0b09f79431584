"""No Textual timer may stop the app: one of a negative or zero interval fires at once.

Unguarded, Textual 8.2.8 loops forever on a negative interval (the soak met a toast re-shown
39 us after its notification expired): these tests would never end. They run under the guard
that :mod:`opstui.tui.app` installs.
"""

from __future__ import annotations

from time import time

import pytest
from textual.app import App, ComposeResult
from textual.notifications import Notification
from textual.timer import Timer
from textual.widgets import Label
from textual.widgets._toast import Toast

import opstui.tui.app  # noqa: F401  (installs the guard, as the app does)
from opstui.tui.timer_guard import SHORTEST, install


class _Plain(App[None]):
    def compose(self) -> ComposeResult:
        yield Label("plain")


@pytest.mark.parametrize("delay", [-0.000039, 0.0, float("nan")])
async def test_a_timer_due_in_the_past_fires_once_and_the_app_goes_on(delay: float) -> None:
    app = _Plain()
    fired: list[float] = []
    async with app.run_test() as pilot:
        timer = app.set_timer(delay, lambda: fired.append(time()))
        assert timer._interval == SHORTEST
        for _ in range(100):  # bounded: the loop takes turns again
            if fired:
                break
            await pilot.pause(0.01)
        await pilot.pause(0.05)
    assert len(fired) == 1


async def test_a_toast_whose_notification_just_expired_is_shown_and_goes() -> None:
    app = _Plain()
    async with app.run_test() as pilot:
        expired = Notification("already over", timeout=1.0)
        expired.raised_at = time() - 1.5  # expired as the rack made its toast
        await app.screen.mount(Toast(expired))
        for _ in range(100):
            if not app.screen.query(Toast):
                break
            await pilot.pause(0.01)
        assert not app.screen.query(Toast)  # it expired at once, and the app went on


def test_installing_twice_guards_once() -> None:
    guarded = Timer.__init__
    install()
    assert Timer.__init__ is guarded
