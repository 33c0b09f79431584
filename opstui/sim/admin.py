"""The simulator's own endpoints, under ``/_sim/``: faults and request counts, for tests and rehearsals.

They take the full token only (no token: 401, the read-only token: 403), answer JSON, and are never
faulted, delayed, logged or counted themselves.

- ``GET /_sim/faults``: the plan in force and the one-shot faults still pending::

      {"spec": "5xx=0.05,seed=3", "plan": {"spec": ..., "rates": {"5xx": 0.05, ...},
       "chaos": 0, "retry_after": 1, "latency_ms": 0, "jitter_ms": 0, "seed": 3},
       "pending": [{"method", "path", "action", "kind", "when", "status", "delay", "remaining"}]}

- ``PUT /_sim/faults`` with ``{"spec": "..."}``: put a new plan in force (a blank spec clears it;
  its draws start over); a bad spec is a 400 whose message says what is wrong. Answers as ``GET``.
- ``DELETE /_sim/faults``: clear the plan and every pending one-shot fault.
- ``GET /_sim/requests/summary``: what was received since the start (see
  :meth:`opstui.sim.state.SimState.summary`)::

      {"received": 812, "applied": 700, "faults": {"reset": 9, ...},
       "endpoints": [{"method": "POST", "path": "/api/v2/actions", "action": "run",
                      "received": 40, "applied": 37, "faults": {"reset": 1}}, ...],
       "targets": [{"action": "run", "type": "pipeline", "target": "<id>",
                    "received": 1, "applied": 1, "faults": {}}, ...]}

- ``DELETE /_sim/requests``: forget the request log and the counts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from starlette.responses import Response

from opstui.sim.endpoints import NO_BODY, json_response
from opstui.sim.errors import BadRequest, Forbidden, MethodNotAllowed, NotFound
from opstui.sim.faults import parse_faults
from opstui.sim.state import SimState

ADMIN_PREFIX: Final = "/_sim"


def is_admin(path: str) -> bool:
    """Whether ``path`` is one of the simulator's own endpoints."""
    return path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")


def _faults_json(state: SimState) -> dict[str, Any]:
    plan = state.fault_plan
    return {
        "spec": plan.spec(),
        "plan": plan.as_json(),
        "pending": [shot.as_json() for shot in state.faults.pending()],
    }


async def _get_faults(state: SimState, body: Any) -> Response:
    return json_response(_faults_json(state))


async def _put_faults(state: SimState, body: Any) -> Response:
    spec = body.get("spec") if isinstance(body, dict) else None
    if body is NO_BODY or not isinstance(spec, str):
        raise BadRequest('send {"spec": "..."}: a fault spec such as 5xx=0.05,seed=3')
    try:
        state.fault_plan = parse_faults(spec)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    return json_response(_faults_json(state))


async def _delete_faults(state: SimState, body: Any) -> Response:
    state.clear_faults()
    return json_response(_faults_json(state))


async def _summary(state: SimState, body: Any) -> Response:
    return json_response(state.summary())


async def _delete_requests(state: SimState, body: Any) -> Response:
    state.clear_requests()
    return json_response({"status": "success", "message": "the request log is cleared"})


AdminEndpoint = Callable[[SimState, Any], Awaitable[Response]]

ADMIN_ROUTES: Final[Mapping[str, Mapping[str, AdminEndpoint]]] = {
    f"{ADMIN_PREFIX}/faults": {"GET": _get_faults, "PUT": _put_faults, "DELETE": _delete_faults},
    f"{ADMIN_PREFIX}/requests/summary": {"GET": _summary},
    f"{ADMIN_PREFIX}/requests": {"DELETE": _delete_requests},
}
"""The simulator's own endpoints and their methods."""


async def admin(state: SimState, method: str, path: str, header: str | None, body: Any) -> Response:
    """Answer one request to ``/_sim/...``; raises a ``SimError`` for a refused one."""
    if state.authorize(header) != "full":
        raise Forbidden("the simulator's own endpoints take the full token, not the read-only one")
    methods = ADMIN_ROUTES.get(path)
    if methods is None:
        raise NotFound(f"no such endpoint: {method} {path}")
    endpoint = methods.get(method)
    if endpoint is None:
        raise MethodNotAllowed(f"{path} does not accept {method}; use {', '.join(methods)}")
    return await endpoint(state, body)
