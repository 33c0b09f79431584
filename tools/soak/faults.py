"""The soak's fault mix: a share of requests answered badly, before or after the simulator acts.

Each fault is a raw ASGI answer. ``before`` faults answer instead of the simulator (nothing is
applied); ``after`` faults let the simulator apply the request and then lose or spoil its
answer, the case where a client must say "outcome unknown" and never send again. Only requests
that change something get ``after`` faults (for a read the two are the same).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from starlette.types import Send

When = Literal["before", "after"]

JSON = b"application/json"


async def _answer(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    head = [(b"content-type", JSON), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _fixed(
    status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> Callable[[Send, float], Awaitable[None]]:
    async def respond(send: Send, hang: float) -> None:
        await _answer(send, status, body, headers)

    return respond


async def _html(send: Send, hang: float) -> None:
    body = (
        b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    )
    await send(
        {
            "type": "http.response.start",
            "status": 502,
            "headers": [
                (b"content-type", b"text/html"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _truncated(send: Send, hang: float) -> None:
    """A 200 that promises 4 KiB and closes the connection after 20 bytes."""
    head = [(b"content-type", JSON), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": head})
    await send({"type": "http.response.body", "body": b'{"status":"success",', "more_body": True})
    # Returning without the rest makes uvicorn close the connection mid-body.


async def _hang(send: Send, hang: float) -> None:
    """No answer for longer than the clients wait, then a 504 nobody reads."""
    await asyncio.sleep(hang)
    await _answer(send, 504, b'{"status":"failed","message":"gateway timeout"}')


FAULTS: dict[str, Callable[[Send, float], Awaitable[None]]] = {
    "500": _fixed(500, b'{"status":"failed","message":"injected server error"}'),
    "502-html": _html,
    "503-retry-after": _fixed(
        503, b'{"status":"failed","message":"unavailable"}', [(b"retry-after", b"1")]
    ),
    "429-retry-after": _fixed(
        429, b'{"status":"failed","message":"slow down"}', [(b"retry-after", b"1")]
    ),
    "empty-200": _fixed(200, b""),
    "malformed-json": _fixed(200, b'{"status": "success", "data": [{"_id": '),
    "wrong-shape": _fixed(200, b'{"status": 7, "data": {"results": null}, "count": "many"}'),
    "lying-gzip": _fixed(
        200, b'{"status":"success","data":[],"count":0}', [(b"content-encoding", b"gzip")]
    ),
    "truncated": _truncated,
    "hang": _hang,
}
"""Every kind of fault the soak injects, by name."""


@dataclass(frozen=True)
class Fault:
    """One fault chosen for one request."""

    kind: str
    when: When

    @property
    def label(self) -> str:
        """``kind/when``, as the figures count it."""
        return f"{self.kind}/{self.when}"

    async def respond(self, send: Send, hang: float) -> None:
        """Send this fault's answer."""
        await FAULTS[self.kind](send, hang)


class FaultMix:
    """Picks a fault for a share ``rate`` of the requests, each of ``kinds`` equally likely.

    A request that changes something meets its fault ``after`` the simulator applied it with
    probability ``after``, else ``before``.
    """

    def __init__(
        self,
        rate: float,
        *,
        kinds: Sequence[str] | None = None,
        after: float = 0.5,
        seed: int | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0 or not 0.0 <= after <= 1.0:
            raise ValueError("the fault rate and the after share must be between 0 and 1")
        unknown = set(kinds or ()) - FAULTS.keys()
        if unknown:
            raise ValueError(f"no such fault: {', '.join(sorted(unknown))}")
        self.rate = rate
        self.kinds = sorted(kinds or FAULTS)
        self.after = after
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def pick(self, mutating: bool) -> Fault | None:
        """A fault for the next request, or None to let it through untouched."""
        with self._lock:
            if self._random.random() >= self.rate:
                return None
            kind = self._random.choice(self.kinds)
            when: When = "after" if mutating and self._random.random() < self.after else "before"
            return Fault(kind, when)
