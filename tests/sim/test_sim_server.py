"""The simulator over real loopback HTTP: auth, listings, the action table, clone, logs, faults."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from opstui.sim import ManualClock, SimOptions, SimServer, World

TOKEN = "test-token-c0ffee"
READONLY = "readonly-token-beef"
UNKNOWN = "0" * 24
Derive = Callable[[dict[str, Any]], str]
MakeClient = Callable[..., httpx.Client]

ALLOWED = {
    "status": {"pipeline", "task"},
    "create": {"pipeline", "task"},
    "update": {"pipeline", "task"},
    "run": {"pipeline", "task"},
    "stop": {"pipeline", "task"},
    "reset": {"pipeline"},
    "delete": {"pipeline"},
    "approve": {"pipeline"},
    "reject": {"pipeline"},
}
PAIRS = sorted((action, kind) for action, kinds in ALLOWED.items() for kind in kinds)
DISALLOWED = sorted(
    (action, kind)
    for action in [*ALLOWED, "clone", "resume", "Run", ""]
    for kind in ("pipeline", "task", "tool", "")
    if kind not in ALLOWED.get(action, set())
)


def act(client: httpx.Client, action: str, kind: str = "pipeline", **extra: Any) -> httpx.Response:
    return client.post(
        "/api/v2/actions", json={"action": action, "type": kind, "version": 1, **extra}
    )


def pipelines(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v2/pipelines", params={"pageSize": 1000, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def one(client: httpx.Client, derive: Derive, status: str, **params: Any) -> dict[str, Any]:
    for doc in pipelines(client, **params):
        if derive(doc) == status:
            return doc
    raise AssertionError(f"no pipeline is {status}")


def failed_body(response: httpx.Response, code: int) -> str:
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "failed"
    assert isinstance(body["message"], str)
    assert body["message"]
    message: str = body["message"]
    return message


# -- auth ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
    ],
)
def test_requests_without_the_token_get_401(
    make_client: MakeClient, headers: dict[str, str]
) -> None:
    http = make_client(None)
    for method, path in [
        ("GET", "/api/v2/pipelines"),
        ("GET", "/api/v2/tasks"),
        ("POST", "/api/v2/actions"),
        ("POST", "/api/v2/pipelines"),
        ("POST", "/api/v1/pipeline/logs"),
    ]:
        response = http.request(method, path, headers=headers, json={})
        failed_body(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"


def test_a_read_only_token_reads_but_may_not_change_anything(
    make_client: MakeClient, client: httpx.Client
) -> None:
    ro = make_client(READONLY)
    ids = [doc["_id"] for doc in pipelines(ro)[:2]]
    assert ro.get("/api/v2/tasks").status_code == 200
    assert ro.post("/api/v1/pipeline/logs", json={"pipelineId": ids[0]}).status_code == 200
    assert act(ro, "status", target=ids).status_code == 200
    task_ids = [task["_id"] for task in ro.get("/api/v2/tasks").json()["data"]]
    assert act(ro, "status", "task", target=task_ids).status_code == 200
    before = pipelines(client)
    for action in ("run", "stop", "reset", "delete", "approve"):
        assert "read-only" in failed_body(act(ro, action, target=ids), 403)
    failed_body(act(ro, "reject", target=ids, message="no"), 403)
    failed_body(act(ro, "update", target=ids[0], settings={"name": "x"}), 403)
    failed_body(act(ro, "create", settings={"name": "x"}), 403)
    failed_body(act(ro, "run", "task", target=task_ids), 403)
    failed_body(ro.post("/api/v2/pipelines", json={"name": "x"}), 403)
    assert pipelines(client) == before, "nothing changed"


def test_unknown_paths_and_methods_answer_json(client: httpx.Client) -> None:
    failed_body(client.get("/api/v2/nothing"), 404)
    failed_body(client.get("/"), 404)
    failed_body(client.delete("/api/v2/pipelines"), 405)
    failed_body(client.get("/api/v2/actions"), 405)
    assert client.get("/api/v2/pipelines/").status_code == 200, "a trailing slash is fine"


# -- listing ---------------------------------------------------------------------------------------


def test_the_default_listing(client: httpx.Client) -> None:
    body = client.get("/api/v2/pipelines").json()
    assert set(body) == {"data", "count"}
    assert body["count"] == 40
    assert len(body["data"]) == 40
    created = [doc["createdAt"] for doc in body["data"]]
    assert created == sorted(created, reverse=True), "newest first by default"


@pytest.mark.parametrize("size", ["0", "-1", "1001", "abc", "1.5"])
def test_page_size_limits(client: httpx.Client, size: str) -> None:
    failed_body(client.get("/api/v2/pipelines", params={"pageSize": size}), 400)


@pytest.mark.parametrize(
    "params",
    [
        {"currentPage": "0"},
        {"currentPage": "x"},
        {"active": "maybe"},
        {"sortOption": "random"},
        {"status": "sleeping"},
    ],
)
def test_bad_query_parameters(client: httpx.Client, params: dict[str, str]) -> None:
    failed_body(client.get("/api/v2/pipelines", params=params), 400)
    failed_body(client.get("/api/v2/tasks", params=params), 400)


def test_pages_cover_every_pipeline_once(client: httpx.Client) -> None:
    assert len(pipelines(client, pageSize=1000)) == 40
    seen: list[str] = []
    for page in range(1, 8):
        body = client.get(
            "/api/v2/pipelines", params={"pageSize": 7, "currentPage": page, "sortOption": "name"}
        ).json()
        assert body["count"] == 40
        assert len(body["data"]) == (7 if page < 6 else 5 if page == 6 else 0)
        seen += [doc["_id"] for doc in body["data"]]
    assert len(seen) == len(set(seen)) == 40


def test_ignore_paging_answers_page_one(client: httpx.Client, sim: SimServer) -> None:
    params: dict[str, Any] = {"pageSize": 10, "sortOption": "name"}
    first = client.get("/api/v2/pipelines", params={**params, "currentPage": 1}).json()
    second = client.get("/api/v2/pipelines", params={**params, "currentPage": 2}).json()
    assert first["data"] != second["data"]
    sim.options.ignore_paging = True
    again = client.get("/api/v2/pipelines", params={**params, "currentPage": 2}).json()
    assert again == first


@pytest.mark.parametrize(
    ("option", "key", "descending"),
    [
        ("newest", "createdAt", True),
        ("oldest", "createdAt", False),
        ("name", "name", False),
        ("name-descending", "name", True),
        ("lastupdated", "updatedAt", True),
        ("earliest-updated", "updatedAt", False),
    ],
)
def test_sort_options(client: httpx.Client, option: str, key: str, descending: bool) -> None:
    values = [doc[key] for doc in pipelines(client, sortOption=option)]
    if key == "name":
        values = [value.casefold() for value in values]
    assert values == sorted(values, reverse=descending)
    assert len(set(values)) > 30


def test_search_filter(client: httpx.Client) -> None:
    docs = pipelines(client)
    target = docs[3]
    word = target["name"].split("-")[0].upper()
    found = pipelines(client, search=word)
    assert target["_id"] in {doc["_id"] for doc in found}
    assert all(
        word.casefold() in (doc["name"] + doc["description"] + doc["_id"]).casefold()
        for doc in found
    )
    assert [doc["_id"] for doc in pipelines(client, search=target["_id"])] == [target["_id"]]
    assert client.get("/api/v2/pipelines", params={"search": "no-such-thing"}).json() == {
        "data": [],
        "count": 0,
    }


def test_status_filter(client: httpx.Client, derive: Derive) -> None:
    docs = pipelines(client)
    for state in ("running", "paused", "failed", "success", "stopped"):
        expected = {doc["_id"] for doc in docs if doc["state"] == state}
        assert expected, state
        assert {doc["_id"] for doc in pipelines(client, status=state)} == expected
    gates = {doc["_id"] for doc in docs if derive(doc) == "awaiting approval"}
    assert {doc["_id"] for doc in pipelines(client, status="awaiting-approval")} == gates
    both = pipelines(client, status="running,failed")
    assert {doc["state"] for doc in both} == {"running", "failed"}


def test_type_owner_tag_and_active_filters(client: httpx.Client) -> None:
    docs = pipelines(client)
    sfdc = {doc["_id"] for doc in docs if "sfdc" in doc["type"]}
    assert sfdc
    assert {doc["_id"] for doc in pipelines(client, type="sfdc")} == sfdc

    owner = docs[0]
    by_id = pipelines(client, owner=owner["owner"])
    assert by_id
    assert {doc["owner"] for doc in by_id} == {owner["owner"]}
    surname = owner["owner_name"].split()[-1].lower()
    assert {doc["_id"] for doc in pipelines(client, owner=surname)} == {doc["_id"] for doc in by_id}

    prod = {doc["_id"] for doc in docs if {"type": "env", "value": "prod"} in doc["tags"]}
    assert {doc["_id"] for doc in pipelines(client, tag="env:prod")} == prod
    assert prod <= {doc["_id"] for doc in pipelines(client, tag="prod")}

    inactive = {doc["_id"] for doc in docs if not doc["active"]}
    assert inactive
    assert {doc["_id"] for doc in pipelines(client, active="false")} == inactive
    assert len(pipelines(client, active="true")) == 40 - len(inactive)

    combined = pipelines(client, tag="env:prod", active="true", type="sdlc")
    assert all(doc["active"] and "sdlc" in doc["type"] and doc["_id"] in prod for doc in combined)


def test_task_listing(client: httpx.Client) -> None:
    body = client.get("/api/v2/tasks").json()
    assert body["count"] == 12
    running = client.get("/api/v2/tasks", params={"status": "running"}).json()
    assert running["count"] >= 1
    assert {task["state"] for task in running["data"]} == {"running"}
    page = client.get("/api/v2/tasks", params={"pageSize": 5, "currentPage": 3}).json()
    assert (page["count"], len(page["data"])) == (12, 2)


@pytest.mark.parametrize("path", ["/api/v2/pipelines", "/api/v2/tasks"])
def test_list_shapes(client: httpx.Client, sim: SimServer, path: str) -> None:
    params = {"pageSize": 5}
    data = client.get(path, params=params).json()
    assert set(data) == {"data", "count"}
    sim.options.list_shape = "array"
    bare = client.get(path, params=params).json()
    assert bare == data["data"]
    sim.options.list_shape = "pipelines"
    named = client.get(path, params=params).json()
    key = "pipelines" if path.endswith("pipelines") else "tasks"
    assert named == {key: data["data"], "count": data["count"]}


def test_a_thousand_pipelines_list_whole_over_http(sim: SimServer, client: httpx.Client) -> None:
    """How fast is ``make bench``'s business; here only that a large page comes back whole."""
    sim.world = World(seed=3, pipelines=1000, clock=ManualClock(), autorun=False)
    body = client.get("/api/v2/pipelines", params={"pageSize": 1000}).json()
    assert body["count"] == len(body["data"]) == 1000
    assert len({doc["_id"] for doc in body["data"]}) == 1000


# -- the action table ------------------------------------------------------------------------------


def target_for(client: httpx.Client, derive: Derive, action: str, kind: str) -> dict[str, Any]:
    """A body that makes ``action`` on ``kind`` go through."""
    if kind == "task":
        tasks = client.get("/api/v2/tasks").json()["data"]
        running = [t["_id"] for t in tasks if t["state"] == "running"]
        idle = [t["_id"] for t in tasks if t["state"] != "running" and t["active"]]
        bodies: dict[str, dict[str, Any]] = {
            "status": {"target": [tasks[0]["_id"]]},
            "create": {"settings": {"name": "new-task", "type": "git-to-git-sync"}},
            "update": {"target": tasks[0]["_id"], "settings": {"description": "changed"}},
            "run": {"target": idle[:1]},
            "stop": {"target": running[:1]},
        }
        return bodies[action]
    if action in ("approve", "reject"):
        gate = one(client, derive, "awaiting approval")["_id"]
        return {"target": [gate], "message": "reason"}
    if action == "run":
        return {"target": [one(client, derive, "success", active="true")["_id"]]}
    if action == "stop":
        return {"target": [one(client, derive, "running")["_id"]]}
    if action == "create":
        return {"settings": {"name": "brand-new"}}
    if action == "update":
        return {"target": pipelines(client)[0]["_id"], "settings": {"name": "renamed"}}
    return {"target": [pipelines(client)[0]["_id"]]}


@pytest.mark.parametrize(("action", "kind"), PAIRS)
def test_every_allowed_pair_works(
    client: httpx.Client, derive: Derive, action: str, kind: str
) -> None:
    response = act(client, action, kind, **target_for(client, derive, action, kind))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success", body
    assert len(body["results"]) == 1
    assert body["results"][0]["status"] == ("executed" if action == "run" else "success")
    if action == "run":
        assert isinstance(body["results"][0]["runCount"], int)
    if action in ("status", "create", "update"):
        assert len(body["data"]) == 1
        assert body["data"][0]["_id"] == body["results"][0]["target"]
    else:
        assert "data" not in body, "an answer carries documents only for status, create, update"


def test_every_disallowed_pair_is_a_400(client: httpx.Client) -> None:
    ids = [doc["_id"] for doc in pipelines(client)[:1]]
    assert len(DISALLOWED) > 20
    for action, kind in DISALLOWED:
        response = act(client, action, kind, target=ids, settings={"name": "x"}, message="m")
        message = failed_body(response, 400)
        assert (action or "action") in message or "unsupported" in message, message
    assert [doc["_id"] for doc in pipelines(client)[:1]] == ids, "nothing happened"


@pytest.mark.parametrize(
    "body",
    [
        {"action": "status", "type": "pipeline", "target": ["x"]},
        {"action": "status", "type": "pipeline", "version": 2, "target": ["x"]},
        {"action": "status", "type": "pipeline", "version": "1", "target": ["x"]},
        {"action": "status", "type": "pipeline", "version": True, "target": ["x"]},
        {"action": "status", "version": 1, "target": ["x"]},
        {"type": "pipeline", "version": 1, "target": ["x"]},
        {"action": "run", "type": "pipeline", "version": 1},
        {"action": "run", "type": "pipeline", "version": 1, "target": []},
        {"action": "run", "type": "pipeline", "version": 1, "target": UNKNOWN},
        {"action": "run", "type": "pipeline", "version": 1, "target": [1, 2]},
        {"action": "create", "type": "pipeline", "version": 1},
        {
            "action": "create",
            "type": "pipeline",
            "version": 1,
            "settings": {"description": "nameless"},
        },
        {
            "action": "update",
            "type": "pipeline",
            "version": 1,
            "target": [UNKNOWN],
            "settings": {"name": "x"},
        },
    ],
)
def test_malformed_action_bodies_are_400(client: httpx.Client, body: dict[str, Any]) -> None:
    failed_body(client.post("/api/v2/actions", json=body), 400)


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b'"run"'])
def test_action_bodies_must_be_json_objects(client: httpx.Client, raw: bytes) -> None:
    response = client.post(
        "/api/v2/actions", content=raw, headers={"Content-Type": "application/json"}
    )
    failed_body(response, 400)


def test_update_takes_one_id_as_a_string(client: httpx.Client) -> None:
    doc = pipelines(client)[0]
    message = failed_body(act(client, "update", target=[doc["_id"]], settings={"name": "x"}), 400)
    assert "string" in message
    failed_body(act(client, "update", target=doc["_id"], settings={"name": "  "}), 400)
    failed_body(act(client, "update", target=doc["_id"], settings={"owner": "me"}), 400)
    failed_body(act(client, "update", target=UNKNOWN, settings={"name": "x"}), 404)
    body = act(
        client, "update", target=doc["_id"], settings={"name": "new-name", "description": "d"}
    ).json()
    assert body["status"] == "success"
    assert (body["data"][0]["name"], body["data"][0]["description"]) == ("new-name", "d")
    assert pipelines(client, search=doc["_id"])[0]["name"] == "new-name"


def test_reject_needs_a_message(client: httpx.Client, derive: Derive) -> None:
    gate = one(client, derive, "awaiting approval")["_id"]
    for extra in ({}, {"message": ""}, {"message": "   "}, {"message": 5}):
        failed_body(act(client, "reject", target=[gate], **extra), 400)
    assert derive(pipelines(client, search=gate)[0]) == "awaiting approval", "still waiting"
    assert (
        act(client, "reject", target=[gate], message="Not during the freeze").json()["status"]
        == "success"
    )
    rows = client.post("/api/v1/pipeline/logs", json={"pipelineId": gate}).json()["data"]
    assert rows[1]["action"] == "rejected"
    assert rows[1]["message"] == "Not during the freeze"
    assert derive(pipelines(client, search=gate)[0]) == "failed"


def test_failures_come_back_inside_a_200(client: httpx.Client, derive: Derive) -> None:
    running = one(client, derive, "running")
    gate = one(client, derive, "awaiting approval")
    idle = one(client, derive, "failed", active="true")
    response = act(client, "run", target=[running["_id"], gate["_id"], idle["_id"], UNKNOWN])
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "partial"
    results = body["results"]
    assert [r["target"] for r in results] == [running["_id"], gate["_id"], idle["_id"], UNKNOWN]
    assert [r["status"] for r in results] == ["failed", "failed", "executed", "failed"]
    assert results[0]["message"] == f"Pipeline {running['name']} is already running"
    assert results[1]["message"].startswith(
        f"Pipeline {gate['name']} is currently in a paused state"
    )
    assert results[2]["runCount"] == idle["workflow"]["run_count"] + 1
    assert "runCount" not in results[0]
    assert "data" not in body

    everything_failed = act(client, "approve", target=[running["_id"]])
    assert everything_failed.status_code == 200
    assert everything_failed.json()["status"] == "failed"
    assert (
        everything_failed.json()["results"][0]["message"]
        == f"Pipeline {running['name']} is not awaiting approval"
    )

    stop_idle = act(client, "stop", target=[one(client, derive, "success")["_id"]]).json()
    assert stop_idle["status"] == "failed"


def test_all_unknown_targets_are_a_404(client: httpx.Client) -> None:
    for action in ("status", "run", "stop", "reset", "delete", "approve"):
        failed_body(act(client, action, target=[UNKNOWN, "f" * 24]), 404)
    failed_body(act(client, "reject", target=[UNKNOWN], message="x"), 404)
    failed_body(act(client, "status", "task", target=[UNKNOWN]), 404)


def test_status_returns_the_documents(client: httpx.Client) -> None:
    ids = [doc["_id"] for doc in pipelines(client, sortOption="name")[:3]]
    body = act(client, "status", target=ids).json()
    assert [doc["_id"] for doc in body["data"]] == ids
    assert [r["status"] for r in body["results"]] == ["success"] * 3


def test_v1_action_shape(client: httpx.Client, sim: SimServer, derive: Derive) -> None:
    sim.options.action_shape = "v1"
    idle = one(client, derive, "success", active="true")
    body = act(client, "run", target=[idle["_id"]]).json()
    assert body == {
        "status": "executed",
        "message": f"Pipeline {idle['name']} run {idle['workflow']['run_count'] + 1} started",
        "runCount": idle["workflow"]["run_count"] + 1,
    }
    again = act(client, "run", target=[idle["_id"]])
    assert again.status_code == 200
    assert again.json() == {
        "status": "failed",
        "message": f"Pipeline {idle['name']} is already running",
    }
    several = act(client, "stop", target=[idle["_id"], UNKNOWN]).json()
    assert set(several) == {"status", "message", "results"}, "several targets keep the v2 shape"
    status = act(client, "status", target=[idle["_id"]]).json()
    assert status["data"][0]["_id"] == idle["_id"], "status always returns documents"


def test_delete_then_gone(client: httpx.Client) -> None:
    pid = pipelines(client)[0]["_id"]
    assert act(client, "delete", target=[pid]).json()["status"] == "success"
    assert client.get("/api/v2/pipelines").json()["count"] == 39
    failed_body(client.post("/api/v1/pipeline/logs", json={"pipelineId": pid}), 404)


def test_runs_move_on_with_the_clock(
    client: httpx.Client, clock: ManualClock, derive: Derive
) -> None:
    running = [doc["_id"] for doc in pipelines(client, status="running")]
    clock.advance(3600)
    after = {doc["_id"]: derive(doc) for doc in pipelines(client)}
    assert all(after[pid] != "running" for pid in running)


# -- create and clone ------------------------------------------------------------------------------


def test_clone_through_post_pipelines(client: httpx.Client) -> None:
    source = pipelines(client, sortOption="name")[0]
    fetched = act(client, "status", target=[source["_id"]]).json()["data"][0]
    clone = {
        key: value for key, value in fetched.items() if key not in ("_id", "createdAt", "updatedAt")
    }
    clone["name"] = f"{source['name']}-copy"
    clone["x_extra"] = {"nested": [1, "two", None]}
    clone["workflow"]["plan"][0]["x_note"] = "kept too"
    response = client.post("/api/v2/pipelines", json=clone)
    assert response.status_code in (200, 201)
    created = response.json()
    assert created["_id"] != source["_id"]
    assert len(created["_id"]) == 24
    assert created["name"] == f"{source['name']}-copy"
    assert created["x_extra"] == {"nested": [1, "two", None]}
    assert created["workflow"]["plan"][0]["x_note"] == "kept too"
    assert [s["_id"] for s in created["workflow"]["plan"]] == [
        s["_id"] for s in source["workflow"]["plan"]
    ]
    assert created["owner"] == source["owner"]
    assert created["workflow"]["run_count"] == 0
    listed = pipelines(client, search=created["_id"])
    assert listed == [created]
    assert client.get("/api/v2/pipelines").json()["count"] == 41


@pytest.mark.parametrize(
    "document",
    [
        {"name": "x", "workflow": {"plan": [{"_id": "xyz", "name": "bad id"}]}},
        {"name": "x", "_id": "a" * 24},
        {"description": "no name"},
        {"name": "   "},
        ["not", "an", "object"],
    ],
)
def test_bad_new_pipelines_are_400(client: httpx.Client, document: Any) -> None:
    failed_body(client.post("/api/v2/pipelines", json=document), 400)
    assert client.get("/api/v2/pipelines").json()["count"] == 40


def test_create_action(client: httpx.Client) -> None:
    body = act(client, "create", settings={"name": "from-action", "x_more": 1}).json()
    assert body["status"] == "success"
    assert body["data"][0]["name"] == "from-action"
    assert body["data"][0]["x_more"] == 1
    assert body["results"][0]["target"] == body["data"][0]["_id"]
    task = act(client, "create", "task", settings={"name": "new-task"}).json()["data"][0]
    assert task["state"] == "stopped"
    assert client.get("/api/v2/tasks").json()["count"] == 13


# -- logs ------------------------------------------------------------------------------------------


def test_logs(client: httpx.Client) -> None:
    doc = max(pipelines(client), key=lambda d: d["workflow"]["run_count"])
    body = client.post("/api/v1/pipeline/logs", json={"pipelineId": doc["_id"]}).json()
    assert body["count"] == len(body["data"]) > 0
    stamps = [row["createdAt"] for row in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    run = doc["workflow"]["run_count"]
    only = client.post(
        "/api/v1/pipeline/logs", json={"pipelineId": doc["_id"], "runCount": run}
    ).json()
    assert only["count"] > 0
    assert {row["run_count"] for row in only["data"]} == {run}
    failed_body(client.post("/api/v1/pipeline/logs", json={"pipelineId": UNKNOWN}), 404)
    failed_body(client.post("/api/v1/pipeline/logs", json={}), 400)
    failed_body(
        client.post("/api/v1/pipeline/logs", json={"pipelineId": doc["_id"], "runCount": "2"}), 400
    )


# -- the request log -------------------------------------------------------------------------------


def test_the_request_log_records_bodies_but_never_the_token(
    client: httpx.Client, sim: SimServer, make_client: MakeClient
) -> None:
    ids = [doc["_id"] for doc in pipelines(client)[:2]]
    body = {"action": "status", "type": "pipeline", "version": 1, "target": ids}
    client.post("/api/v2/actions", json=body)
    make_client(None).get("/api/v2/tasks", params={"search": "sync"})
    log = sim.requests
    assert [(r.method, r.path) for r in log] == [
        ("GET", "/api/v2/pipelines"),
        ("POST", "/api/v2/actions"),
        ("GET", "/api/v2/tasks"),
    ]
    assert log[0].query == {"pageSize": "1000"}
    assert log[0].body is None
    assert log[1].body == body
    assert [r.has_auth for r in log] == [True, True, False]
    assert log[2].query == {"search": "sync"}
    assert TOKEN not in repr(log)
    assert sum(1 for r in log if r.path == "/api/v2/actions") == 1


def test_unparseable_bodies_are_logged_as_none(client: httpx.Client, sim: SimServer) -> None:
    client.post("/api/v2/actions", content=b"{oops")
    assert sim.requests[-1].body is None


# -- fault injection -------------------------------------------------------------------------------


def test_a_fault_answers_instead_of_the_handler(client: httpx.Client, sim: SimServer) -> None:
    sim.add_fault(
        "get",
        "/api/v2/pipelines",
        status=503,
        body="<html>Service Unavailable</html>",
        headers={"Retry-After": "2"},
        times=2,
    )
    for _ in range(2):
        response = client.get("/api/v2/pipelines")
        assert response.status_code == 503
        assert response.text == "<html>Service Unavailable</html>"
        assert response.headers["retry-after"] == "2"
    assert client.get("/api/v2/pipelines").status_code == 200
    assert len(sim.requests) == 3, "faulted requests are recorded too"


def test_faults_match_method_and_path_and_can_be_cleared(
    client: httpx.Client, sim: SimServer
) -> None:
    sim.add_fault("POST", "/api/v2/actions", status=429, headers={"Retry-After": "1"})
    assert client.get("/api/v2/pipelines").status_code == 200
    gate_before = client.get("/api/v2/pipelines", params={"status": "running"}).json()["count"]
    response = act(client, "status", target=[UNKNOWN])
    assert (response.status_code, response.content) == (429, b"")
    sim.add_fault("GET", "/api/v2/tasks", status=500, times=5)
    sim.clear_faults()
    assert client.get("/api/v2/tasks").status_code == 200
    assert (
        client.get("/api/v2/pipelines", params={"status": "running"}).json()["count"] == gate_before
    )


def test_a_fault_can_be_slow(client: httpx.Client, sim: SimServer) -> None:
    sim.add_fault("GET", "/api/v2/tasks", status=200, body=b"{}", delay=0.2)
    began = time.perf_counter()
    response = client.get("/api/v2/tasks")
    assert time.perf_counter() - began >= 0.2
    assert response.json() == {}
    sim.add_fault("GET", "/api/v2/tasks", delay=0.3)
    with pytest.raises(httpx.ReadTimeout):
        client.get("/api/v2/tasks", timeout=0.05)
    assert client.get("/api/v2/tasks").status_code == 200, "a slow fault does not block the server"


# -- the server's life -----------------------------------------------------------------------------


def test_start_and_stop_are_clean(ssl_context: ssl.SSLContext) -> None:
    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "opstui-sim"}

    already = ours()
    world = World(seed=1, pipelines=5, tasks=2, clock=ManualClock(), autorun=False)
    first, second = SimServer(world), SimServer(world)
    with pytest.raises(RuntimeError, match="not running"):
        _ = first.base_url
    with first, second:
        assert first.base_url.startswith("http://127.0.0.1:")
        assert first.base_url != second.base_url
        assert len(ours() - already) == 2
        url = first.base_url
        headers = {"Authorization": "Bearer sim-token"}
        with httpx.Client(base_url=url, headers=headers, verify=ssl_context) as http:
            assert http.get("/api/v2/pipelines").json()["count"] == 5
    assert ours() == already, "the server threads ended"
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
    first.stop()  # a second stop is harmless
    with first:
        assert first.base_url.startswith("http://127.0.0.1:"), "restartable"


def test_tests_may_touch_the_world_between_requests(
    client: httpx.Client, sim: SimServer, derive: Derive
) -> None:
    gate = next(d for d in pipelines(client) if derive(d) == "awaiting approval")
    sim.world.approve_pipelines([gate["_id"]])
    assert derive(pipelines(client, search=gate["_id"])[0]) != "awaiting approval"


def test_options_can_be_swapped(sim: SimServer, client: httpx.Client) -> None:
    sim.options = SimOptions(list_shape="array")
    assert isinstance(client.get("/api/v2/pipelines").json(), list)
