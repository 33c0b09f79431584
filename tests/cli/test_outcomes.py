"""What an action ends with: failed, unknown, never sent twice, and one line saying why."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from tests.cli.conftest import (
    ACTIONS_PATH,
    CREATE_PATHS,
    Cli,
    actions_sent,
    audit_entries,
    creates_sent,
    mutations_sent,
    one_error_line,
    pipeline_doc,
    pipelines_in,
    real_answer,
    status_requests,
    task_doc,
)

WAITING = PipelineStatus.AWAITING_APPROVAL
IDLE = (PipelineStatus.SUCCESS, PipelineStatus.FAILED, PipelineStatus.STOPPED)


def _idle_task(sim: SimServer) -> str:
    return next(
        t
        for t in sorted(sim.world.task_ids())
        if task_doc(sim, t)["state"] in ("success", "failed", "stopped")
        and task_doc(sim, t)["active"]
    )


def _running_task(sim: SimServer) -> str:
    task_id = _idle_task(sim)
    sim.world.run_tasks([task_id])
    return task_id


Argv = Callable[[SimServer], list[str]]

MUTATIONS: dict[str, Argv] = {
    "run": lambda s: ["run", pipelines_in(s, *IDLE)[0].id],
    "stop": lambda s: ["stop", pipelines_in(s, PipelineStatus.RUNNING)[0].id],
    "reset": lambda s: ["reset", pipelines_in(s, PipelineStatus.FAILED)[0].id],
    "approve": lambda s: ["approve", pipelines_in(s, WAITING)[0].id],
    "reject": lambda s: ["reject", pipelines_in(s, WAITING)[0].id, "--reason", "freeze"],
    "delete": lambda s: ["delete", pipelines_in(s, *IDLE)[0].id, "--yes"],
    "update": lambda s: ["update", pipelines_in(s, *IDLE)[0].id, "--name", "renamed"],
    "clone": lambda s: ["clone", pipelines_in(s, *IDLE)[0].id, "--name", "the-copy"],
    "task run": lambda s: ["task", "run", _idle_task(s)],
    "task stop": lambda s: ["task", "stop", _running_task(s)],
}


def _fault_the_mutation(sim: SimServer, command: str, **fault: object) -> None:
    """The fault for the request that changes something (status reads are left alone)."""
    if command == "clone":
        for path in CREATE_PATHS:
            sim.add_fault("POST", path, times=5, **fault)  # type: ignore[arg-type]
    else:
        sim.add_fault("POST", ACTIONS_PATH, times=5, **fault)  # type: ignore[arg-type]


def _forced(command: str, argv: list[str]) -> list[str]:
    """Skip the status check (it shares the actions path with the faulted request)."""
    return argv if command == "clone" else [*argv, "--force"]


# -- sent exactly once -------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(MUTATIONS))
def test_a_5xx_is_not_sent_again(
    connected: SimServer, cli: Cli, isolated_user: Path, command: str
) -> None:
    argv = _forced(command, MUTATIONS[command](connected))
    connected.requests.clear()
    _fault_the_mutation(
        connected, command, status=503, body='{"status":"failed","message":"maintenance"}'
    )
    result = cli(*argv)
    assert result.code == 4
    line = one_error_line(result.err)
    assert "maintenance (HTTP 503)" in line
    assert "nothing was sent" not in line
    assert len(mutations_sent(connected)) == 1
    (entry,) = audit_entries(isolated_user)
    assert "HTTP 503" in entry["error"]
    assert not any(o["ok"] for o in entry["outcomes"])


@pytest.mark.parametrize("command", list(MUTATIONS))
def test_a_timeout_is_not_sent_again_and_may_have_been_applied(
    connected: SimServer, cli: Cli, isolated_user: Path, command: str
) -> None:
    argv = _forced(command, MUTATIONS[command](connected))
    connected.requests.clear()
    _fault_the_mutation(connected, command, status=200, body="{}", delay=2.0)
    result = cli(*argv, "--timeout", "0.3")
    assert result.code == 4
    line = one_error_line(result.err)
    assert "may have been" in line
    assert len(mutations_sent(connected)) == 1
    (entry,) = audit_entries(isolated_user)
    assert entry["error"]
    assert not any(o["ok"] for o in entry["outcomes"])


@pytest.mark.parametrize("command", list(MUTATIONS))
def test_a_reset_after_it_was_applied_is_not_sent_again_and_is_unknown(
    connected: SimServer, cli: Cli, isolated_user: Path, command: str
) -> None:
    """The server applies the request, then the connection is reset (a real TCP reset)."""
    argv = _forced(command, MUTATIONS[command](connected))
    connected.requests.clear()
    _fault_the_mutation(connected, command, kind="reset", when="after")
    result = cli(*argv)
    assert result.code == 4
    assert "may have been" in one_error_line(result.err)
    (sent,) = mutations_sent(connected)
    assert sent.applied and sent.fault == "reset"
    (entry,) = audit_entries(isolated_user)
    assert entry["error"].startswith("outcome unknown: ")
    assert all(o["status"] == "unknown" for o in entry["outcomes"])


# -- outcome unknown ---------------------------------------------------------------------------

UNKNOWN_LINES = {
    "run": "the run may have been applied; check with `opstui show {id}` before trying again",
    "update": "the update may have been applied; check with `opstui show {id}` before trying again",
    "clone": "the clone may have been created; "
    "check with `opstui list --search the-copy` before trying again",
    "task run": "the task run may have been applied; "
    "check with `opstui tasks --search {id}` before trying again",
    "task stop": "the task stop may have been applied; "
    "check with `opstui tasks --search {id}` before trying again",
}


@pytest.mark.parametrize("command", list(UNKNOWN_LINES))
@pytest.mark.parametrize("fault", ["timeout", "unreadable"])
def test_an_unknown_outcome_says_so_exits_4_and_is_audited_as_unknown(
    connected: SimServer, cli: Cli, isolated_user: Path, command: str, fault: str
) -> None:
    argv = MUTATIONS[command](connected)
    target = argv[2] if command.startswith("task") else argv[1]
    connected.requests.clear()
    if fault == "timeout":
        _fault_the_mutation(connected, command, status=200, body="{}", delay=2.0)
        argv += ["--timeout", "0.3"]
    else:  # a 2xx that cannot be read: it may have been applied all the same
        _fault_the_mutation(connected, command, status=200, body='{"status": "succ')
    result = cli(*_forced(command, argv))
    assert result.code == 4
    assert one_error_line(result.err) == (
        "opstui: error: outcome unknown: " + UNKNOWN_LINES[command].format(id=target)
    )
    (line,) = result.out.splitlines()
    assert line.startswith("unknown   ")
    assert target in line
    assert "failed" not in result.out
    assert len(mutations_sent(connected)) == 1
    assert "outcome unknown" not in line  # said once, on stderr
    (entry,) = audit_entries(isolated_user)
    assert entry["error"].startswith("outcome unknown: ")
    assert entry["error"].count("outcome unknown") == 1
    assert [(o["target"], o["ok"], o["status"]) for o in entry["outcomes"]] == [
        (target, False, "unknown")
    ]


def test_a_target_the_server_did_not_report_on_is_unknown(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    reported, silent = (p.id for p in pipelines_in(connected, *IDLE)[:2])
    connected.add_fault(
        "POST",
        ACTIONS_PATH,
        status=200,
        body=json.dumps(
            {
                "status": "partial",
                "results": [{"target": reported, "status": "executed", "runCount": 3}],
            }
        ),
    )
    result = cli("run", reported, silent, "--force")
    assert result.code == 4
    ok, unknown = result.out.splitlines()
    assert ok == f"ok        {reported}: run 3 started"
    assert unknown == f"unknown   {silent}: the server did not report on this target"
    assert one_error_line(result.err) == (
        "opstui: error: outcome unknown for 1 of 2 pipelines: the run may have been applied; "
        f"check with `opstui show {silent}` before trying again"
    )
    assert len(actions_sent(connected)) == 1
    (entry,) = audit_entries(isolated_user)
    assert entry["error"] == "outcome unknown: the server did not report on this target"
    assert [(o["target"], o["ok"], o["status"]) for o in entry["outcomes"]] == [
        (reported, True, "executed"),
        (silent, False, "unknown"),
    ]


# -- refused by the server, for a target -------------------------------------------------------


def test_a_target_the_server_refused_is_said_on_stderr(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    first, second = pipelines_in(connected, *IDLE)[:2]
    running = pipelines_in(connected, PipelineStatus.RUNNING)[0]
    result = cli("run", first.id, running.id, second.id, "--force")
    assert result.code == 1
    lines = result.out.splitlines()
    assert [line.split()[0] for line in lines] == ["ok", "failed", "ok"]
    assert one_error_line(result.err) == (
        f"opstui: error: run failed for 1 of 3 pipelines: {running.id}: "
        f"Pipeline {running.name} is already running"
    )
    (entry,) = audit_entries(isolated_user)
    assert [o["ok"] for o in entry["outcomes"]] == [True, False, True]


def test_a_refused_target_is_named_when_its_name_is_known(connected: SimServer, cli: Cli) -> None:
    """Checked first (names known), then refused by the server all the same (a race)."""
    pipeline = pipelines_in(connected, *IDLE)[0]
    connected.add_fault(
        "POST",
        ACTIONS_PATH,
        status=200,
        body=json.dumps({"data": [pipeline_doc(connected, pipeline.id)]}),
    )
    connected.add_fault(
        "POST",
        ACTIONS_PATH,
        status=200,
        body=json.dumps({"status": "failed", "message": "already running"}),
    )
    result = cli("run", pipeline.id)
    assert result.code == 1
    assert result.out == f"failed    {pipeline.name} ({pipeline.id}): already running\n"
    assert one_error_line(result.err) == (
        f"opstui: error: run failed: {pipeline.name}: already running"
    )


def test_a_refusal_by_the_status_check_names_the_target(connected: SimServer, cli: Cli) -> None:
    running = pipelines_in(connected, PipelineStatus.RUNNING)[0]
    result = cli("run", running.id)
    assert result.code == 1
    assert result.out == ""
    assert one_error_line(result.err) == (
        f"opstui: error: nothing sent: {running.name} ({running.id}): is already running"
    )
    assert actions_sent(connected) == []


# -- the status check --------------------------------------------------------------------------


@pytest.mark.parametrize("command", list(MUTATIONS))
def test_a_failed_status_check_sends_nothing(
    connected: SimServer, cli: Cli, isolated_user: Path, command: str
) -> None:
    argv = MUTATIONS[command](connected)
    connected.requests.clear()
    connected.add_fault("POST", ACTIONS_PATH, status=500, body="<html>oops</html>", times=5)
    result = cli(*argv)
    assert result.code == 4
    line = one_error_line(result.err)
    assert "HTTP 500" in line
    assert line.endswith("; nothing was sent")
    assert len(status_requests(connected)) >= 1  # reads are retried
    assert mutations_sent(connected) == []
    (entry,) = audit_entries(isolated_user)
    assert "HTTP 500" in entry["error"]


def test_a_status_answer_without_documents_is_not_a_deletion(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    """The v1 shape (``{"status", "message"}``) says nothing of the targets: nothing is sent,
    and the target is not called gone."""
    pipeline = pipelines_in(connected, *IDLE)[0]
    connected.add_fault(
        "POST", ACTIONS_PATH, status=200, body='{"status": "success", "message": "ok"}'
    )
    result = cli("run", pipeline.id)
    assert result.code == 1
    line = one_error_line(result.err)
    assert line.startswith(f"opstui: error: nothing sent: {pipeline.id}: ")
    assert "could not be checked" in line
    assert "not found" not in result.err
    assert actions_sent(connected) == []
    assert creates_sent(connected) == []
    (entry,) = audit_entries(isolated_user)
    assert entry["outcomes"][0]["status"] == "refused"


def test_a_status_answer_with_an_unreadable_document_does_not_say_not_found(
    connected: SimServer, cli: Cli
) -> None:
    pipeline = pipelines_in(connected, *IDLE)[0]
    answer = real_answer(
        connected,
        "POST",
        ACTIONS_PATH,
        json={"action": "status", "type": "pipeline", "version": 1, "target": [pipeline.id]},
    )
    for doc in answer["data"]:
        del doc["_id"]
    connected.add_fault("POST", ACTIONS_PATH, status=200, body=json.dumps(answer))
    result = cli("run", pipeline.id)
    assert result.code == 1
    assert one_error_line(result.err) == (
        f"opstui: error: nothing sent: {pipeline.id}: its status could not be read"
    )
    assert actions_sent(connected) == []
