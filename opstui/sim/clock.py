"""Clocks for the simulator: a manual one for tests, a real (optionally sped-up) one for demos."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

DEFAULT_START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
"""Where a :class:`ManualClock` starts unless told otherwise."""


def _as_utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("the simulator's clocks need timezone-aware datetimes")
    return when.astimezone(UTC)


class Clock(Protocol):
    """Anything that tells the simulated time."""

    def now(self) -> datetime:
        """The current simulated time, timezone-aware, in UTC."""
        ...


class ManualClock:
    """A clock that only moves when told to: the deterministic clock of every test."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = _as_utc(start) if start is not None else DEFAULT_START

    def now(self) -> datetime:
        """The current simulated time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never backwards)."""
        if seconds < 0:
            raise ValueError("a ManualClock only moves forward")
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (timezone-aware)."""
        self._now = _as_utc(when)


class RealClock:
    """Wall-clock time, optionally sped up: ``start + real elapsed * speed``."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = _as_utc(start) if start is not None else datetime.now(UTC)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """The simulated time: the start plus the real time elapsed since, times the speed."""
        elapsed = (time.monotonic() - self._origin) * self.speed
        return self._start + timedelta(seconds=elapsed)
