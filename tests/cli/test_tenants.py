"""Read-only mode, ``--trace`` and the one-line hint with no server, on the command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli, audit_entries, one_error_line, pipelines_in
from tests.conftest import TOKEN

MUTATING = [
    ("run", "ID"),
    ("stop", "ID"),
    ("reset", "ID"),
    ("approve", "ID"),
    ("reject", "ID", "--reason", "no"),
    ("delete", "ID", "--yes"),
    ("update", "ID", "--name", "x"),
    ("clone", "ID", "--name", "copy"),
    ("task", "run", "ID"),
    ("task", "stop", "ID"),
]


def _argv(template: tuple[str, ...], pipeline_id: str) -> list[str]:
    return [pipeline_id if part == "ID" else part for part in template]


@pytest.mark.parametrize("template", MUTATING, ids=lambda t: " ".join(t[:2]))
def test_read_only_flag_refuses_every_mutating_command_and_sends_nothing(
    served: SimServer, cli: Cli, template: tuple[str, ...], isolated_user: Path
) -> None:
    pipeline_id = served.world.pipeline_ids()[0]
    for argv in (
        ["--read-only", *_argv(template, pipeline_id)],
        [*_argv(template, pipeline_id), "--read-only"],
    ):
        result = cli(*argv)
        assert result.code == 2, result.err
        line = one_error_line(result.err)
        assert line.startswith("opstui: error: read-only (--read-only): ")
        assert "nothing was sent" in line
        assert served.requests == []
    assert audit_entries(isolated_user) == []  # nothing was attempted


def test_a_read_only_profile_refuses_actions_and_still_reads(
    served: SimServer, cli: Cli, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSTUI_BASE_URL")
    (isolated_user / "config.toml").write_text(
        f'default_profile = "prod"\n[profiles.prod]\nbase_url = "{served.base_url}"\n'
        "read_only = true\n"
    )
    waiting = pipelines_in(served, PipelineStatus.AWAITING_APPROVAL)[0]
    result = cli("approve", waiting.id)
    assert result.code == 2
    assert "read-only (profile prod)" in one_error_line(result.err)
    assert served.requests == []
    listed = cli("list", "--json")
    assert listed.code == 0
    assert len(listed.json()) == 40


def test_opstui_read_only_in_the_environment_refuses_too(
    served: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSTUI_READ_ONLY", "1")
    result = cli("run", served.world.pipeline_ids()[0])
    assert result.code == 2
    assert "read-only (OPSTUI_READ_ONLY)" in one_error_line(result.err)
    assert served.requests == []


def test_trace_records_every_exchange_without_the_token(
    connected: SimServer, cli: Cli, tmp_path: Path
) -> None:
    trace = tmp_path / "bug" / "trace.jsonl"
    waiting = pipelines_in(connected, PipelineStatus.AWAITING_APPROVAL)[0]
    assert cli("--trace", str(trace), "list").code == 0
    assert cli("approve", waiting.id, "--trace", str(trace)).code == 0
    text = trace.read_text()
    assert TOKEN not in text
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == len(connected.requests)
    assert (lines[0]["method"], lines[0]["status"]) == ("GET", 200)
    actions = [
        json.loads(line["request_body"])["action"] for line in lines if line["method"] == "POST"
    ]
    assert actions == ["status", "approve"]
    assert all(line["request_headers"]["authorization"] == "***" for line in lines)


def test_an_unwritable_trace_is_exit_2_and_sends_nothing(
    connected: SimServer, cli: Cli, tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    result = cli("list", "--trace", str(blocked / "trace.jsonl"))
    assert result.code == 2
    assert "cannot write the trace" in one_error_line(result.err)
    assert connected.requests == []


@pytest.mark.parametrize("argv", [["list"], ["run", "5a61e522723cafb2c01504b9"], ["approvals"]])
def test_no_server_anywhere_is_one_line_naming_config_init_and_the_demo(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, isolated_user: Path, argv: list[str]
) -> None:
    monkeypatch.delenv("OPSTUI_CONFIG")  # no file at all: the platform's path, which is empty
    result = cli(*argv)
    assert result.code == 2
    line = one_error_line(result.err)
    assert "opstui config init" in line
    assert "opstui --demo" in line
    assert not (isolated_user / ".config" / "opstui" / "config.toml").exists()
