"""Which request meets which fault: the plan's seeded draws and the pending one-shot faults.

See :mod:`opstui.sim.faults` for the kinds and the plan. :class:`FaultEngine` is the one place that
decides, per request, the delay and the fault; :mod:`opstui.sim.wire` then renders it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opstui.sim.faults import (
    AFTER_ONLY_KINDS,
    BEFORE_KINDS,
    FAILURE_KINDS,
    ONE_SHOT_BEFORE_DEFAULT,
    ONE_SHOT_KINDS,
    FaultPlan,
    When,
    normal_path,
)


@dataclass(frozen=True)
class Strike:
    """The fault one request meets: its kind, when it strikes, and how to draw its details."""

    kind: str
    when: When
    rng: random.Random
    """Draws the details (which 5xx, where a body is cut, which field goes wrong)."""
    status: int | None = None
    """A one-shot's status (``status``, ``5xx`` and ``html`` kinds); None: drawn."""
    body: bytes = b""
    """A one-shot ``status`` kind's raw body."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Headers added to the answer."""
    retry_after: int = 1


@dataclass(frozen=True)
class Decision:
    """What happens to one request: a delay first, then perhaps a fault."""

    delay: float
    strike: Strike | None


@dataclass
class OneShot:
    """A fault for the next ``remaining`` requests to ``method path`` (and ``action``, if given)."""

    method: str
    path: str
    kind: str
    when: When
    action: str | None
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float
    remaining: int

    def as_json(self) -> dict[str, Any]:
        """The pending fault for ``GET /_sim/faults``."""
        return {
            "method": self.method,
            "path": self.path,
            "action": self.action,
            "kind": self.kind,
            "when": self.when,
            "status": self.status,
            "delay": self.delay,
            "remaining": self.remaining,
        }


class FaultEngine:
    """The plan and the pending one-shot faults of one simulator; safe to use from any thread."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self._plan = plan if plan is not None else FaultPlan()
        self._rates = self._plan.rates
        self._one_shots: list[OneShot] = []
        self._counts: dict[tuple[str, str, str | None], int] = {}
        self._shots = 0

    @property
    def plan(self) -> FaultPlan:
        """The plan in force."""
        return self._plan

    @plan.setter
    def plan(self, plan: FaultPlan) -> None:
        """Put ``plan`` in force; its draws start over, so the same requests meet the same faults."""
        with self._lock:
            self._plan, self._rates = plan, plan.rates
            self._counts.clear()

    def pending(self) -> list[OneShot]:
        """Copies of the one-shot faults still to strike, oldest first."""
        with self._lock:
            return [OneShot(**vars(shot)) for shot in self._one_shots]

    def add(
        self,
        method: str,
        path: str,
        *,
        kind: str = "status",
        when: When | None = None,
        action: str | None = None,
        status: int = 500,
        body: bytes | str = b"",
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
    ) -> None:
        """Strike the next ``times`` requests to ``method path`` (whose action is ``action``, if given).

        Raises ``ValueError`` for an unknown kind, or ``when="before"`` with a kind that reshapes the
        real answer.
        """
        if kind not in ONE_SHOT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(ONE_SHOT_KINDS)}")
        if when is None:
            when = "before" if kind in ONE_SHOT_BEFORE_DEFAULT else "after"
        if when not in ("before", "after"):
            raise ValueError(f"when must be 'before' or 'after', not {when!r}")
        if when == "before" and kind in AFTER_ONLY_KINDS:
            raise ValueError(f"a {kind} fault reshapes the real answer: it strikes only after")
        if times < 1:
            raise ValueError("times must be 1 or more")
        raw = body.encode() if isinstance(body, str) else bytes(body)
        shot = OneShot(
            method.upper(),
            normal_path(path),
            kind,
            when,
            action,
            status,
            raw,
            dict(headers or {}),
            delay,
            times,
        )
        with self._lock:
            self._one_shots.append(shot)

    def clear(self) -> None:
        """Forget every pending one-shot fault (the plan stays)."""
        with self._lock:
            self._one_shots.clear()

    def decide(self, method: str, path: str, action: str | None) -> Decision:
        """The delay and the fault (if any) for one request, using up a matching one-shot first."""
        with self._lock:
            for shot in self._one_shots:
                if (
                    shot.method == method
                    and shot.path == path
                    and (shot.action is None or shot.action == action)
                ):
                    shot.remaining -= 1
                    if shot.remaining == 0:
                        self._one_shots.remove(shot)
                    self._shots += 1
                    rng = random.Random(f"{self._plan.seed}:one-shot:{self._shots}")
                    strike = Strike(
                        shot.kind,
                        shot.when,
                        rng,
                        shot.status,
                        shot.body,
                        shot.headers,
                        self._plan.retry_after,
                    )
                    return Decision(shot.delay, strike)
            plan, rates = self._plan, self._rates
            if not plan.active:
                return Decision(0.0, None)
            key = (method, path, action)
            count = self._counts.get(key, 0)
            self._counts[key] = count + 1
        rng = random.Random(f"{plan.seed}:{method} {path}:{action}:{count}")
        delay = plan.latency + (rng.uniform(0, plan.jitter) if plan.jitter else 0.0)
        draw, when_draw, v1_draw = rng.random(), rng.random(), rng.random()
        edge = 0.0
        for kind in FAILURE_KINDS:
            edge += rates[kind]
            if draw < edge:
                when: When = (
                    "before"
                    if kind in BEFORE_KINDS
                    else "after"
                    if kind in AFTER_ONLY_KINDS or when_draw >= 0.5
                    else "before"
                )
                return Decision(delay, Strike(kind, when, rng, retry_after=plan.retry_after))
        if v1_draw < rates["v1"] and path == "/api/v2/actions":
            return Decision(delay, Strike("v1", "after", rng))
        return Decision(delay, None)
