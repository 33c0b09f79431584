"""A screen whose greyed-out action keys say why, instead of doing nothing.

Textual drops a key whose ``check_action`` returned None without a word. For an operator at night
that silence is a trap ("did it approve?"), so these screens catch such a key first and explain.

Under a read-only profile (``settings.read_only``), every key that changes something
(:attr:`ExplainingScreen.MUTATING`) is greyed on every screen and says so when pressed.
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual import events
from textual.screen import Screen

__all__ = ["EXPLAIN_AGAIN_AFTER", "READ_ONLY", "ExplainingScreen", "is_read_only"]

READ_ONLY = "read-only profile: nothing that changes anything is sent"
"""What a mutating key says under a read-only profile."""

EXPLAIN_AGAIN_AFTER = 2.0
"""Seconds before the same explanation is shown again (a held key repeats)."""


def is_read_only(app: object) -> bool:
    """True when the app runs a read-only profile (nothing that changes anything is sent)."""
    return bool(getattr(getattr(app, "settings", None), "read_only", False))


class ExplainingScreen(Screen[None]):
    """A screen that explains its greyed-out keys; subclasses say why in :meth:`reason_for_key`."""

    MUTATING: ClassVar[frozenset[str]] = frozenset()
    """The screen actions that change something on the server (refused when read-only)."""

    _explained: tuple[str, float] = ("", 0.0)

    @property
    def read_only(self) -> bool:
        """True under a read-only profile."""
        return is_read_only(self.app)

    def refusal(self, action: str) -> str | None:
        """:data:`READ_ONLY` when ``action`` changes something and the profile is read-only."""
        return READ_ONLY if action in self.MUTATING and self.read_only else None

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

    async def run_or_explain(self, action: str) -> None:
        """Run the screen action ``action`` (a palette command), or say why it does nothing."""
        if self.check_action(action, ()):
            await self.run_action(action)
            return
        reason = self.reason_for_key(action)
        if reason is not None:
            self.explain(reason)
