"""What the seeded generator hands the world, and what its pipeline and task parts share.

The tenant at time zero (:class:`Generated`), the transitions it leaves for the world to schedule
(:class:`PendingEvent`), and the small helpers both generators draw with. Nothing here draws from
a random generator it does not receive: the order of draws stays the generators' own.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from opstui.sim.common import Doc, hex_id
from opstui.sim.names import Person

__all__ = [
    "DAY",
    "HOUR",
    "MINUTE",
    "Generated",
    "IdSource",
    "PendingEvent",
    "Scenario",
    "log_uniform_ms",
    "unique",
    "user_id",
]

IdSource = Callable[[str], str]
"""Hands out the next deterministic id of a kind (``"row"``, ...)."""

Scenario = Literal["never", "success", "failed", "stopped", "running", "awaiting", "paused"]

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def user_id(person: Person) -> str:
    """The stable user id of a member of the tenant."""
    return hex_id("user", person.email)


@dataclass(frozen=True)
class PendingEvent:
    """A transition that the world must schedule: the end of a running step or task."""

    when: datetime
    kind: Literal["step", "task"]
    key: str
    run_count: int
    index: int


@dataclass
class Generated:
    """The tenant at time zero."""

    pipelines: list[Doc] = field(default_factory=list)
    tasks: list[Doc] = field(default_factory=list)
    activity: dict[str, list[Doc]] = field(default_factory=dict)
    pending: list[PendingEvent] = field(default_factory=list)


def log_uniform_ms(rng: random.Random, low_ms: int, high_ms: int) -> int:
    """A duration spread evenly on a log scale: as many "minutes ago" as "hours ago"."""
    return int(math.exp(rng.uniform(math.log(low_ms), math.log(high_ms))))


def unique(name: str, used: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... the first not in ``used`` (which it joins)."""
    candidate = name
    k = 2
    while candidate in used:
        candidate = f"{name}-{k}"
        k += 1
    used.add(candidate)
    return candidate
