"""The simulator running: :class:`SimServer` on uvicorn in a background thread (for tests and the
app's demo mode), :func:`run_sim` in the foreground (``opstui sim``).

The Starlette app they run, with the fault engine in front of the world, is
:func:`opstui.sim.asgi.create_app` (re-exported here). The endpoints of the contract live in
:mod:`opstui.sim.endpoints`, the simulator's own (``/_sim/...``: faults and request counts) in
:mod:`opstui.sim.admin`, faults on demand in :mod:`opstui.sim.faults`.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette

from opstui.sim.asgi import create_app
from opstui.sim.clock import RealClock
from opstui.sim.faults import FaultPlan, When
from opstui.sim.state import RecordedRequest, SimOptions, SimState
from opstui.sim.wire import SimProtocol, SimUvicorn
from opstui.sim.world import World

__all__ = ["RecordedRequest", "SimOptions", "SimServer", "SimState", "create_app", "run_sim"]

RUN_SIM_LOG_LIMIT = 10_000
"""How many requests ``opstui sim`` keeps in its log: it may run for hours (counts cover all)."""


# -- running it ------------------------------------------------------------------------------------


def _bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), not yet listening."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server(app: Starlette) -> SimUvicorn:
    """A uvicorn server for ``app``, able to reset connections and to end hanging requests."""
    state: SimState = app.state.sim
    state.stopping.clear()
    config = uvicorn.Config(
        app,
        http=SimProtocol,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )
    return SimUvicorn(config, state.stopping)


class SimServer:
    """The simulator on uvicorn in a background thread, on its own event loop.

    ``with SimServer(World(clock=ManualClock())) as sim: httpx.get(sim.base_url + ...)``

    ``faults`` is the fault plan to start with (see :mod:`opstui.sim.faults`); ``max_requests``
    bounds the request log (None: keep every request, as tests want; a long demo wants a bound).
    """

    def __init__(
        self,
        world: World | None = None,
        *,
        token: str = "sim-token",
        readonly_token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        options: SimOptions | None = None,
        faults: FaultPlan | None = None,
        max_requests: int | None = None,
    ) -> None:
        self.token = token
        self.readonly_token = readonly_token
        self.host = host
        self.port = port
        self.app = create_app(
            world if world is not None else World(),
            token=token,
            readonly_token=readonly_token,
            options=options,
            faults=faults,
        )
        self._state: SimState = self.app.state.sim
        self._state.max_requests = max_requests
        self._server: SimUvicorn | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._url: str | None = None
        self._crash: BaseException | None = None

    @property
    def world(self) -> World:
        """The world being served."""
        return self._state.world

    @world.setter
    def world(self, world: World) -> None:
        """Serve another world from the next request on (e.g. a fresh one for each test)."""
        self._state.world = world

    @property
    def options(self) -> SimOptions:
        """The live options; change their fields, or assign new options, at any time."""
        return self._state.options

    @options.setter
    def options(self, options: SimOptions) -> None:
        self._state.options = options

    @property
    def state(self) -> SimState:
        """Everything the server holds: world, options, faults, the request log and its counts."""
        return self._state

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (clear it at will)."""
        return self._state.requests

    def request_summary(self) -> dict[str, Any]:
        """Counts of the requests received, as ``GET /_sim/requests/summary`` answers them."""
        return self._state.summary()

    def clear_requests(self) -> None:
        """Forget the request log and its counts."""
        self._state.clear_requests()

    @property
    def fault_plan(self) -> FaultPlan:
        """The plan of fault rates in force (see :func:`opstui.sim.faults.parse_faults`)."""
        return self._state.fault_plan

    @fault_plan.setter
    def fault_plan(self, plan: FaultPlan) -> None:
        """Put another plan in force from the next request on; its draws start over."""
        self._state.fault_plan = plan

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running server."""
        if self._url is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return self._url

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
        """Strike the next ``times`` requests to ``method path`` with a fault, after ``delay`` s.

        By default (``kind="status"``) the answer is the raw ``status``, ``body`` and ``headers``
        given, before the world sees the request. Any kind of :data:`opstui.sim.faults.ONE_SHOT_KINDS`
        may be asked for; ``when="after"`` applies the request first and then damages or loses its
        answer (``when=None``: "before" for status, 5xx, 429, html, hang and reset, "after" for the
        others); ``action`` limits it to ``POST /api/v2/actions`` requests of that action::

            sim.add_fault("POST", "/api/v2/actions", kind="reset", when="after", action="approve")

        ``status`` is also the code of a 5xx or html fault; ``headers`` are added to any answer.
        Raises ``ValueError`` for an unknown kind or a kind that cannot strike ``when`` asked.
        """
        self._state.add_fault(
            method,
            path,
            status=status,
            body=body,
            headers=headers,
            delay=delay,
            times=times,
            kind=kind,
            when=when,
            action=action,
        )

    def clear_faults(self) -> None:
        """Forget every fault: the plan (back to none) and the pending one-shot faults."""
        self._state.clear_faults()

    def start(self) -> SimServer:
        """Bind, start serving, and return once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        sock = _bind(self.host, self.port)
        server = _server(self.app)
        self._crash = None

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as crash:  # reported by start(); a thread must not die silently
                self._crash = crash

        thread = threading.Thread(target=serve, name="opstui-sim", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=2)
                sock.close()
                raise RuntimeError(f"the simulator did not start: {self._crash!r}")
            time.sleep(0.005)
        self._server, self._thread, self._socket = server, thread, sock
        self._url = _url(self.host, sock)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread to end. Safe to call twice."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        self._url = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=2)
        if sock is not None:
            sock.close()

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def run_sim(
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    pipelines: int = 40,
    seed: int | None = None,
    speed: float = 1.0,
    print_fn: Callable[[str], object] = print,
    faults: FaultPlan | None = None,
) -> None:
    """Serve a fresh simulated tenant in the foreground until Ctrl-C.

    Prints the URL and an ``export`` line with the base URL and the token (a random one unless
    given), and the fault plan when there is one (``faults``, from
    :func:`opstui.sim.faults.parse_faults`; it can be changed while running at ``/_sim/faults``).
    Raises ``OSError`` if the address cannot be bound.
    """
    token = token or secrets.token_urlsafe(24)
    seed = seed if seed is not None else secrets.randbelow(1_000_000)
    world = World(seed=seed, pipelines=pipelines, clock=RealClock(speed))
    app = create_app(world, token=token, faults=faults)
    state: SimState = app.state.sim
    state.max_requests = RUN_SIM_LOG_LIMIT
    sock = _bind(host, port)
    url = _url(host, sock)
    print_fn(f"Opsera simulator on {url} (seed {seed}, {pipelines} pipelines, speed {speed:g}x)")
    if not _is_loopback(host):
        print_fn(f"warning: listening on {host}, reachable beyond this machine")
    print_fn(f"export OPSTUI_BASE_URL={url} OPSTUI_TOKEN={token}")
    if faults is not None and faults.active:
        print_fn(f"faults: {faults.spec()}")
    print_fn("Press Ctrl-C to stop.")
    server = _server(app)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
