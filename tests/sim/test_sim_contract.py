"""The contract as corrected by real Opsera material, simulator side: creating through
``POST /api/v2/pipeline/create``, ServiceNow gates, the portal's status order, v1 status answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from opstui.sim import ManualClock, SimOptions, SimServer, World
from opstui.sim.common import derive_status

READONLY = "readonly-token-beef"
CREATE = "/api/v2/pipeline/create"
ACTIONS = "/api/v2/actions"
Derive = Callable[[dict[str, Any]], str]
MakeClient = Callable[..., httpx.Client]


def step(name: str, tool: str, **config: Any) -> dict[str, Any]:
    return {
        "name": name,
        "active": True,
        "tool": {"tool_identifier": tool, "configuration": config},
    }


STEPS = [
    step("Build", "jenkins", job="build"),
    step("Change request", "servicenow", message="CHG0031 must be approved"),
    step("Deploy", "kubernetes", namespace="prod"),
]


def act(client: httpx.Client, action: str, targets: list[str], **extra: Any) -> dict[str, Any]:
    body = {"action": action, "type": "pipeline", "version": 1, "target": targets, **extra}
    response = client.post(ACTIONS, json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def status_of(client: httpx.Client, pipeline_id: str) -> dict[str, Any]:
    (doc,) = act(client, "status", [pipeline_id])["data"]
    return dict(doc)


# -- creating --------------------------------------------------------------------------------------


def test_create_with_the_steps_as_an_array(client: httpx.Client) -> None:
    body = {
        "name": "release-train",
        "description": "made by a script",
        "active": True,
        "type": ["sdlc"],
        "workflow": STEPS,
    }
    response = client.post(CREATE, json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "success"
    assert isinstance(answer["metadata"], dict)
    created = answer["data"]["pipeline"]
    assert answer["data"]["pipelineId"] == created["_id"]
    assert created["name"] == "release-train"
    assert created["type"] == ["sdlc"]
    plan = created["workflow"]["plan"]
    assert [s["name"] for s in plan] == ["Build", "Change request", "Deploy"]
    assert all(len(s["_id"]) == 24 for s in plan), "the server gives each step an id"
    assert created["workflow"]["run_count"] == 0
    assert created["state"] == "stopped"
    assert status_of(client, created["_id"]) == created, "stored as answered"


def test_create_with_a_whole_document_keeps_everything_but_the_ids(client: httpx.Client) -> None:
    source = client.get("/api/v2/pipelines", params={"pageSize": 1}).json()["data"][0]
    copy = {k: v for k, v in source.items() if k not in ("_id", "createdAt", "updatedAt")}
    copy["name"] = source["name"] + "-copy"
    copy["x_custom"] = {"kept": True}
    answer = client.post(CREATE, json=copy).json()
    created = answer["data"]["pipeline"]
    assert created["_id"] != source["_id"]
    assert created["x_custom"] == {"kept": True}
    assert [s["_id"] for s in created["workflow"]["plan"]] == [
        s["_id"] for s in source["workflow"]["plan"]
    ], "step ids stay"
    assert "last_step" not in created["workflow"]


def test_post_pipelines_takes_both_forms_too(client: httpx.Client) -> None:
    as_array = client.post("/api/v2/pipelines", json={"name": "from-array", "workflow": STEPS})
    assert as_array.status_code == 201
    assert len(as_array.json()["workflow"]["plan"]) == 3
    as_plan = client.post(
        "/api/v2/pipelines", json={"name": "from-plan", "workflow": {"plan": STEPS}}
    )
    assert as_plan.status_code == 201
    assert [s["name"] for s in as_plan.json()["workflow"]["plan"]] == [s["name"] for s in STEPS]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"workflow": STEPS}, "needs a 'name'"),
        ({"name": "x", "workflow": "steps"}, "'workflow' must be an object"),
        ({"name": "x", "workflow": [1, 2]}, "step 1 of the plan must be an object"),
        ({"name": "x", "type": "sdlc"}, "'type' must be an array"),
        ({"name": "x", "_id": "0" * 24}, "must not carry an '_id'"),
    ],
)
def test_bad_creates_are_400(client: httpx.Client, body: dict[str, Any], message: str) -> None:
    response = client.post(CREATE, json=body)
    assert response.status_code == 400
    assert message in response.json()["message"]


def test_a_read_only_token_may_not_create(make_client: MakeClient, sim: SimServer) -> None:
    count = len(sim.world.pipeline_ids())
    response = make_client(READONLY).post(CREATE, json={"name": "nope", "workflow": STEPS})
    assert response.status_code == 403
    assert len(sim.world.pipeline_ids()) == count


# -- ServiceNow gates ------------------------------------------------------------------------------


def run_to_the_gate(client: httpx.Client, clock: ManualClock, derive: Derive) -> dict[str, Any]:
    created = client.post(CREATE, json={"name": "with-servicenow", "workflow": STEPS}).json()
    pipeline_id = created["data"]["pipelineId"]
    assert act(client, "run", [pipeline_id])["results"][0]["status"] == "executed"
    for _ in range(30):
        doc = status_of(client, pipeline_id)
        if derive(doc) != "running":
            return doc
        clock.advance(1)
    raise AssertionError("the run never left its first step")


def test_a_servicenow_step_is_a_gate(
    client: httpx.Client, clock: ManualClock, derive: Derive, sim: SimServer
) -> None:
    sim.world.failure_rate = 0.0
    doc = run_to_the_gate(client, clock, derive)
    assert derive(doc) == "awaiting approval"
    assert derive_status(doc) == "awaiting-approval"
    gate = doc["workflow"]["plan"][1]
    assert doc["workflow"]["last_step"]["running"] == {
        "step_id": gate["_id"],
        "paused": True,
        "status": "pending",
    }
    waiting = client.get("/api/v2/pipelines", params={"status": "awaiting-approval"}).json()
    assert doc["_id"] in [d["_id"] for d in waiting["data"]]
    logs = client.post("/api/v1/pipeline/logs", json={"pipelineId": doc["_id"]}).json()["data"]
    assert (logs[0]["tool_identifier"], logs[0]["message"]) == (
        "servicenow",
        "CHG0031 must be approved",
    )
    clock.advance(600)
    assert derive(status_of(client, doc["_id"])) == "awaiting approval", "a gate waits for a person"
    assert act(client, "approve", [doc["_id"]])["results"][0]["status"] == "success"
    after = status_of(client, doc["_id"])
    assert after["workflow"]["last_step"]["running"]["step_id"] == doc["workflow"]["plan"][2]["_id"]
    assert derive(after) == "running"


def test_a_servicenow_gate_can_be_rejected(
    client: httpx.Client, clock: ManualClock, derive: Derive, sim: SimServer
) -> None:
    sim.world.failure_rate = 0.0
    doc = run_to_the_gate(client, clock, derive)
    answer = act(client, "reject", [doc["_id"]], message="CAB said no")
    assert answer["results"][0]["status"] == "success"
    after = status_of(client, doc["_id"])
    assert derive(after) == "failed"
    assert after["workflow"]["last_step"]["failed"]["step_id"] == doc["workflow"]["plan"][1]["_id"]


# -- the portal's status order ---------------------------------------------------------------------


GATE = {"_id": "a" * 24, "tool": {"tool_identifier": "servicenow"}}
WORK = {"_id": "b" * 24, "tool": {"tool_identifier": "jenkins"}}


def doc(state: Any = None, plan: Any = None, **last: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"workflow": {"plan": plan if plan is not None else [GATE, WORK]}}
    if last:
        out["workflow"]["last_step"] = last
    if state is not None:
        out["state"] = state
    return out


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (doc("paused", running={"step_id": GATE["_id"], "paused": True}), "awaiting-approval"),
        (doc("failed", running={"step_id": GATE["_id"], "paused": 1}), "awaiting-approval"),
        (doc("running", running={"step_id": WORK["_id"], "paused": True}), "running"),
        (doc("success", status="running"), "success"),
        (doc("failed", success={"step_id": WORK["_id"]}), "failed"),
        (doc("paused"), "paused"),
        (doc("stopped", success={"step_id": WORK["_id"]}), "success"),
        (doc("weird", failed={"step_id": WORK["_id"]}), "failed"),
        (doc(status="running"), "running"),
        (doc(status="stopped", running={"status": "pending"}), "paused"),
        (doc(status="stopped", running={"step_id": WORK["_id"], "paused": True}), "paused"),
        (doc(status="stopped"), "stopped"),
        (doc(), "stopped"),
        ({"state": "running"}, "running"),
        ({}, "unknown"),
        ({"workflow": "x"}, "unknown"),
        ({"state": "stopped", "workflow": {"last_step": "x"}}, "unknown"),
    ],
)
def test_the_simulator_derives_status_in_the_portals_order(
    document: dict[str, Any], expected: str, derive: Derive
) -> None:
    assert derive_status(document) == expected
    assert derive(document) == expected.replace("-", " "), "the independent derivation agrees"


def test_the_seeded_world_still_shows_every_status(derive: Derive) -> None:
    world = World(seed=7, pipelines=40, tasks=12, clock=ManualClock())
    seen = {derive_status(d) for d in world.list_pipelines().items}
    assert seen == {"awaiting-approval", "success", "failed", "running", "paused", "stopped"}
    assert all(
        derive_status(d) == derive(d).replace(" ", "-") for d in world.list_pipelines().items
    )


# -- v1 status answers -----------------------------------------------------------------------------


def test_a_v1_status_answer_carries_no_documents(sim: SimServer, client: httpx.Client) -> None:
    ids = sim.world.pipeline_ids()[:3]
    assert len(act(client, "status", ids)["data"]) == 3
    sim.options = SimOptions(status_shape="v1")
    answer = act(client, "status", ids)
    assert answer == {"status": "success", "message": "3 of 3 targets succeeded"}
    single = act(client, "status", ids[:1])
    assert set(single) == {"status", "message"}
    assert single["status"] == "success"
    assert act(client, "run", ids[:1])["results"], "other actions keep the v2 shape"
