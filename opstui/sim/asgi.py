"""The HTTP face of the simulator: a Starlette app serving a :class:`World` as the Opsera API does.

Every request but ``/_sim/...`` goes through the fault engine: it may wait (latency), meet a fault
before the world sees it (nothing applied), or be applied and then have its answer damaged or lost.
Each is logged as a :class:`RecordedRequest` saying which fault struck and whether it was applied.
:mod:`opstui.sim.server` runs it.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from opstui.sim.admin import admin, is_admin
from opstui.sim.endpoints import (
    ACTIONS_PATH,
    NO_BODY,
    ROUTES,
    Call,
    error_response,
    json_response,
    parse_body,
)
from opstui.sim.errors import BadRequest, MethodNotAllowed, NotFound, SimError
from opstui.sim.faults import FaultPlan, normal_path
from opstui.sim.state import RecordedRequest, SimOptions, SimState
from opstui.sim.strikes import FaultEngine
from opstui.sim.wire import pause, render, stand_in
from opstui.sim.world import World

__all__ = ["create_app"]

logger = logging.getLogger("opstui.sim")


def create_app(
    world: World,
    *,
    token: str,
    readonly_token: str | None = None,
    options: SimOptions | None = None,
    faults: FaultPlan | None = None,
) -> Starlette:
    """The Starlette app serving ``world``, with the fault plan ``faults`` (none by default).

    Its :class:`SimState` is ``app.state.sim``.
    """
    if not token:
        raise ValueError("the simulator needs a token")
    state = SimState(
        world,
        token,
        readonly_token,
        options if options is not None else SimOptions(),
        faults=FaultEngine(faults),
    )

    async def dispatch(request: Request) -> Response:
        raw = await request.body()
        parsed = parse_body(raw)
        method = request.method.upper()
        path = normal_path(request.url.path)
        header = request.headers.get("authorization")
        if is_admin(path):
            try:
                return await admin(state, method, path, header, parsed)
            except SimError as error:
                return error_response(error)
        action = parsed.get("action") if path == ACTIONS_PATH and isinstance(parsed, dict) else None
        record = state.record(
            RecordedRequest(
                method=method,
                path=path,
                query=dict(request.query_params),
                body=None if parsed is NO_BODY else parsed,
                has_auth=header is not None,
                action=action if isinstance(action, str) else None,
            )
        )
        decision = state.faults.decide(method, path, record.action)
        if decision.delay > 0:
            await pause(decision.delay, state.stopping)
        strike = decision.strike
        if strike is not None and strike.when == "before":
            state.settle(record, strike.kind, applied=False)
            return render(strike, stand_in(), state.stopping) or stand_in()
        answer = await _serve(state, method, path, header, record.query, raw, parsed)
        applied = 200 <= answer.status_code < 300
        faulted = render(strike, answer, state.stopping) if strike is not None else None
        if strike is None or faulted is None:
            state.settle(record, None, applied)
            return answer
        state.settle(record, strike.kind, applied)
        return faulted

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    app = Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)])
    app.state.sim = state
    return app


async def _serve(
    state: SimState,
    method: str,
    path: str,
    header: str | None,
    query: dict[str, str],
    raw: bytes,
    parsed: Any,
) -> Response:
    """The world's own answer to a request of the contract."""
    try:
        role = state.authorize(header)
        methods = ROUTES.get(path)
        if methods is None:
            raise NotFound(f"no such endpoint: {method} {path}")
        endpoint = methods.get(method)
        if endpoint is None:
            raise MethodNotAllowed(f"{path} does not accept {method}; use {', '.join(methods)}")
        if path != ACTIONS_PATH and raw.strip() and parsed is NO_BODY:
            raise BadRequest("the request body is not valid JSON")
        if path == ACTIONS_PATH and parsed is NO_BODY:
            raise BadRequest('the request body must be JSON: {"action", "type", "version", ...}')
        state.world.sync()
        return await endpoint(Call(state, role, query, parsed))
    except SimError as error:
        return error_response(error)
    except Exception:
        logger.exception("the simulator failed on %s %s", method, path)
        return json_response({"status": "failed", "message": "internal simulator error"}, 500)
