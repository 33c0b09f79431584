"""A guard on Textual's timers: no interval shorter than :data:`SHORTEST` (issue 8's soak).

Textual 8.2.8's ``Timer`` loops forever on a negative interval: when it runs late it skips
ahead by ``(now - start) / interval + 1`` ticks, which for a negative interval is a negative
count that never catches up (a one-shot timer waits for its count to pass 0), and the event
loop never gets a turn again; an interval of 0 divides by zero there. Textual makes such
a timer itself: a toast re-shown when a screen is pushed or popped is given its notification's
``time_left``, computed microseconds after the rack checked it had not expired; a soak of five
minutes at ten thousand pipelines (hundreds of toasts, screens coming and going) met one of
-39 us, and the app spun at 100% of a core, drawing nothing, until it was killed.

:func:`install` makes every timer made afterwards at least :data:`SHORTEST` long: a timer due
now fires at once, as it would have. Installed by :mod:`opstui.tui.app` at import.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from textual.timer import Timer

__all__ = ["SHORTEST", "install"]

SHORTEST = 0.001
"""The shortest interval a timer is given, in seconds."""


def install() -> None:
    """Guard ``Timer`` (once; a second call does nothing)."""
    original = Timer.__init__
    if getattr(original, "_opstui_guarded", False):
        return

    @wraps(original)
    def __init__(self: Timer, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not self._interval >= SHORTEST:  # negative, zero, or not a number
            self._interval = SHORTEST

    __init__._opstui_guarded = True  # type: ignore[attr-defined]
    Timer.__init__ = __init__  # type: ignore[method-assign]
