"""Decoding and status derivation, on documents no simulator needs to send."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from opstui.api import Pipeline, PipelineStatus, Task, derive_status
from opstui.api.decoding import decode_page
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
    assert pipeline.type == ("sdlc",)
    assert [str(tag) for tag in pipeline.tags] == ["loose", "env:prod"]
    assert pipeline.updated_at is None
    document = pipeline.document()
    assert document == raw
    document["custom"]["nested"].append(2)
    assert raw["custom"]["nested"] == [1, {"k": "v"}], "document() must be a copy"


def test_the_list_path_keeps_unknown_fields() -> None:
    page = decode_page(b'[{"_id": "y", "q": [1], "workflow": null}]', Pipeline, "x", "h")
    [pipeline] = page.items
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


# -- the contract as Opsera's portal shows it today ----------------------------------------

GATED = {"status": "stopped", "running": {"step_id": GATE, "paused": True}}


@pytest.mark.parametrize(
    ("state", "last_step", "expected"),
    [
        # the document's own word, when it is one of the four the portal shows as they are
        ("running", {"status": "stopped", "success": {"step_id": GATE}}, "running"),
        ("failed", {"status": "stopped", "success": {"step_id": GATE}}, "failed"),
        ("success", {"status": "running", "running": {"step_id": BUILD}}, "success"),
        ("paused", {}, "paused"),
        # any other word, or none, is derived from last_step
        ("stopped", {"status": "stopped", "failed": {"step_id": BUILD}}, "failed"),
        ("weird", {"status": "running", "running": {"step_id": BUILD}}, "running"),
        (None, {"status": "stopped", "success": {"step_id": GATE}}, "success"),
        # stopped with running.paused true is paused too, not only with a pending step
        ("stopped", {"status": "stopped", "running": {"step_id": BUILD, "paused": True}}, "paused"),
        # awaiting approval comes first of all: over state, and whatever last_step.status says
        ("running", GATED, "awaiting approval"),
        ("failed", {**GATED, "status": "running"}, "awaiting approval"),
        (None, {"running": {"step_id": GATE, "paused": 1}}, "awaiting approval"),
    ],
)
def test_the_state_word_then_the_last_step(state: Any, last_step: Any, expected: str) -> None:
    assert derive_status(workflow(last_step), state) == PipelineStatus(expected)
    doc = {"_id": "x", "state": state, "workflow": workflow(last_step)}
    assert Pipeline.model_validate(doc).status == PipelineStatus(expected)


def test_a_state_word_is_the_word_even_without_a_workflow() -> None:
    assert Pipeline.model_validate({"_id": "x", "state": "failed"}).status is PipelineStatus.FAILED
    assert (
        Pipeline.model_validate({"_id": "x", "state": "stopped"}).status is PipelineStatus.UNKNOWN
    )


def test_servicenow_steps_are_gates() -> None:
    plan = [{"_id": GATE, "name": "Change ticket", "tool": {"tool_identifier": "servicenow"}}]
    doc = workflow({"status": "running", "running": {"step_id": GATE, "paused": True}}, plan)
    pipeline = Pipeline.model_validate({"_id": "x", "state": "running", "workflow": doc})
    assert pipeline.status is PipelineStatus.AWAITING_APPROVAL
    assert pipeline.gate is not None and pipeline.gate.name == "Change ticket"
    assert pipeline.plan[0].is_gate


@pytest.mark.parametrize(
    ("state", "last_step", "step"),
    [
        ("running", {"status": "running", "running": {"step_id": BUILD}}, "1/2 Build"),
        (None, GATED, "2/2 Approve release"),
        (
            "paused",
            {"status": "stopped", "running": {"step_id": BUILD, "paused": True}},
            "1/2 Build",
        ),
        # after a failure the failed step, even when the running marker still points elsewhere
        ("failed", {"running": {"step_id": GATE}, "failed": {"step_id": BUILD}}, "1/2 Build"),
        (None, {"status": "stopped", "success": {"step_id": GATE}}, "2/2 Approve release"),
        ("failed", {"status": "stopped", "success": {"step_id": GATE}}, ""),
        (None, {}, ""),
    ],
)
def test_the_current_step_is_the_one_the_portal_highlights(
    state: Any, last_step: Any, step: str
) -> None:
    doc = {"_id": "x", "state": state, "workflow": workflow(last_step)}
    assert Pipeline.model_validate(doc).step_text == step


# -- compact records: what 10,000 listed pipelines hold (issue 8) ----------------------------


def _listed(count: int) -> list[Pipeline]:
    docs = [
        {
            "_id": f"{index:024x}",
            "name": f"deploy-{index}",
            "owner_name": "Frances " + "Allen",  # built at run time: a fresh string each
            "tags": [{"type": "env", "value": "prod"}],
            "type": ["sdlc"],
            "state": "paused",
            "account": {"nested": [index]},
            "workflow": workflow(GATED),
        }
        for index in range(count)
    ]
    return decode_page(json.dumps(docs).encode(), Pipeline, "pipelines", "h").items


def test_a_listed_pipeline_is_compact_and_shares_its_repeated_words() -> None:
    first, second = _listed(2)
    assert not hasattr(first, "__dict__"), "slots only: no per-object dict"
    assert first.owner_name is second.owner_name
    assert first.tags is second.tags and first.type is second.type
    assert first.current_step is not None and second.current_step is not None
    assert first.current_step.tool_identifier is second.current_step.tool_identifier
    assert first.status is PipelineStatus.AWAITING_APPROVAL
    assert first.step_text == "2/2 Approve release"


def test_the_whole_document_is_still_there_for_details_and_clone() -> None:
    [pipeline] = _listed(1)
    document = pipeline.document()
    assert document["account"] == {"nested": [0]}
    assert pipeline.workflow == workflow(GATED)
    assert [step.name for step in pipeline.plan] == ["Build", "Approve release"]
    document["account"]["nested"].append(1)
    assert pipeline.document()["account"] == {"nested": [0]}, "document() is a copy"


def test_two_reads_of_one_document_are_the_same_document() -> None:
    [old], [new] = _listed(1), _listed(1)
    assert old is not new
    assert old.same_document(new) and old == new
    changed = Pipeline.model_validate({**old.document(), "name": "renamed"})
    assert not old.same_document(changed) and old != changed
