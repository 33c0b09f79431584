"""The simulator on the wire: uvicorn set up to serve it, and answers no well-behaved server sends.

Resetting a connection mid-body needs the socket, which ASGI does not hand out: :class:`SimProtocol`
(uvicorn's h11 protocol) puts each connection's transport in the request scope, under
``scope["extensions"]["opstui.transport"]``. :func:`render` turns a :class:`~opstui.sim.strikes.Strike`
and the answer it damages into the response the client gets. :class:`SimUvicorn` sets the state's
``stopping`` event when it shuts down, so requests left hanging end at once and a stop stays quick.
"""

from __future__ import annotations

import asyncio
import http
import math
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final, cast

import uvicorn
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from opstui.sim.damage import (
    STAND_IN,
    dumps,
    error_body,
    html_page,
    loads,
    malformed,
    padded,
    v1_body,
    wrong_shape,
)
from opstui.sim.faults import PROXY_ERRORS, SERVER_ERRORS
from opstui.sim.strikes import Strike

TRANSPORT_KEY: Final = "opstui.transport"
"""Where :class:`SimProtocol` puts a request's transport, in ``scope["extensions"]``."""

POLL: Final = 0.02
"""How often a waiting request looks whether the server is stopping, in seconds."""

_App = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


class SimProtocol(H11Protocol):
    """uvicorn's h11 protocol, handing each request its connection's transport (for resets)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the connection, and wrap the app so each request's scope carries ``transport``."""
        super().connection_made(transport)
        inner = cast(_App, self.app)

        async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            extensions = scope.setdefault("extensions", {})
            extensions[TRANSPORT_KEY] = transport
            await inner(scope, receive, send)

        self.app = cast(Any, app)


class SimUvicorn(uvicorn.Server):
    """A uvicorn server that sets ``stopping`` as soon as it starts shutting down."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Release the requests a fault holds, then shut down as uvicorn does."""
        self.stopping.set()
        await super().shutdown(sockets)


async def pause(seconds: float, stopping: threading.Event) -> None:
    """Sleep ``seconds``, or less if the server starts stopping."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not stopping.is_set():
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(POLL, left))


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def until_gone(
    receive: Receive, stopping: threading.Event, seconds: float = math.inf
) -> bool:
    """Wait until the client disconnects (True), or the server stops or ``seconds`` pass (False)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    watch = asyncio.ensure_future(_disconnect(receive))
    try:
        while not watch.done():
            left = deadline - loop.time()
            if stopping.is_set() or left <= 0:
                return False
            await asyncio.wait({watch}, timeout=min(POLL, left))
        return True
    finally:
        watch.cancel()


def _transport(scope: Scope) -> asyncio.Transport | None:
    found = scope.get("extensions", {}).get(TRANSPORT_KEY)
    return found if isinstance(found, asyncio.Transport) else None


def _drop(transport: asyncio.Transport, *, reset: bool) -> None:
    """Close the connection: with a TCP reset (RST) if ``reset``, else an orderly close (FIN)."""
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        transport.close()


class HangingResponse(Response):
    """No answer at all: the request waits until the client gives up or the server stops."""

    def __init__(self, stopping: threading.Event) -> None:
        super().__init__(b"")
        self._stopping = stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wait; if the server stops first, drop the connection without a word."""
        if await until_gone(receive, self._stopping):
            return
        transport = _transport(scope)
        if transport is not None:
            _drop(transport, reset=False)
            await until_gone(receive, threading.Event(), seconds=5)


class CutResponse(Response):
    """The status line, the headers (with the full ``Content-Length``) and part of the body; then
    a TCP reset (``reset=True``) or an orderly close in the middle of the body."""

    def __init__(self, answer: Response, cut: int, *, reset: bool) -> None:
        super().__init__(b"")
        self._answer, self._cut, self._reset = answer, cut, reset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Write what the client will get, straight to the transport, and drop the connection."""
        answer = self._answer
        body = bytes(answer.body)
        headers = [(k, v) for k, v in answer.raw_headers if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        transport = _transport(scope)
        if transport is None or transport.is_closing():
            # Not served by SimProtocol: leave the response unfinished; the server then closes.
            await send(
                {"type": "http.response.start", "status": answer.status_code, "headers": headers}
            )
            await send({"type": "http.response.body", "body": body[: self._cut], "more_body": True})
            return
        phrase = http.HTTPStatus(answer.status_code).phrase
        head = f"HTTP/1.1 {answer.status_code} {phrase}\r\n".encode()
        head += b"".join(k + b": " + v + b"\r\n" for k, v in headers) + b"\r\n"
        transport.write(head + body[: self._cut])
        if self._reset:
            # Let the bytes reach the kernel first: a reset throws away whatever is still queued.
            for _ in range(500):
                if not transport.get_write_buffer_size():
                    break
                await asyncio.sleep(0.002)
        _drop(transport, reset=self._reset)
        await until_gone(receive, threading.Event(), seconds=5)


def stand_in() -> Response:
    """The answer a fault damages when it strikes before the world saw the request."""
    return Response(STAND_IN, media_type="application/json")


def render(strike: Strike, answer: Response, stopping: threading.Event) -> Response | None:
    """The response the client gets when ``strike`` hits ``answer``; None when this fault cannot
    apply to that answer (e.g. ``v1`` on an answer that is not an action's), so ``answer`` stands."""
    kind, rng, extra = strike.kind, strike.rng, dict(strike.headers)
    status, body = answer.status_code, bytes(answer.body)
    if kind == "status":
        return Response(strike.body, status_code=strike.status or 500, headers=extra)
    if kind == "5xx":
        code = strike.status if strike.status is not None else rng.choice(SERVER_ERRORS)
        body = error_body(f"simulated server error {code}")
        return Response(body, code, headers=extra, media_type="application/json")
    if kind == "429":
        headers = {"Retry-After": str(strike.retry_after), **extra}
        body = error_body("Too many requests: slow down")
        return Response(body, 429, headers=headers, media_type="application/json")
    if kind == "html":
        code = strike.status if strike.status is not None else rng.choice(PROXY_ERRORS)
        return Response(html_page(code), code, headers=extra, media_type="text/html")
    if kind == "hang":
        return HangingResponse(stopping)
    if kind in ("reset", "truncate"):
        whole = answer if len(body) >= 2 else stand_in()
        cut = rng.randint(1, len(whole.body) - 1)
        return CutResponse(whole, cut, reset=kind == "reset")
    json_headers = {**_content_type(answer), **extra}
    if kind == "empty":
        return Response(b"", status, headers=json_headers)
    if kind == "gzip-lie":
        return Response(body, status, headers={**json_headers, "Content-Encoding": "gzip"})
    if kind == "malformed":
        return Response(malformed(body, rng), status, headers=json_headers)
    value = loads(body)
    if kind == "wrong-shape":
        changed = wrong_shape(value, rng)
    elif kind == "huge":
        changed = padded(value)
    else:
        changed = v1_body(value) if isinstance(value, dict) else None
    if changed is None:
        return None
    return Response(dumps(changed), status, headers=json_headers)


def _content_type(answer: Response) -> dict[str, str]:
    return {"Content-Type": answer.headers.get("content-type", "application/json")}
