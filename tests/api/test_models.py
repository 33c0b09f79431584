"""Decoding and status derivation, on documents no simulator needs to send."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from opstui.api import Pipeline, PipelineStatus, Task, derive_status
from opstui.api.rules import why_not

GATE = "b" * 24
BUILD = "a" * 24
PLAN = [
    {"_id": BUILD, "name": "Build", "active": True, "tool": {"tool_identifier": "jenkins"}},
    {
        "_id": GATE,
        "name": "Approve release",
        "active": True,
        "tool": {"tool_identifier": "approval", "configuration": {"message": "Ship it?"}},
    },
]


def workflow(last_step: Any, plan: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"run_count": 3, "plan": PLAN if plan is None else plan, "last_step": last_step}


@pytest.mark.parametrize(
    ("last_step", "expected"),
    [
        (
            {
                "status": "stopped",
                "running": {"step_id": GATE, "paused": True, "status": "pending"},
            },
            "awaiting approval",
        ),
        # paused at a step that is not a gate: plain paused, not awaiting approval
        (
            {
                "status": "stopped",
                "running": {"step_id": BUILD, "paused": True, "status": "pending"},
            },
            "paused",
        ),
        # the gate check comes first, even over a stale success marker
        (
            {
                "status": "stopped",
                "running": {"step_id": GATE, "paused": True},
                "success": {"step_id": GATE},
            },
            "awaiting approval",
        ),
        ({"status": "stopped", "success": {"step_id": GATE}}, "success"),
        ({"status": "stopped", "failed": {"step_id": BUILD}}, "failed"),
        (
            {
                "status": "running",
                "running": {"step_id": BUILD, "paused": False, "status": "running"},
            },
            "running",
        ),
        ({"status": "stopped", "running": {"step_id": BUILD, "status": "pending"}}, "paused"),
        ({"status": "stopped"}, "stopped"),
        ({}, "idle"),
        (None, "idle"),
        ("garbage", "unknown"),
        ([1, 2], "unknown"),
    ],
)
def test_status_is_derived_in_the_portals_order(last_step: Any, expected: str) -> None:
    assert derive_status(workflow(last_step)) == PipelineStatus(expected)


@pytest.mark.parametrize("value", [None, "junk", 42, [], {"plan": "not a list", "last_step": 7}])
def test_missing_or_malformed_workflow_is_unknown_never_a_crash(value: Any) -> None:
    pipeline = Pipeline.model_validate({"_id": "x1", "name": "p", "workflow": value})
    assert pipeline.status is PipelineStatus.UNKNOWN
    assert pipeline.plan == [] or value == {"plan": "not a list", "last_step": 7}
    assert pipeline.step_text == ""
    assert pipeline.run_count == 0
    assert pipeline.gate is None


def test_user_action_step_is_a_gate_too() -> None:
    plan = [{"_id": GATE, "name": "Sign off", "tool": {"tool_identifier": "user-action"}}]
    doc = workflow({"status": "stopped", "running": {"step_id": GATE, "paused": True}}, plan)
    assert derive_status(doc) is PipelineStatus.AWAITING_APPROVAL


def test_current_step_gate_and_waiting_since() -> None:
    pipeline = Pipeline.model_validate(
        {
            "_id": "5fd56d90979ee048ee660624",
            "name": "deploy-web",
            "updatedAt": "2026-11-27T10:00:00Z",
            "workflow": workflow(
                {"status": "stopped", "running": {"step_id": GATE, "paused": True}}
            ),
        }
    )
    assert pipeline.step_text == "2/2 Approve release"
    assert pipeline.gate is not None
    assert pipeline.gate.configuration == {"message": "Ship it?"}
    assert pipeline.waiting_since == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_unknown_fields_are_kept_exactly_as_sent() -> None:
    raw = {
        "_id": "x1",
        "name": "p",
        "type": "sdlc",  # a string where the portal sends an array
        "tags": ["loose", {"type": "env", "value": "prod", "extra": 1}],
        "updatedAt": "not a date",
        "custom": {"nested": [1, {"k": "v"}]},
        "workflow": {"plan": PLAN, "last_step": {}, "schedule": {"cron": "0 * * * *"}},
    }
    pipeline = Pipeline.model_validate(raw)
    assert pipeline.type == ["sdlc"]
    assert [str(tag) for tag in pipeline.tags] == ["loose", "env:prod"]
    assert pipeline.updated_at is None
    document = pipeline.document()
    assert document == raw
    document["custom"]["nested"].append(2)
    assert raw["custom"]["nested"] == [1, {"k": "v"}], "document() must be a copy"


def test_fast_json_path_keeps_unknown_fields() -> None:
    adapter = TypeAdapter(list[Pipeline])
    [pipeline] = adapter.validate_json(b'[{"_id": "y", "q": [1], "workflow": null}]')
    assert pipeline.document() == {"_id": "y", "q": [1], "workflow": None}
    assert pipeline.status is PipelineStatus.UNKNOWN


@pytest.mark.parametrize(
    "value", ["2026-11-27T10:00:00Z", "2026-11-27T10:00:00+00:00", 1795773600, 1795773600000]
)
def test_times_in_the_shapes_servers_send(value: Any) -> None:
    pipeline = Pipeline.model_validate({"_id": "x", "createdAt": value})
    assert pipeline.created_at == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_task_state_words() -> None:
    assert Task.model_validate({"_id": "t", "state": "running"}).status is PipelineStatus.RUNNING
    assert Task.model_validate({"_id": "t", "state": "weird"}).status is PipelineStatus.UNKNOWN
    assert Task.model_validate({"_id": "t"}).status is PipelineStatus.IDLE
    assert Task.model_validate({"_id": "t", "run_count": "7"}).run_count == 7


@pytest.mark.parametrize(
    ("action", "last_step", "allowed"),
    [
        ("approve", {"status": "stopped", "running": {"step_id": GATE, "paused": True}}, True),
        ("approve", {"status": "running", "running": {"step_id": BUILD}}, False),
        ("reject", {"status": "stopped", "success": {"step_id": GATE}}, False),
        ("run", {"status": "running", "running": {"step_id": BUILD}}, False),
        ("run", {"status": "stopped", "running": {"step_id": GATE, "paused": True}}, False),
        ("run", {"status": "stopped", "failed": {"step_id": BUILD}}, True),
        ("stop", {"status": "stopped", "success": {"step_id": GATE}}, False),
        ("stop", {"status": "running", "running": {"step_id": BUILD}}, True),
        ("reset", {"status": "running", "running": {"step_id": BUILD}}, True),
    ],
)
def test_rules_follow_the_derived_status(action: str, last_step: Any, allowed: bool) -> None:
    pipeline = Pipeline.model_validate({"_id": "x", "name": "p", "workflow": workflow(last_step)})
    assert (why_not(action, pipeline) is None) is allowed


def test_inactive_pipeline_cannot_run() -> None:
    pipeline = Pipeline.model_validate({"_id": "x", "active": False, "workflow": workflow({})})
    assert why_not("run", pipeline) == "is inactive"
