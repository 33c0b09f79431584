"""When the app's cyclic garbage is collected (issue 7: memory stays flat for hours).

Why a policy at all: Textual makes reference cycles all the time (screens, messages, timers,
a table's rendered lines with the caches each :class:`~textual.strip.Strip` carries). CPython
frees them only in a collection of their generation, and a full (oldest-generation) pass runs
only once the objects that reached the oldest generation since the last one exceed a quarter
of those there after it. Garbage that lived long enough to get there waits, meanwhile, in
Python's small-object arenas; when it piles up, pymalloc takes new arenas, and after the pass
frees it those arenas stay partly used and are not given back: the resident memory keeps the
high-water mark of the garbage, not of what is alive.

The data service freezes what start-up and the first load made (``gc.freeze``: modules, CSS,
the first screen, the pipelines), so a full pass walks only what the app made since, which is
cheap even at ten thousand pipelines (35 ms of CPU, measured with ``tools.soak.gc_stall``,
against 240 ms with nothing frozen). :class:`IdleCollector` looks every :data:`INTERVAL`
seconds and runs one once :data:`GROWTH` objects more than after the last one are in the
oldest generation, at a moment the app's message queue is empty (no key waiting): the garbage
waiting there stays below that. The soak measured why: 40,000 objects (5 MiB) of garbage
waited a full pass for a minute, and took four arenas the app kept.

What a pass finds alive it may freeze too (:data:`FREEZE_AT`): after a batch on every pipeline
or a list that replaced thousands, the new records (each with its sort keys and search text)
are all young, and at fifty thousand pipelines one pass over them stopped the app for 60-150
ms, at every pass, until the next batch. Frozen, they are freed as before when let go (by
their reference count: none is in a cycle); only a cycle alive at the freeze and let go later
is never collected, which is why a pass freezes only when so much survived (the data, not the
screens) and only the first screen is shown (a dialog or another screen is a cycle soon let
go).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App
from textual.timer import Timer

__all__ = ["FREEZE_AT", "GROWTH", "INTERVAL", "IdleCollector"]

INTERVAL = 5.0
"""Seconds between two looks at the oldest generation (a look counts it, nothing more)."""

GROWTH = 10_000
"""Objects more in the oldest generation than after the last full collection that make the
next look collect (about a mebibyte of Textual's garbage; CPython's own rule waits for a
quarter of what lived there, and what is frozen counts)."""

FREEZE_AT = 20_000
"""Objects alive after a pass, not frozen, from which the pass freezes them (a new generation of
the data: two objects a pipeline at least; the app at forty pipelines keeps a few thousand)."""


@dataclass
class Collected:
    """What the idle collections did so far (for the soak's diagnosis and the tests)."""

    runs: int = 0
    found: int = 0
    """Unreachable objects the last collection freed."""
    longest: float = 0.0
    """The longest collection, in seconds of process CPU time."""
    frozen: int = 0
    """Objects the passes froze, in all."""
    freezes: int = 0
    """Passes that froze what survived them."""


class IdleCollector:
    """A full ``gc.collect()`` when the oldest generation grew by ``growth`` objects (0: at
    every look), looked at every ``interval`` seconds while the app is idle, when ``ready``
    says so (the app's: the first load is frozen, no batch is on its way); what survives it is
    frozen when it is ``freeze_at`` objects or more (0: never) and ``at_rest`` says nothing
    short-lived is open.

    A look is cheap at rest: it asks ``ready`` (not ``gc.get_freeze_count()``, which on Python
    3.11 walks every frozen object: 15 ms a look, most of the app's idle CPU) and counts the
    oldest generation only when a pass of the middle or oldest generation ran since the last
    look (nothing else moves objects there)."""

    def __init__(
        self,
        app: App[Any],
        interval: float = INTERVAL,
        growth: int = GROWTH,
        *,
        ready: Callable[[], bool] = lambda: True,
        freeze_at: int = FREEZE_AT,
        at_rest: Callable[[], bool] = lambda: True,
    ) -> None:
        self.app = app
        self.interval = interval
        self.growth = growth
        self.ready = ready
        self.freeze_at = freeze_at
        self.at_rest = at_rest
        self.collected = Collected()
        self._timer: Timer | None = None
        self._after_last = 0
        """Objects in the oldest generation after the last collection."""
        self._promotions = -1
        """Passes that promote to the oldest generation, at the last count."""

    def start(self) -> None:
        """Collect every ``interval`` seconds from now on (until the app ends)."""
        if self._timer is None:
            self._timer = self.app.set_interval(self.interval, self.tick, name="idle-collect")

    def stop(self) -> None:
        """No more collections."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def tick(self) -> bool:
        """Collect now if the oldest generation grew enough since the first load was frozen,
        unless the app has messages waiting (a key, a repaint): then a later tick does. True
        when it collected."""
        if not self.app._message_queue.empty():
            return False
        if not self.ready():
            # The first load is not frozen yet (nor over): a pass now would walk all of it, and
            # at ten thousand pipelines one every few seconds would add up to seconds.
            return False
        if self.growth:
            promotions = _middle_passes()
            if promotions == self._promotions:
                return False  # the oldest generation is as it was at the last count
            self._promotions = promotions
            if len(gc.get_objects(generation=2)) - self._after_last < self.growth:
                return False
        self.collect()
        return True

    def collect(self) -> int:
        """A full collection, then a freeze of what survived if it is that much; returns what
        the collection freed."""
        collected = self.collected
        started = time.process_time()
        found = gc.collect()
        survivors = len(gc.get_objects(generation=2))
        if self.freeze_at and survivors >= self.freeze_at and self.at_rest():
            gc.freeze()
            collected.frozen += survivors
            collected.freezes += 1
            survivors = 0
        spent = time.process_time() - started
        collected.runs += 1
        collected.found = found
        collected.longest = max(collected.longest, spent)
        self._after_last = survivors
        self._promotions = _middle_passes()
        return found


def _middle_passes() -> int:
    """How many collections of the middle or oldest generation ran in this process so far
    (each moves its survivors into the oldest)."""
    stats = gc.get_stats()
    return int(stats[1]["collections"]) + int(stats[2]["collections"])
