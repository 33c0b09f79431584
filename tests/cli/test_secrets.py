"""The token never reaches stdout, stderr or the audit log, even when the server echoes it back.

The ``cli`` fixture fails a test whose output holds the token, and an autouse fixture fails a
test whose audit log does; these tests make a server send it in every place it could travel
from: an error's message, a target's message, a document's name, an unknown outcome.
"""

from __future__ import annotations

import json
from pathlib import Path

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from tests.cli.conftest import (
    ACTIONS_PATH,
    Cli,
    actions_sent,
    audit_entries,
    one_error_line,
    pipeline_doc,
    pipelines_in,
)
from tests.conftest import TOKEN

IDLE = (PipelineStatus.SUCCESS, PipelineStatus.FAILED, PipelineStatus.STOPPED)


def _audit_text(home: Path) -> str:
    return (home / "audit.log").read_text()


def test_an_error_message_that_echoes_the_token(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    pipeline = pipelines_in(connected, *IDLE)[0]
    connected.add_fault(
        "POST",
        ACTIONS_PATH,
        status=500,
        body=json.dumps({"status": "failed", "message": f"bad bearer {TOKEN} for run"}),
    )
    result = cli("run", pipeline.id, "--force")
    assert result.code == 4
    assert "bad bearer *** for run" in one_error_line(result.err)
    assert "bad bearer *** for run" in audit_entries(isolated_user)[0]["error"]
    assert TOKEN not in _audit_text(isolated_user)


def test_a_target_message_that_echoes_the_token(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    pipeline = pipelines_in(connected, *IDLE)[0]
    connected.add_fault(
        "POST",
        ACTIONS_PATH,
        status=200,
        body=json.dumps(
            {
                "status": "failed",
                "results": [
                    {"target": pipeline.id, "status": "failed", "message": f"{TOKEN} refused"}
                ],
            }
        ),
    )
    result = cli("run", pipeline.id, "--force")
    assert result.code == 1
    assert result.out == f"failed    {pipeline.id}: *** refused\n"
    assert one_error_line(result.err).endswith(": *** refused")
    (entry,) = audit_entries(isolated_user)
    assert entry["outcomes"][0]["message"] == "*** refused"


def test_an_unknown_outcome_whose_message_echoes_the_token(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    pipeline = pipelines_in(connected, *IDLE)[0]
    connected.add_fault(
        "POST",
        ACTIONS_PATH,
        status=200,
        body=json.dumps(
            {
                "status": "partial",
                "results": [{"target": pipeline.id, "status": "unknown", "message": TOKEN}],
            }
        ),
    )
    result = cli("run", pipeline.id, "--force")
    assert result.code == 4
    assert result.out == f"unknown   {pipeline.id}: ***\n"
    assert one_error_line(result.err).startswith("opstui: error: outcome unknown: ")
    assert audit_entries(isolated_user)[0]["error"] == "outcome unknown: ***"


def test_a_document_whose_name_holds_the_token(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    """The name comes back in the status check: shown on stdout and kept in the audit line."""
    pipeline = pipelines_in(connected, *IDLE)[0]
    doc = {**pipeline_doc(connected, pipeline.id), "name": f"deploy {TOKEN} web"}
    connected.add_fault("POST", ACTIONS_PATH, status=200, body=json.dumps({"data": [doc]}))
    result = cli("run", pipeline.id)
    assert result.code == 0, result.err
    assert result.out.startswith(f"ok        deploy *** web ({pipeline.id})")
    assert len(actions_sent(connected)) == 1
    (entry,) = audit_entries(isolated_user)
    assert entry["targets"] == [{"id": pipeline.id, "name": "deploy *** web"}]


def test_a_refusal_whose_name_holds_the_token(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    running = pipelines_in(connected, PipelineStatus.RUNNING)[0]
    doc = {**pipeline_doc(connected, running.id), "name": TOKEN}
    connected.add_fault("POST", ACTIONS_PATH, status=200, body=json.dumps({"data": [doc]}))
    result = cli("run", running.id)
    assert result.code == 1
    assert one_error_line(result.err) == (
        f"opstui: error: nothing sent: *** ({running.id}): is already running"
    )
    assert actions_sent(connected) == []
    assert TOKEN not in _audit_text(isolated_user)


def test_a_reason_or_a_new_name_holding_the_token_is_not_audited(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    """Pasted by mistake: sent to the server (it was asked for), but never written down."""
    waiting = pipelines_in(connected, PipelineStatus.AWAITING_APPROVAL)[0]
    assert cli("reject", waiting.id, "--reason", f"oops {TOKEN}").code == 0
    idle = pipelines_in(connected, *IDLE)[0]
    assert cli("update", idle.id, "--name", f"x{TOKEN}").code == 0
    reject, update = audit_entries(isolated_user)
    assert reject["reason"] == "oops ***"
    assert update["details"] == {"name": "x***"}
