"""The client against the simulator over real loopback HTTP: bodies sent, outcomes, shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from opstui.api import (
    ACTIONS,
    OpseraClient,
    Pipeline,
    PipelineStatus,
    RequestRefusedError,
    RetryPolicy,
)
from opstui.api.bodies import OFF_LOOP_IDS
from opstui.sim.server import SimServer
from tests.conftest import TOKEN

FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
CREATE = "/api/v2/pipeline/create"


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[OpseraClient]:
    async with OpseraClient(sim.base_url, TOKEN, timeout=5, retry=FAST_RETRY) as client:
        yield client


def actions_sent(sim: SimServer) -> list[Any]:
    """The bodies of every POST /api/v2/actions the simulator received, in order."""
    return [r.body for r in sim.requests if r.method == "POST" and r.path == "/api/v2/actions"]


async def pick(client: OpseraClient, status: PipelineStatus, count: int = 1) -> list[Pipeline]:
    found = [p for p in await client.list_pipelines() if p.status is status and p.active]
    assert len(found) >= count, f"the seeded world needs {count} pipeline(s) {status}"
    return found[:count]


async def test_lists_every_pipeline_of_the_lived_in_world(
    client: OpseraClient, sim: SimServer
) -> None:
    pipelines = await client.list_pipelines()
    assert len(pipelines) == 40
    assert len({p.id for p in pipelines}) == 40
    statuses = {p.status for p in pipelines}
    for expected in ("awaiting approval", "running", "failed", "success", "idle"):
        assert PipelineStatus(expected) in statuses
    assert PipelineStatus.UNKNOWN not in statuses
    [request] = sim.requests
    assert request.query["pageSize"] == "1000"
    assert request.query["currentPage"] == "1"


async def test_paging_collects_every_page_once(client: OpseraClient, sim: SimServer) -> None:
    pipelines = await client.list_pipelines(page_size=7)
    assert len({p.id for p in pipelines}) == 40 == len(pipelines)
    assert [r.query["currentPage"] for r in sim.requests] == ["1", "2", "3", "4", "5", "6"]


async def test_a_server_that_ignores_paging_does_not_loop(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.options.ignore_paging = True
    pipelines = await client.list_pipelines(page_size=10)
    assert len(pipelines) == 10
    assert len(sim.requests) == 2, "the repeated page is noticed at once"


@pytest.mark.parametrize("shape", ["data", "array", "pipelines"])
async def test_every_list_shape_of_the_contract(
    client: OpseraClient, sim: SimServer, shape: str
) -> None:
    sim.options.list_shape = shape  # type: ignore[assignment]
    assert len(await client.list_pipelines(page_size=15)) == 40
    assert len(await client.list_tasks()) == 12


async def test_filters_and_sort_are_sent_as_query_parameters(
    client: OpseraClient, sim: SimServer
) -> None:
    everything = await client.list_pipelines()
    name = everything[0].name
    found = await client.list_pipelines(
        search=name, sort="name", active=True, tag="env:prod", owner="a", type="sdlc"
    )
    query = sim.requests[-1].query
    assert query["search"] == name
    assert query["sortOption"] == "name"
    assert query["active"] == "true"
    assert query["tag"] == "env:prod"
    assert query["owner"] == "a"
    assert query["type"] == "sdlc"
    assert all(name.lower() in p.name.lower() for p in found)


async def test_sorted_by_name(client: OpseraClient) -> None:
    names = [p.name for p in await client.list_pipelines(sort="name")]
    assert names == sorted(names, key=str.lower) or names == sorted(names)


# -- every action and type, exactly as the contract writes the body --------------------------

ARRAY_ACTIONS = [
    (action, kind)
    for action, kinds in sorted(ACTIONS.items())
    for kind in sorted(kinds)
    if action not in ("create", "update")
]


@pytest.mark.parametrize(("action", "kind"), ARRAY_ACTIONS)
async def test_array_actions_send_the_documented_body(
    client: OpseraClient, sim: SimServer, action: str, kind: str
) -> None:
    items = await (client.list_pipelines() if kind == "pipeline" else client.list_tasks())
    ids = [items[0].id, items[1].id]
    message = "not today" if action == "reject" else None
    await client.action(action, kind, ids, message=message)  # type: ignore[arg-type]
    expected: dict[str, Any] = {"action": action, "type": kind, "version": 1, "target": ids}
    if message:
        expected["message"] = message
    assert actions_sent(sim) == [expected]


@pytest.mark.parametrize("kind", ["pipeline", "task"])
async def test_update_sends_one_id_as_a_string(
    client: OpseraClient, sim: SimServer, kind: str
) -> None:
    if kind == "pipeline":
        target = (await client.list_pipelines())[0]
        result = await client.update_pipeline(target.id, name="renamed", description="new words")
    else:
        target = (await client.list_tasks())[0]
        result = await client.update_task(target.id, name="renamed", description="new words")
    assert result.ok
    assert actions_sent(sim) == [
        {
            "action": "update",
            "type": kind,
            "version": 1,
            "target": target.id,
            "settings": {"name": "renamed", "description": "new words"},
        }
    ]
    if kind == "pipeline":
        assert (await client.get_pipeline(target.id)).name == "renamed"
    else:
        [task] = await client.task_status([target.id])
        assert task.name == "renamed"


async def test_create_task_sends_settings_and_no_target(
    client: OpseraClient, sim: SimServer
) -> None:
    settings = {"name": "brand-new-task", "description": "made by a test"}
    result = await client.create_task(settings)
    assert [t.name for t in result.tasks] == [settings["name"]]
    assert actions_sent(sim) == [
        {"action": "create", "type": "task", "version": 1, "settings": settings}
    ]


def create_answer(document: dict[str, Any], shape: str) -> bytes:
    """The create answer of a real tenant (``data.pipeline``), or the document as ``data``."""
    if shape == "recorded":
        body: dict[str, Any] = {
            "status": "success",
            "data": {"pipelineId": document["_id"], "pipeline": document},
            "metadata": {"took": 12},
        }
    else:
        body = {"status": "success", "data": document}
    return json.dumps(body).encode()


# Until the simulator serves POST /api/v2/pipeline/create, the answer is a raw response: what the
# client sends is checked in the simulator's request log, what it reads from the raw answer.
@pytest.mark.parametrize("shape", ["recorded", "data"])
async def test_create_posts_the_document_to_pipeline_create(
    client: OpseraClient, sim: SimServer, shape: str
) -> None:
    document = {
        "name": "brand-new",
        "description": "made by a test",
        "active": True,
        "type": ["sdlc"],
        "workflow": [{"_id": "c" * 24, "name": "Build", "tool": {"tool_identifier": "jenkins"}}],
    }
    answer = {**document, "_id": "d" * 24, "workflow": {"plan": document["workflow"]}}
    sim.add_fault("POST", CREATE, status=200, body=create_answer(answer, shape))
    created = await client.create_pipeline(document)
    assert created.id == "d" * 24
    assert created.name == "brand-new"
    assert [s.name for s in created.plan] == ["Build"]
    assert [r.body for r in sim.requests] == [document]
    assert [r.path for r in sim.requests] == [CREATE]


async def test_status_of_many_pipelines_is_one_request(
    client: OpseraClient, sim: SimServer
) -> None:
    ids = [p.id for p in (await client.list_pipelines())[:5]]
    fresh = await client.pipeline_status(ids)
    assert sorted(p.id for p in fresh) == sorted(ids)
    assert len(actions_sent(sim)) == 1


async def test_approve_continues_the_run_and_reject_records_the_reason(
    client: OpseraClient, sim: SimServer
) -> None:
    first, second = await pick(client, PipelineStatus.AWAITING_APPROVAL, 2)
    approved = await client.approve_pipelines([first.id])
    assert approved.ok, approved.outcomes
    assert (await client.get_pipeline(first.id)).status is not PipelineStatus.AWAITING_APPROVAL

    rejected = await client.reject_pipelines([second.id], "  change freeze until Monday ")
    assert rejected.ok
    assert actions_sent(sim)[-1]["message"] == "change freeze until Monday"
    after = await client.get_pipeline(second.id)
    assert after.status is PipelineStatus.FAILED
    log = await client.pipeline_logs(second.id)
    assert any("change freeze until Monday" in entry.message for entry in log)


async def test_a_failed_target_inside_a_200_is_a_failure(
    client: OpseraClient, sim: SimServer
) -> None:
    [running] = await pick(client, PipelineStatus.RUNNING)
    [gate] = await pick(client, PipelineStatus.AWAITING_APPROVAL)
    [idle] = await pick(client, PipelineStatus.SUCCESS)
    result = await client.run_pipelines([running.id, gate.id, idle.id])
    assert len(actions_sent(sim)) == 1, "a batch is one request"
    by_target = {o.target: o for o in result.outcomes}
    assert not by_target[running.id].ok
    assert "already running" in by_target[running.id].message
    assert not by_target[gate.id].ok
    assert "paused" in by_target[gate.id].message
    assert by_target[idle.id].ok
    assert by_target[idle.id].run_count == idle.run_count + 1
    assert not result.ok
    assert [o.target for o in result.failed] == [running.id, gate.id]


async def test_approve_on_a_pipeline_not_at_a_gate_fails_for_that_target(
    client: OpseraClient,
) -> None:
    [running] = await pick(client, PipelineStatus.RUNNING)
    result = await client.approve_pipelines([running.id])
    assert not result.ok
    assert "not awaiting approval" in result.outcomes[0].message


async def test_the_bare_v1_shape_speaks_for_the_request(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.options.action_shape = "v1"
    [running] = await pick(client, PipelineStatus.RUNNING)
    failed = await client.run_pipelines([running.id])
    assert not failed.ok
    assert failed.outcomes[0].status == "failed"
    assert "already running" in failed.outcomes[0].message
    [done] = await pick(client, PipelineStatus.SUCCESS)
    started = await client.run_pipelines([done.id])
    assert started.ok
    assert started.outcomes[0].run_count == done.run_count + 1


async def test_clone_follows_the_documented_recipe_and_keeps_unknown_fields(
    client: OpseraClient, sim: SimServer
) -> None:
    model = (await client.list_pipelines())[0].document()
    settings = {
        "name": "with-extras",
        "description": "the original",
        "type": ["sdlc"],
        "x_custom": {"keep": ["me", 1]},
        "workflow": {"plan": model["workflow"]["plan"], "x_flag": True},
    }
    source = sim.world.create_pipeline(settings)
    made = {**source, "_id": "e" * 24, "name": "the clone"}
    sim.add_fault("POST", CREATE, status=200, body=create_answer(made, "recorded"))
    sim.requests.clear()
    clone = await client.clone_pipeline(source["_id"], "  the clone ")
    assert clone.name == "the clone"
    assert clone.id == "e" * 24
    fetch, posted = sim.requests
    assert fetch.body["action"] == "status" and fetch.body["target"] == [source["_id"]]
    assert posted.path == CREATE
    assert "_id" not in posted.body and "createdAt" not in posted.body
    assert "updatedAt" not in posted.body
    assert posted.body["name"] == "the clone"
    assert posted.body["x_custom"] == {"keep": ["me", 1]}
    assert posted.body["description"] == "the original"
    assert posted.body["workflow"]["x_flag"] is True
    assert [s["_id"] for s in posted.body["workflow"]["plan"]] == [
        s["_id"] for s in source["workflow"]["plan"]
    ]


async def test_activity_log_newest_first_and_per_run(client: OpseraClient, sim: SimServer) -> None:
    [pipeline] = await pick(client, PipelineStatus.FAILED)
    entries = await client.pipeline_logs(pipeline.id)
    assert entries, "a failed pipeline has history"
    times = [e.created_at for e in entries if e.created_at]
    assert times == sorted(times, reverse=True)
    one_run = await client.pipeline_logs(pipeline.id, run_count=pipeline.run_count)
    assert one_run and all(e.run_count == pipeline.run_count for e in one_run)
    assert sim.requests[-1].body == {"pipelineId": pipeline.id, "runCount": pipeline.run_count}


# -- refused before anything is sent ---------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.action("reset", "task", ["t1"]), "not supported for a task"),
        (lambda c: c.action("approve", "task", ["t1"]), "not supported for a task"),
        (lambda c: c.action("reject", "task", ["t1"], message="x"), "not supported for a task"),
        (lambda c: c.action("delete", "task", ["t1"]), "not supported for a task"),
        (lambda c: c.action("clone", "pipeline", ["p1"]), "not an Opsera action"),
        (lambda c: c.reject_pipelines(["p1"], "   "), "reason is required"),
        (lambda c: c.action("reject", "pipeline", ["p1"]), "reason is required"),
        (
            lambda c: c.action("update", "pipeline", ["p1"], settings={"name": "x"}),
            "exactly one id",
        ),
        (lambda c: c.update_pipeline("p1"), "nothing to update"),
        (lambda c: c.update_pipeline("p1", name=" "), "name cannot be blank"),
        (lambda c: c.run_pipelines([]), "no pipeline given"),
        (lambda c: c.run_pipelines(["  "]), "cannot be blank"),
        (lambda c: c.run_pipelines(["a b"]), "not a valid pipeline id"),
        (  # a batch large enough to be checked in a thread keeps the rule
            lambda c: c.run_pipelines([f"p{n}" for n in range(OFF_LOOP_IDS)] + ["a b"]),
            "not a valid pipeline id",
        ),
        (lambda c: c.action("run", "pipeline", "p1"), "list of ids"),
        (lambda c: c.clone_pipeline("p1", ""), "needs a name"),
        (lambda c: c.action("create", "pipeline"), "needs settings"),
    ],
)
async def test_refused_before_any_request(
    client: OpseraClient, sim: SimServer, call: Any, words: str
) -> None:
    with pytest.raises(RequestRefusedError, match=words):
        await call(client)
    assert sim.requests == []


async def test_duplicate_ids_are_sent_once(client: OpseraClient, sim: SimServer) -> None:
    [done] = await pick(client, PipelineStatus.SUCCESS)
    await client.run_pipelines([done.id, done.id])
    assert actions_sent(sim)[0]["target"] == [done.id]


async def test_a_large_batch_is_built_off_the_loop_in_order_each_id_once(
    client: OpseraClient, sim: SimServer
) -> None:
    ids = [p.id for p in await client.list_pipelines()]
    repeated = ids * (OFF_LOOP_IDS // len(ids) + 1)
    assert len(repeated) >= OFF_LOOP_IDS
    result = await client.action("status", "pipeline", repeated)
    assert actions_sent(sim)[-1]["target"] == ids
    assert result.documents and {p.id for p in result.pipelines} == set(ids)


def test_bad_base_url_and_missing_token_are_refused() -> None:
    with pytest.raises(RequestRefusedError, match="http"):
        OpseraClient("ftp://example.com", TOKEN)
    with pytest.raises(RequestRefusedError, match="token"):
        OpseraClient("http://127.0.0.1:1", " ")


async def test_a_large_page_is_decoded_off_the_event_loop(
    client: OpseraClient, sim: SimServer
) -> None:
    from opstui.api.client import OFF_LOOP_BYTES
    from opstui.sim.clock import ManualClock
    from opstui.sim.world import World

    sim.world = World(seed=3, pipelines=400, tasks=0, clock=ManualClock())
    pipelines = await client.list_pipelines()
    assert len(pipelines) == 400
    assert len({p.id for p in pipelines}) == 400
    assert all(p.status is not PipelineStatus.UNKNOWN for p in pipelines)
    assert sim.requests, "one page"
    # the page really was large enough to take the thread path
    page_bytes = sum(len(json.dumps(p.document())) for p in pipelines)
    assert page_bytes > OFF_LOOP_BYTES
