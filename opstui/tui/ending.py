"""The signals that end the app the orderly way: SIGTERM and SIGHUP.

A terminal closed (SIGHUP) or a ``kill`` (SIGTERM) must not lose the audit line of an action on
its way: the app catches both while it runs, says the outcome is unknown, and exits with the code
a shell reports for a process ended so. Once it stops, the handlers it replaced are back.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import Any

__all__ = ["ENDING_SIGNALS", "EndingSignals", "exit_code", "signal_name"]

ENDING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""Signals that end the app the orderly way (the audit lines of actions on their way written)."""


class EndingSignals:
    """Catches :data:`ENDING_SIGNALS` on the running loop, and gives them back."""

    def __init__(self, ended: Callable[[int], None]) -> None:
        """``ended(number)`` runs on the loop when one of the signals arrives."""
        self._ended = ended
        self._caught: list[tuple[int, Any]] = []

    def catch(self) -> None:
        """Handle the signals on the running loop (nothing where signals cannot be caught)."""
        loop = asyncio.get_running_loop()
        for number in ENDING_SIGNALS:
            try:
                previous = signal.getsignal(number)
                loop.add_signal_handler(number, self._ended, number)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # not the main thread, or no signals here (Windows)
            self._caught.append((number, previous))

    def release(self) -> None:
        """Put back the handlers :meth:`catch` replaced."""
        loop = asyncio.get_running_loop()
        for number, previous in self._caught:
            loop.remove_signal_handler(number)
            signal.signal(number, previous)
        self._caught.clear()


def exit_code(number: int) -> int:
    """What a shell reports for a process ended by signal ``number``."""
    return 128 + number


def signal_name(number: int) -> str:
    """``SIGTERM``, ``SIGHUP``."""
    return signal.Signals(number).name
