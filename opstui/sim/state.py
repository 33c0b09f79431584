"""What a running simulator holds besides its world: tokens, options, faults, and what it received."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from opstui.sim.errors import Unauthorized
from opstui.sim.faults import FaultPlan, When
from opstui.sim.strikes import FaultEngine
from opstui.sim.world import World

Role = Literal["full", "readonly"]


@dataclass
class SimOptions:
    """Switches that make the simulator answer like other (still valid) servers. Mutable at runtime."""

    list_shape: Literal["data", "array", "pipelines"] = "data"
    """Envelope of list endpoints: ``{"data": [...], "count": N}``, a bare array, or
    ``{"pipelines": [...], "count": N}`` (``{"tasks": ...}`` on the task list)."""
    action_shape: Literal["v2", "v1"] = "v2"
    """``v1``: a single-target action answers the bare ``{"status", "message", "runCount"?}`` body."""
    status_shape: Literal["v2", "v1"] = "v2"
    """``v1``: the ``status`` action answers the bare ``{"status", "message"}`` body, no documents."""
    ignore_paging: bool = False
    """Answer page 1 whatever ``currentPage`` says, like a server that ignores paging."""


@dataclass
class RecordedRequest:
    """One request as the simulator received it (never with the token itself)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any | None
    """The parsed JSON body, or None when there was none or it was not JSON."""
    has_auth: bool
    """Whether an ``Authorization`` header was sent (whatever its value)."""
    action: str | None = None
    """The ``action`` of a ``POST /api/v2/actions`` body, else None."""
    fault: str | None = None
    """The kind of fault that struck this request (see :mod:`opstui.sim.faults`), or None."""
    applied: bool = False
    """Whether the world handled the request and answered 2xx, so any change it asked for was
    made; False when it was refused or a fault struck before the world saw it. Set once the
    simulator has decided, before it answers (so a client never sees an answer before this)."""


@dataclass
class _Tally:
    received: int = 0
    applied: int = 0
    faults: Counter[str] = field(default_factory=Counter)


@dataclass
class SimState:
    """What the app serves and remembers: the world, the tokens, the options, the request log, faults."""

    world: World
    token: str
    readonly_token: str | None
    options: SimOptions
    faults: FaultEngine = field(default_factory=FaultEngine)
    requests: list[RecordedRequest] = field(default_factory=list)
    max_requests: int | None = None
    """Keep at most about this many requests in :attr:`requests` (None: all); the counts of
    :meth:`summary` cover every request whatever this is."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the server shuts down: requests left hanging by a fault end then."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _tallies: dict[tuple[str, str, str | None], _Tally] = field(
        default_factory=dict, init=False, repr=False
    )
    _targets: dict[tuple[str, str, str], _Tally] = field(
        default_factory=dict, init=False, repr=False
    )

    def authorize(self, header: str | None) -> Role:
        """The role an ``Authorization`` header grants; raises :class:`Unauthorized` otherwise."""
        if not header:
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
        scheme, _, credential = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise Unauthorized("the Authorization header must be 'Bearer <token>'")
        given = credential.strip().encode()
        if secrets.compare_digest(given, self.token.encode()):
            return "full"
        if self.readonly_token is not None and secrets.compare_digest(
            given, self.readonly_token.encode()
        ):
            return "readonly"
        raise Unauthorized("invalid or expired token")

    # -- faults ----------------------------------------------------------------------------------

    @property
    def fault_plan(self) -> FaultPlan:
        """The plan of fault rates in force."""
        return self.faults.plan

    @fault_plan.setter
    def fault_plan(self, plan: FaultPlan) -> None:
        self.faults.plan = plan

    def add_fault(
        self,
        method: str,
        path: str,
        *,
        status: int = 500,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        times: int = 1,
        kind: str = "status",
        when: When | None = None,
        action: str | None = None,
    ) -> None:
        """Strike the next ``times`` requests to ``method path`` with a fault (see
        :meth:`opstui.sim.strikes.FaultEngine.add`); by default the raw ``status``/``body``/``headers``
        answer, after ``delay`` seconds."""
        self.faults.add(
            method,
            path,
            kind=kind,
            when=when,
            action=action,
            status=status,
            body=body,
            headers=headers,
            delay=delay,
            times=times,
        )

    def clear_faults(self) -> None:
        """Forget every fault: the plan (back to none) and the pending one-shot faults."""
        self.faults.plan = FaultPlan()
        self.faults.clear()

    # -- the request log -------------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> RecordedRequest:
        """Log a request as it arrives and count it."""
        requests = self.requests
        requests.append(request)
        limit = self.max_requests
        if limit is not None and len(requests) > limit:
            del requests[: len(requests) - limit + limit // 10]
        with self._lock:
            self._tally(request).received += 1
            for key in _target_keys(request):
                self._targets.setdefault(key, _Tally()).received += 1
        return request

    def settle(self, request: RecordedRequest, fault: str | None, applied: bool) -> None:
        """Note which fault struck a logged request and whether the world applied it."""
        request.fault, request.applied = fault, applied
        with self._lock:
            tally = self._tally(request)
            tally.applied += applied
            if fault is not None:
                tally.faults[fault] += 1
            for key in _target_keys(request):
                target = self._targets.setdefault(key, _Tally())
                target.applied += applied
                if fault is not None:
                    target.faults[fault] += 1

    def _tally(self, request: RecordedRequest) -> _Tally:
        key = (request.method, request.path, request.action)
        tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally()
        return tally

    def clear_requests(self) -> None:
        """Forget the request log and every count of :meth:`summary`."""
        self.requests.clear()
        with self._lock:
            self._tallies.clear()
            self._targets.clear()

    def summary(self) -> dict[str, Any]:
        """Counts of what was received since the start (or :meth:`clear_requests`).

        ``endpoints``: per method, path and action, requests ``received``, ``applied`` and the
        ``faults`` that struck them; ``targets``: the same per action, type and target id, for every
        action but ``status`` (so "no action was sent twice" can be checked from outside).
        """
        with self._lock:
            endpoints = [
                {"method": m, "path": p, "action": a, **_tally_json(t)}
                for (m, p, a), t in sorted(self._tallies.items(), key=lambda kv: str(kv[0]))
            ]
            targets = [
                {"action": a, "type": k, "target": t, **_tally_json(tally)}
                for (a, k, t), tally in sorted(self._targets.items())
            ]
        faults: Counter[str] = Counter()
        for item in endpoints:
            faults.update(item["faults"])
        return {
            "received": sum(item["received"] for item in endpoints),
            "applied": sum(item["applied"] for item in endpoints),
            "faults": dict(sorted(faults.items())),
            "endpoints": endpoints,
            "targets": targets,
        }


def _tally_json(tally: _Tally) -> dict[str, Any]:
    return {
        "received": tally.received,
        "applied": tally.applied,
        "faults": dict(sorted(tally.faults.items())),
    }


def _target_keys(request: RecordedRequest) -> list[tuple[str, str, str]]:
    """(action, type, target) of each target of a changing action, for the summary."""
    body = request.body
    if request.action is None or request.action == "status" or not isinstance(body, Mapping):
        return []
    kind = body.get("type")
    target = body.get("target")
    targets = [target] if isinstance(target, str) else target if isinstance(target, list) else []
    ids = dict.fromkeys(t for t in targets if isinstance(t, str))
    return [(request.action, str(kind), t) for t in ids]
