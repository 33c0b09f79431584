"""The HTTP face of the simulator: a Starlette app serving a :class:`World` as the Opsera API does.

:func:`create_app` builds the app, :class:`SimServer` runs it on uvicorn in a background thread (for
tests and the app's demo mode), :func:`run_sim` runs it in the foreground (``opstui sim``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Final, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from opstui.sim.clock import RealClock
from opstui.sim.errors import (
    BadRequest,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    SimError,
    Unauthorized,
)
from opstui.sim.world import ActionOutcome, Page, World

logger = logging.getLogger("opstui.sim")

ACTIONS: Final[Mapping[str, frozenset[str]]] = {
    "status": frozenset({"pipeline", "task"}),
    "create": frozenset({"pipeline", "task"}),
    "update": frozenset({"pipeline", "task"}),
    "run": frozenset({"pipeline", "task"}),
    "stop": frozenset({"pipeline", "task"}),
    "reset": frozenset({"pipeline"}),
    "delete": frozenset({"pipeline"}),
    "approve": frozenset({"pipeline"}),
    "reject": frozenset({"pipeline"}),
}
"""The contract's table of actions and the target types each supports."""

READ_ONLY_ACTIONS: Final = frozenset({"status"})
"""Actions a read-only token may perform."""

MAX_PAGE_SIZE: Final = 1000
DEFAULT_PAGE_SIZE: Final = 100

Role = Literal["full", "readonly"]


@dataclass
class SimOptions:
    """Switches that make the simulator answer like other (still valid) servers. Mutable at runtime."""

    list_shape: Literal["data", "array", "pipelines"] = "data"
    """Envelope of list endpoints: ``{"data": [...], "count": N}``, a bare array, or
    ``{"pipelines": [...], "count": N}`` (``{"tasks": ...}`` on the task list)."""
    action_shape: Literal["v2", "v1"] = "v2"
    """``v1``: a single-target action answers the bare ``{"status", "message", "runCount"?}`` body."""
    ignore_paging: bool = False
    """Answer page 1 whatever ``currentPage`` says, like a server that ignores paging."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the simulator received it (never with the token itself)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any | None
    """The parsed JSON body, or None when there was none or it was not JSON."""
    has_auth: bool
    """Whether an ``Authorization`` header was sent (whatever its value)."""


@dataclass
class _Fault:
    method: str
    path: str
    status: int
    body: bytes
    headers: dict[str, str]
    delay: float
    remaining: int


@dataclass
class SimState:
    """What the app serves and remembers: the world, the tokens, the options, the request log, faults."""

    world: World
    token: str
    readonly_token: str | None
    options: SimOptions
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[_Fault] = field(default_factory=list)
    fault_lock: threading.Lock = field(default_factory=threading.Lock)

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
    ) -> None:
        """Answer the next ``times`` requests to ``method path`` with this raw response instead."""
        raw = body.encode() if isinstance(body, str) else body
        fault = _Fault(
            method.upper(), _normal_path(path), status, raw, dict(headers or {}), delay, times
        )
        with self.fault_lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        """Forget every pending fault."""
        with self.fault_lock:
            self.faults.clear()

    def take_fault(self, method: str, path: str) -> _Fault | None:
        """The first pending fault for this request, used up by one."""
        with self.fault_lock:
            for fault in self.faults:
                if fault.method == method and fault.path == path and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
        return None


# -- responses -------------------------------------------------------------------------------------


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(
        body.encode(), status_code=status, headers=headers, media_type="application/json"
    )


def _error(error: SimError) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    return _json({"status": "failed", "message": error.message}, error.status_code, headers)


def _normal_path(path: str) -> str:
    return path.rstrip("/") or "/"


# -- request parsing -------------------------------------------------------------------------------


_NO_BODY: Final = object()


def _parse_body(raw: bytes) -> Any:
    """The JSON value of a body, or ``_NO_BODY`` for an empty or non-JSON one."""
    if not raw.strip():
        return _NO_BODY
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _NO_BODY


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(parsed: Any) -> dict[str, Any]:
    if parsed is _NO_BODY:
        raise BadRequest("the request body must be a JSON object")
    if not isinstance(parsed, dict):
        raise BadRequest("the request body must be a JSON object")
    return parsed


def _int_param(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {raw!r}") from None


def _bool_param(query: Mapping[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise BadRequest(f"{name} must be true or false, not {raw!r}")


def _authorize(state: SimState, header: str | None) -> Role:
    if not header:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    given = credential.strip().encode()
    if secrets.compare_digest(given, state.token.encode()):
        return "full"
    if state.readonly_token is not None and secrets.compare_digest(
        given, state.readonly_token.encode()
    ):
        return "readonly"
    raise Unauthorized("invalid or expired token")


def _require_write(role: Role, what: str) -> None:
    if role != "full":
        raise Forbidden(f"this token is read-only: it may not {what}")


# -- endpoints -------------------------------------------------------------------------------------


@dataclass
class _Call:
    state: SimState
    role: Role
    query: dict[str, str]
    body: Any


def _list(call: _Call, kind: Literal["pipeline", "task"]) -> Response:
    query = call.query
    page_size = _int_param(query, "pageSize", DEFAULT_PAGE_SIZE)
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise BadRequest(f"pageSize must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    page = _int_param(query, "currentPage", 1)
    if page < 1:
        raise BadRequest(f"currentPage must be 1 or more, not {page}")
    options = call.state.options
    if options.ignore_paging:
        page = 1
    world = call.state.world
    lister = world.list_pipelines if kind == "pipeline" else world.list_tasks
    with world.lock:
        result: Page = lister(
            search=query.get("search") or None,
            status=query.get("status") or None,
            type=query.get("type") or None,
            owner=query.get("owner") or None,
            tag=query.get("tag") or None,
            active=_bool_param(query, "active"),
            sort=query.get("sortOption") or "newest",
            page_size=page_size,
            page=page,
            live=True,
        )
        if options.list_shape == "array":
            return _json(result.items)
        key = "data" if options.list_shape == "data" else f"{kind}s"
        return _json({key: result.items, "count": result.total})


async def list_pipelines(call: _Call) -> Response:
    """``GET /api/v2/pipelines``."""
    return _list(call, "pipeline")


async def list_tasks(call: _Call) -> Response:
    """``GET /api/v2/tasks``."""
    return _list(call, "task")


async def create_pipeline(call: _Call) -> Response:
    """``POST /api/v2/pipelines``: a new pipeline from a posted document (the clone recipe)."""
    document = _json_object(call.body)
    _require_write(call.role, "create pipelines")
    world = call.state.world
    with world.lock:
        return _json(world.create_pipeline(document), 201)


async def pipeline_logs(call: _Call) -> Response:
    """``POST /api/v1/pipeline/logs``: a pipeline's activity, newest first."""
    body = _json_object(call.body)
    pipeline_id = body.get("pipelineId")
    if not isinstance(pipeline_id, str) or not pipeline_id:
        raise BadRequest("'pipelineId' must be a pipeline id")
    run_count = body.get("runCount")
    if run_count is not None and (not isinstance(run_count, int) or isinstance(run_count, bool)):
        raise BadRequest("'runCount' must be an integer")
    rows = call.state.world.activity(pipeline_id, run_count)
    return _json({"data": rows, "count": len(rows)})


async def actions(call: _Call) -> Response:
    """``POST /api/v2/actions``: the action table of the contract."""
    body = _json_object(call.body)
    version = body.get("version")
    if version != 1 or isinstance(version, bool):
        raise BadRequest("'version' must be 1")
    action = body.get("action")
    if not isinstance(action, str) or action not in ACTIONS:
        raise BadRequest(f"unsupported action {action!r}; supported: {', '.join(ACTIONS)}")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in ACTIONS[action]:
        supported = ", ".join(sorted(ACTIONS[action]))
        raise BadRequest(
            f"action {action!r} does not support type {kind!r}; it supports: {supported}"
        )
    if action not in READ_ONLY_ACTIONS:
        _require_write(call.role, f"{action} a {kind}")
    world = call.state.world
    with world.lock:
        if action == "create":
            settings = body.get("settings")
            if not isinstance(settings, dict):
                raise BadRequest("create needs 'settings': the new document")
            doc = (
                world.create_pipeline(settings)
                if kind == "pipeline"
                else world.create_task(settings)
            )
            message = f"{kind.capitalize()} {doc['name']} created"
            return _json(
                {
                    "status": "success",
                    "message": message,
                    "results": [{"target": doc["_id"], "status": "success", "message": message}],
                    "data": [doc],
                }
            )
        if action == "update":
            target = body.get("target")
            if not isinstance(target, str) or not target:
                raise BadRequest("update takes one id, as a string, in 'target' (not an array)")
            settings = body.get("settings")
            if not isinstance(settings, dict):
                raise BadRequest("update needs 'settings': an object with the fields to change")
            updater = world.update_pipeline if kind == "pipeline" else world.update_task
            return _outcome(call.state.options, action, updater(target, settings))
        targets = body.get("target")
        if (
            not isinstance(targets, list)
            or not targets
            or not all(isinstance(t, str) and t for t in targets)
        ):
            raise BadRequest(f"{action} takes an array of ids in 'target'")
        return _outcome(call.state.options, action, _batch(world, action, kind, targets, body))


def _batch(
    world: World, action: str, kind: str, targets: list[str], body: dict[str, Any]
) -> ActionOutcome:
    message = body.get("message")
    if kind == "task":
        task_actions: dict[str, Callable[[list[str]], ActionOutcome]] = {
            "status": world.task_status,
            "run": world.run_tasks,
            "stop": world.stop_tasks,
        }
        return task_actions[action](targets)
    if action == "approve":
        if message is not None and not isinstance(message, str):
            raise BadRequest("'message' must be a string")
        return world.approve_pipelines(targets, message=message)
    if action == "reject":
        if not isinstance(message, str) or not message.strip():
            raise BadRequest("reject needs a non-blank 'message': the reason")
        return world.reject_pipelines(targets, message)
    pipeline_actions: dict[str, Callable[[list[str]], ActionOutcome]] = {
        "status": world.pipeline_status,
        "run": world.run_pipelines,
        "stop": world.stop_pipelines,
        "reset": world.reset_pipelines,
        "delete": world.delete_pipelines,
    }
    return pipeline_actions[action](targets)


def _outcome(options: SimOptions, action: str, outcome: ActionOutcome) -> Response:
    if options.action_shape == "v1" and len(outcome.results) == 1 and action != "status":
        result = outcome.results[0]
        bare: dict[str, Any] = {"status": result.status, "message": result.message}
        if result.run_count is not None:
            bare["runCount"] = result.run_count
        return _json(bare)
    results = []
    for result in outcome.results:
        item: dict[str, Any] = {
            "target": result.target,
            "status": result.status,
            "message": result.message,
        }
        if result.run_count is not None:
            item["runCount"] = result.run_count
        results.append(item)
    return _json(
        {
            "status": outcome.status,
            "message": outcome.message,
            "results": results,
            "data": outcome.documents,
        }
    )


Endpoint = Callable[[_Call], Awaitable[Response]]

ROUTES: Final[Mapping[str, Mapping[str, Endpoint]]] = {
    "/api/v2/pipelines": {"GET": list_pipelines, "POST": create_pipeline},
    "/api/v2/tasks": {"GET": list_tasks},
    "/api/v2/actions": {"POST": actions},
    "/api/v1/pipeline/logs": {"POST": pipeline_logs},
}
"""Every path the simulator serves, and its methods."""


# -- the app ---------------------------------------------------------------------------------------


def create_app(
    world: World,
    *,
    token: str,
    readonly_token: str | None = None,
    options: SimOptions | None = None,
) -> Starlette:
    """The Starlette app serving ``world``; its :class:`SimState` is ``app.state.sim``."""
    if not token:
        raise ValueError("the simulator needs a token")
    state = SimState(world, token, readonly_token, options if options is not None else SimOptions())

    async def dispatch(request: Request) -> Response:
        raw = await request.body()
        parsed = _parse_body(raw)
        method = request.method.upper()
        path = _normal_path(request.url.path)
        query = dict(request.query_params)
        state.requests.append(
            RecordedRequest(
                method=method,
                path=path,
                query=query,
                body=None if parsed is _NO_BODY else parsed,
                has_auth="authorization" in request.headers,
            )
        )
        fault = state.take_fault(method, path)
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
            return Response(fault.body, status_code=fault.status, headers=fault.headers)
        try:
            role = _authorize(state, request.headers.get("authorization"))
            methods = ROUTES.get(path)
            if methods is None:
                raise NotFound(f"no such endpoint: {method} {path}")
            endpoint = methods.get(method)
            if endpoint is None:
                raise MethodNotAllowed(f"{path} does not accept {method}; use {', '.join(methods)}")
            if path != "/api/v2/actions" and raw.strip() and parsed is _NO_BODY:
                raise BadRequest("the request body is not valid JSON")
            if path == "/api/v2/actions" and parsed is _NO_BODY:
                raise BadRequest(
                    'the request body must be JSON: {"action", "type", "version", ...}'
                )
            state.world.sync()
            return await endpoint(_Call(state, role, query, parsed))
        except SimError as error:
            return _error(error)
        except Exception:
            logger.exception("the simulator failed on %s %s", method, path)
            return _json({"status": "failed", "message": "internal simulator error"}, 500)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)])
    app.state.sim = state
    return app


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


def _config(app: Starlette) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="asyncio",
        timeout_graceful_shutdown=1,
    )


class SimServer:
    """The simulator on uvicorn in a background thread, on its own event loop.

    ``with SimServer(World(clock=ManualClock())) as sim: httpx.get(sim.base_url + ...)``
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
        )
        self._state: SimState = self.app.state.sim
        self._server: uvicorn.Server | None = None
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
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (clear it at will)."""
        return self._state.requests

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
    ) -> None:
        """Answer the next ``times`` requests to ``method path`` with this raw response (after ``delay`` s)."""
        self._state.add_fault(
            method, path, status=status, body=body, headers=headers, delay=delay, times=times
        )

    def clear_faults(self) -> None:
        """Forget every pending fault."""
        self._state.clear_faults()

    def start(self) -> SimServer:
        """Bind, start serving, and return once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the simulator is already running")
        sock = _bind(self.host, self.port)
        server = uvicorn.Server(_config(self.app))
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
) -> None:
    """Serve a fresh simulated tenant in the foreground until Ctrl-C.

    Prints the URL and an ``export`` line with the base URL and the token (a random one unless
    given). Raises ``OSError`` if the address cannot be bound.
    """
    token = token or secrets.token_urlsafe(24)
    seed = seed if seed is not None else secrets.randbelow(1_000_000)
    world = World(seed=seed, pipelines=pipelines, clock=RealClock(speed))
    app = create_app(world, token=token)
    sock = _bind(host, port)
    url = _url(host, sock)
    print_fn(f"Opsera simulator on {url} (seed {seed}, {pipelines} pipelines, speed {speed:g}x)")
    if not _is_loopback(host):
        print_fn(f"warning: listening on {host}, reachable beyond this machine")
    print_fn(f"export OPSTUI_BASE_URL={url} OPSTUI_TOKEN={token}")
    print_fn("Press Ctrl-C to stop.")
    server = uvicorn.Server(_config(app))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
