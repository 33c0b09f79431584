"""The actions: status checked first, one request per command, outcomes printed, audit line."""

from __future__ import annotations

from pathlib import Path

import pytest

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from tests.cli.conftest import (
    Cli,
    actions_sent,
    audit_entries,
    pipeline_doc,
    pipeline_now,
    pipelines_in,
    status_requests,
    task_doc,
)

WAITING = PipelineStatus.AWAITING_APPROVAL
IDLE_STATES = (PipelineStatus.SUCCESS, PipelineStatus.FAILED, PipelineStatus.STOPPED)
ACTIVE_RUN = (PipelineStatus.RUNNING, PipelineStatus.PAUSED)


def body(action: str, ids: list[str], **extra: object) -> dict[str, object]:
    """The contract's action body."""
    return {"action": action, "type": "pipeline", "version": 1, "target": ids, **extra}


# -- approve / reject ---------------------------------------------------------------------------


def test_approve_checks_first_then_sends_one_request(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    pipeline = pipelines_in(connected, WAITING)[0]
    assert pipeline.gate is not None
    result = cli("approve", pipeline.id)
    assert result.code == 0, result.err
    assert status_requests(connected)[0].body == body("status", [pipeline.id])
    assert [r.body for r in actions_sent(connected)] == [body("approve", [pipeline.id])]
    line = result.out.strip()
    assert line.startswith(f"approved  {pipeline.name} ({pipeline.id})")
    assert f'at "{pipeline.gate.name}", waited ' in line
    assert pipeline_now(connected, pipeline.id).status is not WAITING

    (entry,) = audit_entries(isolated_user)
    assert entry["action"] == "approve"
    assert entry["source"] == "cli"
    assert entry["targets"] == [{"id": pipeline.id, "name": pipeline.name}]
    assert entry["outcomes"][0]["ok"] is True
    assert entry["error"] is None


def test_a_batch_is_one_request_with_every_id(connected: SimServer, cli: Cli) -> None:
    ids = [p.id for p in pipelines_in(connected, WAITING)[:3]]
    result = cli("approve", *ids)
    assert result.code == 0, result.err
    assert len(status_requests(connected)) == 1
    assert [r.body for r in actions_sent(connected)] == [body("approve", ids)]
    assert result.out.count("approved  ") == 3


def test_approve_refuses_a_pipeline_not_awaiting_approval(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    idle = pipelines_in(connected, *IDLE_STATES)[0]
    result = cli("approve", idle.id)
    assert result.code == 1
    assert result.out == ""
    assert f"{idle.name} ({idle.id}): is not awaiting approval" in result.err
    assert "nothing sent" in result.err
    assert len(status_requests(connected)) == 1
    assert actions_sent(connected) == []
    (entry,) = audit_entries(isolated_user)
    assert entry["error"].startswith("nothing sent")
    assert entry["outcomes"] == [
        {"target": idle.id, "ok": False, "status": "refused", "message": "is not awaiting approval"}
    ]


def test_one_bad_target_refuses_the_whole_command(connected: SimServer, cli: Cli) -> None:
    waiting = pipelines_in(connected, WAITING)[0]
    idle = pipelines_in(connected, *IDLE_STATES)[0]
    unknown = "0" * 24
    result = cli("approve", waiting.id, idle.id, unknown)
    assert result.code == 1
    assert "is not awaiting approval" in result.err
    assert f"{unknown}: not found" in result.err
    assert "2 of 3" in result.err
    assert "--force" in result.err
    assert actions_sent(connected) == []
    assert pipeline_now(connected, waiting.id).status is WAITING


def test_force_skips_the_check_and_reports_each_target(connected: SimServer, cli: Cli) -> None:
    waiting = pipelines_in(connected, WAITING)[0]
    idle = pipelines_in(connected, *IDLE_STATES)[0]
    result = cli("approve", waiting.id, idle.id, "--force")
    assert result.code == 1
    assert status_requests(connected) == []
    assert [r.body for r in actions_sent(connected)] == [body("approve", [waiting.id, idle.id])]
    lines = result.out.splitlines()
    assert lines[0].startswith(f"approved  {waiting.id}")
    assert lines[1].startswith(f"failed    {idle.id}: ")
    assert "not awaiting approval" in lines[1]


def test_reject_sends_the_reason(connected: SimServer, cli: Cli, isolated_user: Path) -> None:
    pipeline = pipelines_in(connected, WAITING)[0]
    result = cli("reject", pipeline.id, "--reason", "  smoke tests red  ")
    assert result.code == 0, result.err
    assert [r.body for r in actions_sent(connected)] == [
        body("reject", [pipeline.id], message="smoke tests red")
    ]
    assert result.out.startswith(f"rejected  {pipeline.name} ({pipeline.id}) at ")
    assert "waited" in result.out
    (entry,) = audit_entries(isolated_user)
    assert entry["reason"] == "smoke tests red"
    assert pipeline_now(connected, pipeline.id).status is PipelineStatus.FAILED


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reject_without_a_reason_is_refused_before_sending(
    connected: SimServer, cli: Cli, reason: str | None, isolated_user: Path
) -> None:
    pipeline = pipelines_in(connected, WAITING)[0]
    argv = ["reject", pipeline.id] + ([] if reason is None else ["--reason", reason])
    result = cli(*argv)
    assert result.code == 2
    assert "reason" in result.err
    assert connected.requests == []
    assert audit_entries(isolated_user) == []


# -- run / stop / reset ---------------------------------------------------------------------------


def test_run(connected: SimServer, cli: Cli) -> None:
    pipeline = pipelines_in(connected, *IDLE_STATES)[0]
    result = cli("run", pipeline.id)
    assert result.code == 0, result.err
    assert [r.body for r in actions_sent(connected)] == [body("run", [pipeline.id])]
    assert result.out.startswith(f"ok        {pipeline.name} ({pipeline.id}): ")
    assert pipeline_now(connected, pipeline.id).status is PipelineStatus.RUNNING


def test_run_refuses_one_already_running_or_waiting(connected: SimServer, cli: Cli) -> None:
    running = pipelines_in(connected, PipelineStatus.RUNNING)[0]
    waiting = pipelines_in(connected, WAITING)[0]
    result = cli("run", running.id, waiting.id)
    assert result.code == 1
    assert "is already running" in result.err
    assert "approval gate" in result.err
    assert actions_sent(connected) == []


def test_stop_and_its_refusal(connected: SimServer, cli: Cli) -> None:
    idle = pipelines_in(connected, *IDLE_STATES)[0]
    refused = cli("stop", idle.id)
    assert refused.code == 1
    assert "is not running" in refused.err
    assert actions_sent(connected) == []

    running = pipelines_in(connected, *ACTIVE_RUN)[0]
    result = cli("stop", running.id)
    assert result.code == 0, result.err
    assert [r.body for r in actions_sent(connected)] == [body("stop", [running.id])]


def test_reset(connected: SimServer, cli: Cli) -> None:
    pipeline = pipelines_in(connected, PipelineStatus.FAILED)[0]
    result = cli("reset", pipeline.id)
    assert result.code == 0, result.err
    assert [r.body for r in actions_sent(connected)] == [body("reset", [pipeline.id])]


def test_a_failed_outcome_in_a_200_exits_1(connected: SimServer, cli: Cli) -> None:
    running = pipelines_in(connected, PipelineStatus.RUNNING)[0]
    result = cli("run", running.id, "--force")
    assert result.code == 1
    assert result.out.startswith(f"failed    {running.id}: ")
    assert "already running" in result.out


def test_a_failing_run_is_sent_exactly_once(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    pipeline = pipelines_in(connected, *IDLE_STATES)[0]
    connected.add_fault("POST", "/api/v2/actions", status=500, body="<html>oops</html>", times=5)
    result = cli("run", pipeline.id, "--force")
    assert result.code == 4
    assert result.err.startswith("opstui: error: server error: ")
    assert len(result.err.splitlines()) == 1
    assert len(actions_sent(connected)) == 1
    (entry,) = audit_entries(isolated_user)
    assert "HTTP 500" in entry["error"]
    assert entry["outcomes"] == []


# -- delete / update / clone ----------------------------------------------------------------------


def test_delete_with_yes(connected: SimServer, cli: Cli) -> None:
    ids = [p.id for p in pipelines_in(connected, *IDLE_STATES)[:2]]
    result = cli("delete", *ids, "--yes")
    assert result.code == 0, result.err
    assert [r.body for r in actions_sent(connected)] == [body("delete", ids)]
    assert all(connected.world.get_pipeline(i) is None for i in ids)


def test_delete_without_yes_off_a_terminal_sends_nothing(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    pipeline_id = connected.world.pipeline_ids()[0]
    result = cli("delete", pipeline_id)
    assert result.code == 2
    assert "--yes" in result.err
    assert connected.requests == []
    assert connected.world.get_pipeline(pipeline_id) is not None
    assert audit_entries(isolated_user) == []


def test_update_sends_one_id_as_a_string(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    pipeline_id = connected.world.pipeline_ids()[0]
    result = cli("update", pipeline_id, "--name", "renamed", "--description", "new words")
    assert result.code == 0, result.err
    assert [r.body for r in actions_sent(connected)] == [
        {
            "action": "update",
            "type": "pipeline",
            "version": 1,
            "target": pipeline_id,
            "settings": {"name": "renamed", "description": "new words"},
        }
    ]
    assert pipeline_doc(connected, pipeline_id)["name"] == "renamed"
    (entry,) = audit_entries(isolated_user)
    assert entry["details"] == {"name": "renamed", "description": "new words"}


def test_update_needs_something_to_change(connected: SimServer, cli: Cli) -> None:
    result = cli("update", connected.world.pipeline_ids()[0])
    assert result.code == 2
    assert connected.requests == []


def test_clone(connected: SimServer, cli: Cli, isolated_user: Path) -> None:
    source = connected.world.pipeline_ids()[0]
    result = cli("clone", source, "--name", "copy-of-it")
    assert result.code == 0, result.err
    creates = [
        r for r in connected.requests if r.path == "/api/v2/pipeline/create" and r.method == "POST"
    ]
    assert len(creates) == 1
    created = creates[0].body
    assert isinstance(created, dict)
    assert created["name"] == "copy-of-it"
    assert "_id" not in created
    new_id = result.out.split("(")[-1].rstrip(")\n")
    assert pipeline_doc(connected, new_id)["name"] == "copy-of-it"
    (entry,) = audit_entries(isolated_user)
    assert entry["action"] == "clone"
    assert entry["details"] == {"name": "copy-of-it", "new_id": new_id}


# -- tasks ----------------------------------------------------------------------------------------


def _task_ids(sim: SimServer, *states: str) -> list[str]:
    return [
        t
        for t in sorted(sim.world.task_ids())
        if task_doc(sim, t)["state"] in states and task_doc(sim, t)["active"]
    ]


def test_task_run_and_stop(connected: SimServer, cli: Cli) -> None:
    idle = _task_ids(connected, "success", "failed", "stopped")[0]
    result = cli("task", "run", idle)
    assert result.code == 0, result.err
    assert [r.body for r in actions_sent(connected)] == [
        {"action": "run", "type": "task", "version": 1, "target": [idle]}
    ]
    assert task_doc(connected, idle)["state"] == "running"

    again = cli("task", "run", idle)
    assert again.code == 1
    assert "is already running" in again.err

    stopped = cli("task", "stop", idle)
    assert stopped.code == 0, stopped.err
    assert actions_sent(connected)[-1].body == {
        "action": "stop",
        "type": "task",
        "version": 1,
        "target": [idle],
    }


# -- the audit log --------------------------------------------------------------------------------


def test_an_unwritable_audit_log_warns_but_keeps_the_exit_code(
    connected: SimServer, cli: Cli, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = isolated_user / "not-a-dir"
    blocked.write_text("")
    monkeypatch.setenv("OPSTUI_AUDIT_LOG", str(blocked / "audit.log"))
    pipeline = pipelines_in(connected, *IDLE_STATES)[0]
    result = cli("run", pipeline.id)
    assert result.code == 0
    assert "opstui: warning: cannot write the audit log" in result.err
    assert len(actions_sent(connected)) == 1
