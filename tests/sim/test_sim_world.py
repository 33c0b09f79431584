"""The simulated world on its own: determinism, the lived-in start, the run engine, the actions."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opstui.sim import ManualClock, World
from opstui.sim.errors import BadRequest, NotFound

Derive = Callable[[dict[str, Any]], str]
HEX24 = re.compile(r"[0-9a-f]{24}")
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def step(n: int, name: str, tool: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "_id": f"{n:024x}",
        "name": name,
        "active": True,
        "tool": {"tool_identifier": tool, "configuration": config or {}},
    }


GATED_PLAN = [
    step(1, "Checkout", "git"),
    step(2, "Build", "jenkins"),
    step(
        3, "Approve release", "approval", {"message": "Ship it?", "approvers": ["ada@example.com"]}
    ),
    step(4, "Deploy", "argo"),
]


def snapshot(world: World) -> str:
    return json.dumps(world.snapshot(), sort_keys=True)


def assert_same(one: str, other: str) -> None:
    """Equality of two big JSON texts, failing with the first difference (pytest's diff is too slow)."""
    if one == other:
        return
    at = next(
        (i for i, (a, b) in enumerate(zip(one, other, strict=False)) if a != b),
        min(len(one), len(other)),
    )
    pytest.fail(
        f"the worlds differ at {at}: {one[at - 100 : at + 100]!r} vs {other[at - 100 : at + 100]!r}"
    )


def all_docs(world: World) -> list[dict[str, Any]]:
    return world.list_pipelines().items


def wait_for(world: World, clock: ManualClock, done: Any, *, limit: float = 600) -> float:
    """Advance the clock a second at a time until ``done()``; return the seconds it took."""
    waited = 0.0
    while not done():
        assert waited < limit, "the world did not get there in time"
        clock.advance(1)
        world.sync()
        waited += 1
    return waited


# -- determinism -----------------------------------------------------------------------------------


def play(seed: int, sync_every: float | None, *, end: float = 600) -> str:
    """A scripted session: actions at fixed times, with ``world.sync()`` every ``sync_every`` s."""
    clock = ManualClock()
    world = World(seed=seed, clock=clock, pipelines=30, tasks=8, autorun=True)

    def idle() -> list[str]:
        page = world.list_pipelines(status="success,failed,stopped", active=True, sort="name")
        return [doc["_id"] for doc in page.items]

    def gates() -> list[str]:
        return [
            d["_id"] for d in world.list_pipelines(status="awaiting-approval", sort="name").items
        ]

    script: list[tuple[float, Any]] = [
        (5, lambda: world.run_pipelines(idle()[:4])),
        (31.5, lambda: world.approve_pipelines(gates()[:2], message="ok")),
        (47, lambda: world.reject_pipelines(gates()[:1], "Change freeze")),
        (
            60,
            lambda: world.create_pipeline(
                {"name": "made-in-test", "workflow": {"plan": GATED_PLAN}}
            ),
        ),
        (
            61,
            lambda: world.run_pipelines(
                [world.list_pipelines(search="made-in-test").items[0]["_id"]]
            ),
        ),
        (90, lambda: world.stop_pipelines(world.pipeline_ids()[:10])),
        (120, lambda: world.reset_pipelines(world.pipeline_ids()[10:13])),
        (150, lambda: world.run_tasks(world.task_ids())),
        (200, lambda: world.delete_pipelines(world.pipeline_ids()[-2:])),
        (333, lambda: world.update_pipeline(world.pipeline_ids()[0], {"name": "renamed"})),
    ]
    now = 0.0
    for at, action in [*script, (end, lambda: None)]:
        if sync_every is not None:
            while now + sync_every < at:
                clock.advance(sync_every)
                now += sync_every
                world.sync()
        clock.advance(at - now)
        now = at
        action()
    return snapshot(world)


def test_same_seed_same_actions_same_world() -> None:
    assert_same(play(7, None), play(7, None))


def test_different_seed_gives_a_different_world() -> None:
    assert snapshot(World(seed=1)) != snapshot(World(seed=2))
    assert play(1, None) != play(2, None)


@pytest.mark.parametrize("sync_every", [0.25, 1.0, 7.3])
def test_how_often_sync_is_called_does_not_matter(sync_every: float) -> None:
    assert_same(play(11, sync_every), play(11, None))


def test_the_world_is_not_touched_by_global_random() -> None:
    import random

    random.seed(1)
    first = snapshot(World(seed=5))
    random.seed(2)
    assert_same(snapshot(World(seed=5)), first)


# -- the lived-in world at time zero ---------------------------------------------------------------


@pytest.mark.parametrize("seed", [7, 1, 2, 3, 42])
def test_time_zero_shows_every_state(seed: int, derive: Derive) -> None:
    world = World(seed=seed, clock=ManualClock(), autorun=False)
    docs = all_docs(world)
    statuses = Counter(derive(doc) for doc in docs)
    assert set(statuses) == {
        "awaiting approval",
        "running",
        "paused",
        "failed",
        "success",
        "stopped",
    }
    assert 1 <= statuses["paused"] <= 2
    never = [doc for doc in docs if doc["workflow"]["run_count"] == 0]
    assert never
    for doc in never:
        assert "last_step" not in doc["workflow"]
        assert "last_run" not in doc["workflow"]
    assert any(doc["workflow"]["run_count"] > 0 and derive(doc) == "stopped" for doc in docs)
    assert any(doc["active"] is False for doc in docs)


def test_gates_have_waited_for_different_times(world: World, derive: Derive) -> None:
    now = world.now()
    waiting = [doc for doc in all_docs(world) if derive(doc) == "awaiting approval"]
    waits = [now - parse(doc["updatedAt"]) for doc in waiting]
    assert len(set(waits)) == len(waits)
    assert min(waits) < timedelta(hours=1) < max(waits)
    assert all(timedelta(minutes=1) < wait < timedelta(hours=9) for wait in waits)
    for doc in waiting:
        newest = world.activity(doc["_id"])[0]
        assert newest["action"] == "awaiting approval"
        assert newest["createdAt"] == doc["updatedAt"], "updatedAt is when the run reached the gate"
        assert doc["state"] == "paused"


def test_documents_have_the_contract_shape(world: World, derive: Derive) -> None:
    now = world.now()
    docs = all_docs(world)
    assert len(docs) == 40
    assert len({doc["name"] for doc in docs}) == 40
    tools: Counter[str] = Counter()
    for doc in docs:
        assert HEX24.fullmatch(doc["_id"])
        assert {
            "name",
            "description",
            "owner",
            "owner_name",
            "type",
            "active",
            "tags",
            "state",
        } <= set(doc)
        assert isinstance(doc["type"], list)
        assert doc["type"][0] in ("sdlc", "sfdc", "ai-ml")
        assert all(set(tag) == {"type", "value"} for tag in doc["tags"])
        assert doc["state"] in ("running", "paused", "failed", "success", "stopped")
        assert ISO_Z.fullmatch(doc["createdAt"])
        assert ISO_Z.fullmatch(doc["updatedAt"])
        assert parse(doc["createdAt"]) <= parse(doc["updatedAt"]) <= now
        plan = doc["workflow"]["plan"]
        assert 2 <= len(plan) <= 8
        for item in plan:
            assert HEX24.fullmatch(item["_id"])
            assert set(item) == {"_id", "name", "active", "tool"}
            tools[item["tool"]["tool_identifier"]] += 1
            if item["tool"]["tool_identifier"] == "approval":
                config = item["tool"]["configuration"]
                assert config == {} or {"message", "approvers"} <= set(config)
        status = derive(doc)
        expected = "paused" if status == "awaiting approval" else status
        assert doc["state"] == expected
    assert {"git", "jenkins", "sonar", "docker-push", "approval", "argo"} <= set(tools)
    assert Counter(doc["type"][0] for doc in docs).most_common(1)[0][0] == "sdlc"


def test_history_is_in_the_activity_log(world: World) -> None:
    ran = [doc for doc in all_docs(world) if doc["workflow"]["run_count"] > 1]
    for doc in ran:
        rows = world.activity(doc["_id"])
        assert rows, doc["name"]
        stamps = [row["createdAt"] for row in rows]
        assert stamps == sorted(stamps, reverse=True), "newest first"
        runs = {row["run_count"] for row in rows}
        assert doc["workflow"]["run_count"] in runs
        assert len(runs) >= 2, "earlier runs are there too"
        for row in rows:
            assert set(row) == {
                "_id",
                "run_count",
                "step_name",
                "tool_identifier",
                "action",
                "message",
                "status",
                "createdAt",
            }
            assert HEX24.fullmatch(row["_id"])


def test_tasks_at_time_zero(world: World) -> None:
    tasks = world.list_tasks().items
    assert len(tasks) == 12
    assert {task["state"] for task in tasks} >= {"running", "success", "failed", "stopped"}
    for task in tasks:
        assert HEX24.fullmatch(task["_id"])
        assert {
            "name",
            "description",
            "type",
            "active",
            "state",
            "run_count",
            "tags",
            "owner_name",
        } <= set(task)
        if task["run_count"] == 0:
            assert "last_run" not in task


# -- the run engine --------------------------------------------------------------------------------


@pytest.fixture
def calm(clock: ManualClock) -> World:
    """A world where no step fails and nothing starts on its own."""
    return World(seed=3, clock=clock, autorun=False, failure_rate=0.0)


def test_a_run_walks_through_its_steps_and_waits_at_the_gate(
    calm: World, clock: ManualClock, derive: Derive
) -> None:
    pid = calm.create_pipeline({"name": "gated", "workflow": {"plan": GATED_PLAN}})["_id"]
    outcome = calm.run_pipelines([pid])
    assert outcome.results[0].status == "executed"
    assert outcome.results[0].run_count == 1
    doc = calm.get_pipeline(pid)
    assert doc is not None
    assert derive(doc) == "running"
    assert doc["state"] == "running"
    assert doc["workflow"]["last_step"]["running"] == {
        "step_id": GATED_PLAN[0]["_id"],
        "paused": False,
        "status": "running",
    }

    def status() -> str:
        current = calm.get_pipeline(pid)
        assert current is not None
        return derive(current)

    took = wait_for(calm, clock, lambda: status() == "awaiting approval")
    assert 6 <= took <= 18, "two steps of 3 to 9 seconds each"
    gated = calm.get_pipeline(pid)
    assert gated is not None
    assert gated["state"] == "paused"
    assert gated["workflow"]["last_step"]["running"] == {
        "step_id": GATED_PLAN[2]["_id"],
        "paused": True,
        "status": "pending",
    }
    reached = gated["updatedAt"]

    clock.advance(3 * 3600)
    held = calm.get_pipeline(pid)
    assert held is not None
    assert derive(held) == "awaiting approval"
    assert held["updatedAt"] == reached, "waiting is not a change"

    assert calm.approve_pipelines([pid]).results[0].status == "success"
    assert status() == "running"
    wait_for(calm, clock, lambda: status() == "success")
    done = calm.get_pipeline(pid)
    assert done is not None
    assert done["state"] == "success"
    assert done["workflow"]["last_step"] == {
        "status": "stopped",
        "success": {"step_id": GATED_PLAN[3]["_id"]},
    }
    assert done["workflow"]["last_run"]["status"] == "success"
    assert done["workflow"]["last_run"]["completed"] == done["updatedAt"]

    actions = [(row["step_name"], row["action"]) for row in reversed(calm.activity(pid))]
    assert actions == [
        ("", "run started"),
        ("Checkout", "started"),
        ("Checkout", "completed"),
        ("Build", "started"),
        ("Build", "completed"),
        ("Approve release", "awaiting approval"),
        ("Approve release", "approved"),
        ("Deploy", "started"),
        ("Deploy", "completed"),
        ("", "run completed"),
    ]
    awaiting = [row for row in calm.activity(pid) if row["action"] == "awaiting approval"]
    assert awaiting[0]["message"] == "Ship it?"
    assert awaiting[0]["createdAt"] == reached


def test_each_step_takes_three_to_nine_seconds(calm: World, clock: ManualClock) -> None:
    plan = [step(i, f"Step {i}", "jenkins") for i in range(1, 9)]
    pid = calm.create_pipeline({"name": "long", "workflow": {"plan": plan}})["_id"]
    calm.run_pipelines([pid])
    clock.advance(120)
    rows = list(reversed(calm.activity(pid)))
    started = {
        row["step_name"]: parse(row["createdAt"]) for row in rows if row["action"] == "started"
    }
    ended = {
        row["step_name"]: parse(row["createdAt"]) for row in rows if row["action"] == "completed"
    }
    assert len(ended) == 8
    for name, when in ended.items():
        assert timedelta(seconds=3) <= when - started[name] <= timedelta(seconds=9)
    assert len(set(ended[n] - started[n] for n in ended)) > 1, "durations vary"


def test_reject_fails_the_run_at_the_gate_with_the_reason(
    calm: World, clock: ManualClock, derive: Derive
) -> None:
    pid = calm.create_pipeline({"name": "gated", "workflow": {"plan": GATED_PLAN}})["_id"]
    calm.run_pipelines([pid])
    clock.advance(60)
    outcome = calm.reject_pipelines([pid], "Change freeze until Monday")
    assert outcome.status == "success"
    doc = calm.get_pipeline(pid)
    assert doc is not None
    assert derive(doc) == "failed"
    assert doc["state"] == "failed"
    assert doc["workflow"]["last_step"]["failed"] == {"step_id": GATED_PLAN[2]["_id"]}
    assert doc["workflow"]["last_run"]["status"] == "failed"
    rejected = [row for row in calm.activity(pid) if row["action"] == "rejected"]
    assert len(rejected) == 1
    assert rejected[0]["message"] == "Change freeze until Monday"
    assert rejected[0]["step_name"] == "Approve release"
    clock.advance(600)
    assert calm.get_pipeline(pid) == doc, "a failed run stays failed"


def test_reject_needs_a_reason(calm: World) -> None:
    with pytest.raises(BadRequest):
        calm.reject_pipelines(calm.pipeline_ids()[:1], "   ")


def test_a_failing_step_fails_the_run(clock: ManualClock, derive: Derive) -> None:
    world = World(seed=3, clock=clock, autorun=False, failure_rate=1.0)
    pid = world.create_pipeline({"name": "doomed", "workflow": {"plan": GATED_PLAN}})["_id"]
    world.run_pipelines([pid])
    clock.advance(10)
    doc = world.get_pipeline(pid)
    assert doc is not None
    assert derive(doc) == "failed"
    assert doc["workflow"]["last_step"] == {
        "status": "stopped",
        "failed": {"step_id": GATED_PLAN[0]["_id"]},
    }
    failed = [row for row in world.activity(pid) if row["action"] == "failed"]
    assert failed[0]["tool_identifier"] == "git"
    assert failed[0]["status"] == "failed"


@pytest.mark.parametrize("rate", [0.1, 0.3])
def test_the_failure_rate_is_roughly_honoured(rate: float) -> None:
    clock = ManualClock()
    world = World(seed=99, clock=clock, pipelines=300, tasks=0, autorun=False, failure_rate=rate)
    start = world.now()
    idle = world.list_pipelines(status="success,failed,stopped", active=True).items
    world.run_pipelines([doc["_id"] for doc in idle])
    clock.advance(3600)
    outcomes: Counter[str] = Counter()
    for doc in idle:
        for row in world.activity(doc["_id"]):
            if parse(row["createdAt"]) >= start and row["action"] in ("completed", "failed"):
                outcomes[row["action"]] += 1
    steps = outcomes["completed"] + outcomes["failed"]
    assert steps > 300
    assert outcomes["failed"] / steps == pytest.approx(rate, abs=0.05)


def test_state_and_derivation_agree_as_time_goes_by(clock: ManualClock, derive: Derive) -> None:
    world = World(seed=5, clock=clock, autorun=True)
    for _ in range(120):
        clock.advance(5)
        for doc in all_docs(world):
            status = derive(doc)
            assert doc["state"] == ("paused" if status == "awaiting approval" else status), doc[
                "name"
            ]


def test_autorun_starts_new_runs_now_and_then(clock: ManualClock) -> None:
    world = World(seed=8, clock=clock, autorun=True)
    start = world.now()
    clock.advance(600)
    started = [
        row
        for pid in world.pipeline_ids()
        for row in world.activity(pid)
        if row["action"] == "run started" and parse(row["createdAt"]) > start
    ]
    assert 12 <= len(started) <= 32, "one every 20 to 40 seconds"
    assert all("scheduler" in row["message"] for row in started)


def test_without_autorun_nothing_starts_on_its_own(world: World, clock: ManualClock) -> None:
    start = world.now()
    clock.advance(600)
    for pid in world.pipeline_ids():
        for row in world.activity(pid):
            if parse(row["createdAt"]) > start:
                assert row["action"] != "run started"


def test_running_pipelines_at_time_zero_move_on(
    world: World, clock: ManualClock, derive: Derive
) -> None:
    running = [doc["_id"] for doc in all_docs(world) if derive(doc) == "running"]
    assert running
    clock.advance(3600)
    for pid in running:
        doc = world.get_pipeline(pid)
        assert doc is not None
        assert derive(doc) in ("success", "failed", "awaiting approval")


# -- actions ---------------------------------------------------------------------------------------


def first(world: World, derive: Derive, status: str, **filters: Any) -> dict[str, Any]:
    for doc in world.list_pipelines(**filters).items:
        if derive(doc) == status:
            return doc
    raise AssertionError(f"no pipeline is {status}")


def test_run_refuses_busy_and_inactive_pipelines(world: World, derive: Derive) -> None:
    running = first(world, derive, "running")
    gated = first(world, derive, "awaiting approval")
    paused = first(world, derive, "paused")
    inactive = world.list_pipelines(active=False).items[0]
    outcome = world.run_pipelines([running["_id"], gated["_id"], paused["_id"], inactive["_id"]])
    assert outcome.status == "failed"
    messages = [result.message for result in outcome.results]
    assert messages[0] == f"Pipeline {running['name']} is already running"
    assert messages[1].startswith(f"Pipeline {gated['name']} is currently in a paused state")
    assert messages[2].startswith(f"Pipeline {paused['name']} is currently in a paused state")
    assert "not active" in messages[3]
    assert all(result.status == "failed" for result in outcome.results)


def test_run_counts_up(world: World, derive: Derive) -> None:
    idle = first(world, derive, "success", active=True)
    outcome = world.run_pipelines([idle["_id"]])
    assert outcome.results[0].status == "executed"
    assert outcome.results[0].run_count == idle["workflow"]["run_count"] + 1
    doc = world.get_pipeline(idle["_id"])
    assert doc is not None
    assert "success" not in doc["workflow"]["last_step"], "a new run clears the last outcome"
    assert derive(doc) in ("running", "awaiting approval")
    assert doc["updatedAt"] == "2026-11-27T09:00:00.000Z"


def test_stop_stops_running_and_paused_only(world: World, derive: Derive) -> None:
    running = first(world, derive, "running")
    gated = first(world, derive, "awaiting approval")
    done = first(world, derive, "success")
    outcome = world.stop_pipelines([running["_id"], gated["_id"], done["_id"]])
    assert [result.status for result in outcome.results] == ["success", "success", "failed"]
    assert outcome.status == "partial"
    assert outcome.results[2].message == f"Pipeline {done['name']} is not running"
    for pid in (running["_id"], gated["_id"]):
        doc = world.get_pipeline(pid)
        assert doc is not None
        assert derive(doc) == "stopped"
        assert doc["state"] == "stopped"
        assert doc["workflow"]["last_step"] == {"status": "stopped"}
        assert doc["workflow"]["last_run"]["status"] == "stopped"


def test_reset_always_succeeds(world: World, derive: Derive) -> None:
    ids = [first(world, derive, status)["_id"] for status in ("running", "failed", "stopped")]
    outcome = world.reset_pipelines(ids)
    assert outcome.status == "success"
    for pid in ids:
        doc = world.get_pipeline(pid)
        assert doc is not None
        assert doc["workflow"]["last_step"] == {}
        assert doc["state"] == "stopped"
        assert derive(doc) == "stopped"


def test_approve_and_reject_need_a_gate(world: World, derive: Derive) -> None:
    paused = first(world, derive, "paused")
    running = first(world, derive, "running")
    for outcome in (
        world.approve_pipelines([paused["_id"], running["_id"]]),
        world.reject_pipelines([paused["_id"], running["_id"]], "no"),
    ):
        assert outcome.status == "failed"
        assert outcome.results[0].message == f"Pipeline {paused['name']} is not awaiting approval"


def test_all_unknown_targets_raise_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        world.run_pipelines(["0" * 24, "nope"])
    outcome = world.pipeline_status(["0" * 24, world.pipeline_ids()[0]])
    assert [result.status for result in outcome.results] == ["failed", "success"]
    assert len(outcome.documents) == 1


def test_delete_removes_the_pipeline_and_its_log(world: World) -> None:
    pid = world.pipeline_ids()[0]
    assert world.delete_pipelines([pid]).status == "success"
    assert world.get_pipeline(pid) is None
    assert world.list_pipelines().total == 39
    with pytest.raises(NotFound):
        world.activity(pid)


def test_update_changes_name_and_description(world: World, clock: ManualClock) -> None:
    pid = world.pipeline_ids()[0]
    clock.advance(5)
    outcome = world.update_pipeline(pid, {"name": "renamed", "description": "new words"})
    assert outcome.status == "success"
    doc = world.get_pipeline(pid)
    assert doc is not None
    assert (doc["name"], doc["description"]) == ("renamed", "new words")
    assert doc["updatedAt"] == "2026-11-27T09:00:05.000Z"


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"name": ""},
        {"name": "  "},
        {"name": 3},
        {"active": "yes"},
        {"workflow": {}},
        {"_id": "x"},
    ],
)
def test_update_rejects_bad_settings(world: World, settings: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        world.update_pipeline(world.pipeline_ids()[0], settings)


def test_create_keeps_unknown_fields_and_resets_the_run_state(world: World) -> None:
    source = world.get_pipeline(world.pipeline_ids()[0])
    assert source is not None
    clone = {k: v for k, v in source.items() if k not in ("_id", "createdAt", "updatedAt")}
    clone["name"] = "a-clone"
    clone["x_custom"] = {"keep": [1, 2]}
    clone["workflow"]["plan"][0]["x_step_note"] = "kept"
    created = world.create_pipeline(clone)
    assert HEX24.fullmatch(created["_id"])
    assert created["_id"] != source["_id"]
    assert created["x_custom"] == {"keep": [1, 2]}
    assert created["workflow"]["plan"][0]["x_step_note"] == "kept"
    assert [s["_id"] for s in created["workflow"]["plan"]] == [
        s["_id"] for s in source["workflow"]["plan"]
    ]
    assert created["workflow"]["run_count"] == 0
    assert "last_step" not in created["workflow"]
    assert created["state"] == "stopped"
    assert created["createdAt"] == created["updatedAt"] == "2026-11-27T09:00:00.000Z"
    assert world.get_pipeline(created["_id"]) == created


@pytest.mark.parametrize(
    "document",
    [
        {"description": "no name"},
        {"name": ""},
        {"name": "x", "_id": "0" * 24},
        {"name": "x", "workflow": {"plan": [{"_id": "not-hex", "name": "s"}]}},
        {"name": "x", "workflow": {"plan": [{"_id": "0" * 23, "name": "s"}]}},
        {"name": "x", "workflow": {"plan": [step(1, "a", "git"), step(1, "b", "git")]}},
        {"name": "x", "workflow": {"plan": "steps"}},
        {"name": "x", "type": "sdlc"},
    ],
)
def test_create_rejects_bad_documents(world: World, document: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        world.create_pipeline(document)


def test_tasks_run_then_succeed_or_fail(world: World, clock: ManualClock) -> None:
    idle = [task for task in world.list_tasks(active=True).items if task["state"] != "running"]
    outcome = world.run_tasks([task["_id"] for task in idle])
    assert {result.status for result in outcome.results} == {"executed"}
    for task in idle:
        current = world.get_task(task["_id"])
        assert current is not None
        assert current["state"] == "running"
        assert current["run_count"] == task["run_count"] + 1
    again = world.run_tasks([idle[0]["_id"]])
    assert again.results[0].message == f"Task {idle[0]['name']} is already running"
    clock.advance(30)
    for task in idle:
        current = world.get_task(task["_id"])
        assert current is not None
        assert current["state"] in ("success", "failed")
        assert current["last_run"]["status"] == current["state"]


def test_stopping_a_task(world: World) -> None:
    running = world.list_tasks(status="running").items[0]["_id"]
    assert world.stop_tasks([running]).status == "success"
    task = world.get_task(running)
    assert task is not None
    assert task["state"] == "stopped"
    assert world.stop_tasks([running]).status == "failed"


def test_activity_filters_by_run(world: World) -> None:
    doc = max(all_docs(world), key=lambda d: d["workflow"]["run_count"])
    run = doc["workflow"]["run_count"]
    rows = world.activity(doc["_id"], run)
    assert rows
    assert {row["run_count"] for row in rows} == {run}
    assert world.activity(doc["_id"], 10_000) == []


def test_clocks() -> None:
    from opstui.sim import RealClock

    clock = ManualClock()
    assert clock.now() == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    clock.advance(1.5)
    assert clock.now() == datetime(2026, 11, 27, 9, 0, 1, 500000, tzinfo=UTC)
    clock.set(datetime(2027, 1, 1, tzinfo=UTC))
    assert clock.now().year == 2027
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone"):
        clock.set(datetime(2027, 1, 1))
    fast = RealClock(speed=1000, start=datetime(2026, 1, 1, tzinfo=UTC))
    first_reading = fast.now()
    assert first_reading.tzinfo is not None
    assert timedelta(0) <= first_reading - datetime(2026, 1, 1, tzinfo=UTC) < timedelta(minutes=5)
    with pytest.raises(ValueError, match="speed"):
        RealClock(speed=0)


def test_the_world_never_goes_back_in_time(world: World, clock: ManualClock) -> None:
    clock.advance(60)
    later = world.now()
    clock.set(later - timedelta(hours=1))
    assert world.now() == later


def test_the_same_world_in_another_process() -> None:
    """Nothing depends on the interpreter's string hashing: other processes build the same bytes."""
    import hashlib
    import os
    import subprocess
    import sys

    code = (
        "import hashlib, json; from opstui.sim import World, ManualClock; c = ManualClock(); "
        "w = World(seed=21, clock=c); c.advance(300); w.run_pipelines(w.pipeline_ids()[:5]); "
        "c.advance(60); print(hashlib.sha256(json.dumps(w.snapshot(), sort_keys=True).encode()).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        digests.add(done.stdout.strip())
    clock = ManualClock()
    world = World(seed=21, clock=clock)
    clock.advance(300)
    world.run_pipelines(world.pipeline_ids()[:5])
    clock.advance(60)
    digests.add(hashlib.sha256(snapshot(world).encode()).hexdigest())
    assert len(digests) == 1
