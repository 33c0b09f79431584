"""A screen whose greyed-out action keys say why, instead of doing nothing.

Textual drops a key whose ``check_action`` returned None without a word. For an operator at night
that silence is a trap ("did it approve?"), so these screens catch such a key first and explain.
"""

from __future__ import annotations

import time

from textual import events
from textual.screen import Screen

__all__ = ["EXPLAIN_AGAIN_AFTER", "ExplainingScreen"]

EXPLAIN_AGAIN_AFTER = 2.0
"""Seconds before the same explanation is shown again (a held key repeats)."""


class ExplainingScreen(Screen[None]):
    """A screen that explains its greyed-out keys; subclasses say why in :meth:`reason_for_key`."""

    _explained: tuple[str, float] = ("", 0.0)

    @property
    def on_stack(self) -> bool:
        """True while the screen is on the app's stack.

        False once it was popped: its widgets may be gone already, so a poll or a timer that
        lands then must not touch them (a quick ``enter`` ``escape`` pops a screen before its
        first poll has answered, or even before it finished mounting).
        """
        return self.is_attached and self in self.app.screen_stack

    def reason_for_key(self, action: str) -> str | None:
        """Why the screen action ``action`` does nothing now, as a sentence; None if it applies."""
        return None

    def on_key(self, event: events.Key) -> None:
        """Say why, when a greyed-out action key is pressed (Textual would ignore it)."""
        active = self.active_bindings.get(event.key)
        if active is None or active.enabled or active.node is not self:
            return
        reason = self.reason_for_key(active.binding.action)
        if reason is None:
            return
        event.stop()
        event.prevent_default()
        self.explain(reason)

    def explain(self, reason: str) -> None:
        """Say why a key did nothing: once, not once per repeat of a held key."""
        moment = time.monotonic()
        last_reason, last_moment = self._explained
        if reason == last_reason and moment - last_moment < EXPLAIN_AGAIN_AFTER:
            return
        self._explained = (reason, moment)
        self.notify(reason, severity="warning", markup=False, timeout=4)
