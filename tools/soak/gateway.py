"""A gate in front of the simulator: who sent each request, what it asked, which fault it met.

Every process of the soak (and every CLI invocation) gets its own token, ``soak.<who>.<secret>``.
The gate swaps it for the simulator's one token and logs the request under ``<who>``, so that
"nothing sent twice" is counted per invocation rather than guessed from timing. Tokens with the
wrong secret pass through unchanged (and the simulator refuses them).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tools.soak.faults import Fault, FaultMix

MUTATING_PATHS = frozenset({"/api/v2/pipelines", "/api/v2/pipeline/create"})
"""POST paths that create something (besides the mutating actions of ``/api/v2/actions``)."""


@dataclass(frozen=True)
class Seen:
    """One request as the gate saw it."""

    at: float
    """Seconds since the gate opened."""
    who: str
    method: str
    path: str
    action: str
    """The body's ``action`` for ``/api/v2/actions``; else ``list``, ``logs``, ``create``..."""
    targets: tuple[str, ...]
    mutating: bool
    fault: str | None
    """``kind/when`` of the fault it met, if any."""


def token_for(who: str, secret: str) -> str:
    """The token a soak process sends: names it, and carries the run's secret."""
    return f"soak.{who}.{secret}"


def describe(method: str, path: str, body: bytes) -> tuple[str, tuple[str, ...], bool]:
    """What a request asks: its action, its targets, and whether it changes something."""
    if path == "/api/v2/actions" and method == "POST":
        try:
            data = json.loads(body)
        except ValueError:
            return "unreadable", (), False
        if not isinstance(data, dict):
            return "unreadable", (), False
        action = str(data.get("action"))
        raw = data.get("target")
        targets = tuple(str(t) for t in raw) if isinstance(raw, list) else (str(raw),)
        return action, targets, action != "status"
    if method == "POST" and path in MUTATING_PATHS:
        return "create", (), True
    if path.endswith("/logs"):
        return "logs", (), False
    return "list", (), False


class Gateway:
    """ASGI middleware around the simulator's app: attribution, faults, and a request log."""

    def __init__(
        self,
        inner: ASGIApp,
        *,
        sim_token: str,
        secret: str,
        faults: FaultMix | None,
        hang: float,
    ) -> None:
        self.inner = inner
        self.state = getattr(inner, "state", None)
        """The simulator app's state, which SimServer reaches through the app it serves."""
        self.faults = faults
        self.hang = hang
        self._auth = f"Bearer {sim_token}".encode()
        self._marker = f".{secret}"
        self._opened = time.monotonic()
        self._lock = threading.Lock()
        self.seen: list[Seen] = []
        self.struck: Counter[str] = Counter()

    def _who(self, header: bytes) -> tuple[str, bytes]:
        text = header.decode("latin-1")
        scheme, _, token = text.partition(" ")
        if (
            scheme.lower() == "bearer"
            and token.startswith("soak.")
            and token.endswith(self._marker)
        ):
            return token[len("soak.") : -len(self._marker)], self._auth
        return "?", header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        who = "?"
        headers = []
        for name, value in scope["headers"]:
            if name == b"authorization":
                who, value = self._who(value)
            headers.append((name, value))
        scope = dict(scope, headers=headers)
        body = await _read_body(receive)
        method = scope["method"].upper()
        path = scope["path"].rstrip("/") or "/"
        action, targets, mutating = describe(method, path, body)
        fault = self.faults.pick(mutating) if self.faults is not None else None
        seen = Seen(
            round(time.monotonic() - self._opened, 3),
            who,
            method,
            path,
            action,
            targets,
            mutating,
            fault.label if fault else None,
        )
        with self._lock:
            self.seen.append(seen)
            if fault is not None:
                self.struck[fault.label] += 1
        replay = _replay(body, receive)
        if fault is None:
            await self.inner(scope, replay, send)
        elif fault.when == "before":
            await fault.respond(send, self.hang)
        else:
            await self._after(scope, replay, send, fault)

    async def _after(self, scope: Scope, replay: Receive, send: Send, fault: Fault) -> None:
        """Let the simulator apply the request, then spoil its answer."""

        async def swallow(message: Message) -> None:
            return None

        await self.inner(scope, replay, swallow)
        await fault.respond(send, self.hang)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body once, then waits for the real disconnect."""
    given = False

    async def again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again
