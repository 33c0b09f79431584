"""The documented API, endpoint by endpoint: the contract as the simulator implements it.

Every endpoint takes a :class:`Call` (the state, the caller's role, the query, the parsed body) and
answers a Starlette ``Response``; it raises a :class:`~opstui.sim.errors.SimError` for a request the
contract refuses. :data:`ROUTES` maps each path and method to its endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from starlette.responses import Response

from opstui.sim.common import iso
from opstui.sim.damage import dumps, v1_body
from opstui.sim.documents import ActionOutcome
from opstui.sim.errors import BadRequest, Forbidden, SimError, Unauthorized
from opstui.sim.query import Page
from opstui.sim.state import Role, SimOptions, SimState
from opstui.sim.world import World

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

ACTIONS_PATH: Final = "/api/v2/actions"
MAX_PAGE_SIZE: Final = 1000
DEFAULT_PAGE_SIZE: Final = 100


# -- responses -------------------------------------------------------------------------------------


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer, written the simulator's way."""
    return Response(dumps(data), status_code=status, headers=headers, media_type="application/json")


def error_response(error: SimError) -> Response:
    """The contract's error answer for ``error``."""
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthorized) else None
    return json_response({"status": "failed", "message": error.message}, error.status_code, headers)


# -- request parsing -------------------------------------------------------------------------------


NO_BODY: Final = object()
"""What :func:`parse_body` gives for an empty or non-JSON body."""


def parse_body(raw: bytes) -> Any:
    """The JSON value of a body, or :data:`NO_BODY` for an empty or non-JSON one."""
    if not raw.strip():
        return NO_BODY
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return NO_BODY


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_object(parsed: Any) -> dict[str, Any]:
    if parsed is NO_BODY or not isinstance(parsed, dict):
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


def _require_write(role: Role, what: str) -> None:
    if role != "full":
        raise Forbidden(f"this token is read-only: it may not {what}")


# -- endpoints -------------------------------------------------------------------------------------


@dataclass
class Call:
    """One authorized request, as an endpoint sees it."""

    state: SimState
    role: Role
    query: dict[str, str]
    body: Any
    """The parsed JSON body, or :data:`NO_BODY`."""


def _list(call: Call, kind: Literal["pipeline", "task"]) -> Response:
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
            return json_response(result.items)
        key = "data" if options.list_shape == "data" else f"{kind}s"
        return json_response({key: result.items, "count": result.total})


async def list_pipelines(call: Call) -> Response:
    """``GET /api/v2/pipelines``."""
    return _list(call, "pipeline")


async def list_tasks(call: Call) -> Response:
    """``GET /api/v2/tasks``."""
    return _list(call, "task")


async def create_pipeline(call: Call) -> Response:
    """``POST /api/v2/pipelines``: a new pipeline from a posted document; answers the document.

    The steps may come as ``workflow.plan`` (a whole document, the clone recipe) or as a
    ``workflow`` array.
    """
    document = _json_object(call.body)
    _require_write(call.role, "create pipelines")
    world = call.state.world
    with world.lock:
        return json_response(world.create_pipeline(document), 201)


async def pipeline_create(call: Call) -> Response:
    """``POST /api/v2/pipeline/create``: as :func:`create_pipeline`, answered the way real tenants
    answer: ``{"status": "success", "data": {"pipelineId", "pipeline"}, "metadata"}``."""
    document = _json_object(call.body)
    _require_write(call.role, "create pipelines")
    world = call.state.world
    with world.lock:
        doc = world.create_pipeline(document)
        return json_response(
            {
                "status": "success",
                "data": {"pipelineId": doc["_id"], "pipeline": doc},
                "metadata": {"message": f"Pipeline {doc['name']} created", "at": iso(world.now())},
            }
        )


async def pipeline_logs(call: Call) -> Response:
    """``POST /api/v1/pipeline/logs``: a pipeline's activity, newest first."""
    body = _json_object(call.body)
    pipeline_id = body.get("pipelineId")
    if not isinstance(pipeline_id, str) or not pipeline_id:
        raise BadRequest("'pipelineId' must be a pipeline id")
    run_count = body.get("runCount")
    if run_count is not None and (not isinstance(run_count, int) or isinstance(run_count, bool)):
        raise BadRequest("'runCount' must be an integer")
    rows = call.state.world.activity(pipeline_id, run_count)
    return json_response({"data": rows, "count": len(rows)})


async def actions(call: Call) -> Response:
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
            return json_response(
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
    answer: dict[str, Any] = {
        "status": outcome.status,
        "message": outcome.message,
        "results": results,
    }
    if action in ("status", "update"):
        answer["data"] = outcome.documents
    bare = None
    if action == "status":
        bare = v1_body(answer) if options.status_shape == "v1" else None
    elif options.action_shape == "v1" and len(results) == 1:
        bare = v1_body(answer)
    return json_response(bare if bare is not None else answer)


Endpoint = Callable[[Call], Awaitable[Response]]

ROUTES: Final[Mapping[str, Mapping[str, Endpoint]]] = {
    "/api/v2/pipelines": {"GET": list_pipelines, "POST": create_pipeline},
    "/api/v2/pipeline/create": {"POST": pipeline_create},
    "/api/v2/tasks": {"GET": list_tasks},
    ACTIONS_PATH: {"POST": actions},
    "/api/v1/pipeline/logs": {"POST": pipeline_logs},
}
"""Every path of the contract the simulator serves, and its methods."""
