"""Audit lines from the command line (success and failure), and ``opstui audit``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli, audit_entries, one_error_line, pipelines_in

FIELDS = {
    "time", "user", "source", "profile", "base_url", "server", "action", "type", "targets",
    "reason", "outcomes", "message", "error", "details",
}  # fmt: skip


def test_an_action_is_audited_with_every_field(
    connected: SimServer, cli: Cli, isolated_user: Path
) -> None:
    waiting = pipelines_in(connected, PipelineStatus.AWAITING_APPROVAL)[:2]
    result = cli("reject", *[p.id for p in waiting], "--reason", "not today")
    assert result.code == 0, result.err
    [entry] = audit_entries(isolated_user)
    assert set(entry) == FIELDS
    assert entry["base_url"] == connected.base_url
    assert entry["profile"] is None
    assert (entry["action"], entry["type"], entry["source"]) == ("reject", "pipeline", "cli")
    assert [t["id"] for t in entry["targets"]] == [p.id for p in waiting]
    assert [t["name"] for t in entry["targets"]] == [p.name for p in waiting]
    assert [(o["target"], o["ok"]) for o in entry["outcomes"]] == [(p.id, True) for p in waiting]
    assert entry["reason"] == "not today"
    assert entry["message"]
    assert entry["time"].endswith("+00:00")


def test_a_failure_is_audited_with_the_profile(
    connected: SimServer, cli: Cli, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSTUI_BASE_URL")
    (isolated_user / "config.toml").write_text(
        f'[profiles.staging]\nbase_url = "{connected.base_url}"\n'
    )
    idle = pipelines_in(connected, PipelineStatus.IDLE)[0]
    assert cli("--profile", "staging", "run", idle.id, "--force").code == 0
    assert cli("--profile", "staging", "approve", idle.id, "--force").code == 1
    ran, refused = audit_entries(isolated_user)
    assert ran["profile"] == refused["profile"] == "staging"
    assert refused["outcomes"][0]["ok"] is False and refused["outcomes"][0]["message"]

    table = cli("audit")
    assert table.code == 0
    rows = table.out.splitlines()
    assert rows[0].split()[:4] == ["TIME", "(UTC)", "PROFILE", "ACTION"]
    assert [row.split()[3] for row in rows[1:]] == ["run", "approve"]  # newest last
    assert all(row.split()[2] == "staging" for row in rows[1:])
    lines = [json.loads(line) for line in cli("audit", "--json").out.splitlines()]
    assert [line["action"] for line in lines] == ["run", "approve"]
    assert cli("audit", "--profile", "prod", "--json").out == ""
    assert len(cli("audit", "--profile", "staging", "--json").out.splitlines()) == 2


def _line(when: datetime, action: str, **extra: object) -> str:
    return json.dumps({"time": when.isoformat(timespec="seconds"), "action": action, **extra})


def test_since_keeps_the_recent_ones_in_time_order(cli: Cli, isolated_user: Path) -> None:
    now = datetime.now(UTC)
    (isolated_user / "audit.log").write_text(
        "\n".join(
            [
                _line(now - timedelta(days=3), "old"),
                _line(now - timedelta(minutes=5), "later", server="prod (host)"),
                _line(now - timedelta(minutes=30), "earlier"),  # another process, written late
                "torn {",
            ]
        )
        + "\n"
    )
    recent = [
        json.loads(x)["action"]
        for x in cli("audit", "--since", "90m", "--json").out.split("\n")
        if x
    ]
    assert recent == ["earlier", "later"]
    assert len(cli("audit", "--since", "2d", "--json").out.splitlines()) == 2
    assert len(cli("audit", "--since", "1w", "--json").out.splitlines()) == 3
    # an entry from before the profile field: its profile is read from ``server``
    assert json.loads(cli("audit", "--profile", "prod", "--json").out)["action"] == "later"


@pytest.mark.parametrize("age", ["yesterday", "24", "0h", "-2d", "5y"])
def test_a_bad_since_is_exit_2(cli: Cli, age: str) -> None:
    result = cli("audit", f"--since={age}")
    assert result.code == 2
    assert "is not an age" in one_error_line(result.err)


def test_no_log_yet_says_so(cli: Cli, isolated_user: Path) -> None:
    result = cli("audit")
    assert result.code == 0
    assert result.out == ""
    assert "no actions recorded" in result.err


def test_server_text_in_the_log_cannot_drive_the_terminal(cli: Cli, isolated_user: Path) -> None:
    (isolated_user / "audit.log").write_text(
        _line(datetime.now(UTC), "run", targets=[{"id": "p", "name": "\x1b[31mred\x1b]0;t\x07"}])
        + "\n"
    )
    result = cli("audit")
    assert "\x1b" not in result.out and "\x07" not in result.out
    assert "\x1b" not in cli("audit", "--json").out


def test_last_reads_only_the_log_s_last_entries(cli: Cli, isolated_user: Path) -> None:
    now = datetime.now(UTC)
    lines = [_line(now - timedelta(minutes=60 - n), f"act{n}") for n in range(50)]
    (isolated_user / "audit.log").write_text("\n".join(lines) + "\n")
    result = cli("audit", "--last", "3", "--json")
    assert result.code == 0, result.err
    assert [json.loads(x)["action"] for x in result.out.splitlines()] == ["act47", "act48", "act49"]
    assert len(cli("audit", "--json").out.splitlines()) == 50
    table = cli("audit", "--last", "2").out
    assert "act49" in table and "act48" in table and "act47" not in table
    assert cli("audit", "--last", "0").code == 2
