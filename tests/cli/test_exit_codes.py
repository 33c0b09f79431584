"""Exit codes 2, 3 and 4, and the one-line errors that go with them (0 and 1 are everywhere)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from opstui.api import PipelineStatus
from opstui.cli import EPILOG
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli, actions_sent, audit_entries, pipelines_in
from tests.conftest import READONLY_TOKEN, TOKEN


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("opstui: error: ")
    return lines[0]


# -- 2: usage and configuration -------------------------------------------------------------------


def test_no_server_is_a_configuration_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSTUI_TOKEN", TOKEN)
    result = cli("list")
    assert result.code == 2
    assert "OPSTUI_BASE_URL" in _one_error_line(result.err)


def test_no_token_is_a_configuration_error(
    served: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPSTUI_TOKEN")
    result = cli("list")
    assert result.code == 2
    assert "OPSTUI_TOKEN" in _one_error_line(result.err)
    assert served.requests == []


def test_there_is_no_token_flag(served: SimServer, cli: Cli) -> None:
    result = cli("list", "--token", TOKEN)
    assert result.code == 2
    assert served.requests == []


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "inf", "0.01"])
def test_a_bad_timeout_is_a_usage_error(served: SimServer, cli: Cli, value: str) -> None:
    result = cli("list", "--timeout", value)
    assert result.code == 2
    assert "--timeout" in result.err
    assert served.requests == []


def test_a_bad_timeout_in_the_environment(
    served: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSTUI_TIMEOUT", "soon")
    result = cli("list")
    assert result.code == 2
    assert "timeout" in _one_error_line(result.err)


def test_a_broken_config_file(served: SimServer, cli: Cli, isolated_user: Path) -> None:
    (isolated_user / "config.toml").write_text("default_profile = [\n")
    result = cli("list")
    assert result.code == 2
    assert "config file" in _one_error_line(result.err)


def test_an_unknown_profile(served: SimServer, cli: Cli) -> None:
    result = cli("--profile", "prod", "list")
    assert result.code == 2
    assert "no profile 'prod'" in _one_error_line(result.err)


def test_a_profile_names_the_server(
    served: SimServer, cli: Cli, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_user / "config.toml").write_text(
        f'[profiles.lab]\nbase_url = "{served.base_url}"\ntoken_env = "LAB_TOKEN"\n'
    )
    monkeypatch.delenv("OPSTUI_BASE_URL")
    monkeypatch.delenv("OPSTUI_TOKEN")
    monkeypatch.setenv("LAB_TOKEN", TOKEN)
    result = cli("list", "--profile", "lab", "--json")
    assert result.code == 0, result.err
    assert len(result.json()) == len(served.world.pipeline_ids())


@pytest.mark.parametrize(
    "argv",
    [
        ["frobnicate"],
        ["run"],
        ["list", "--sort", "sideways"],
        ["logs", "x", "--run", "0"],
        ["clone", "x"],
        ["task", "pause", "x"],
        ["--pipelines", "3", "list"],
        ["--demo", "list"],
        ["approvals", "--watch", "--interval", "0"],
    ],
)
def test_usage_errors_exit_2(served: SimServer, cli: Cli, argv: list[str]) -> None:
    result = cli(*argv)
    assert result.code == 2
    assert "opstui: error: " in result.err
    assert served.requests == []


@pytest.mark.parametrize("bad_id", ["a b", "\x1b[2J", " "])
def test_a_malformed_id_is_refused_before_sending(
    served: SimServer, cli: Cli, bad_id: str, isolated_user: Path
) -> None:
    result = cli("run", bad_id)
    assert result.code == 2
    assert "\x1b" not in result.err
    assert served.requests == []
    assert audit_entries(isolated_user) == []


def test_options_work_before_and_after_the_command(served: SimServer, cli: Cli) -> None:
    assert cli("--timeout", "5", "list", "--json").code == 0
    assert cli("list", "--timeout", "5", "--base-url", served.base_url, "--json").code == 0


# -- 3: authentication and permission -------------------------------------------------------------


def test_a_wrong_token_exits_3(
    served: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSTUI_TOKEN", "wrong-token-000000")
    result = cli("list")
    assert result.code == 3
    line = _one_error_line(result.err)
    assert "not authenticated" in line
    assert "HTTP 401" in line
    assert "wrong-token-000000" not in line


def test_a_read_only_token_cannot_act(
    served: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch, isolated_user: Path
) -> None:
    monkeypatch.setenv("OPSTUI_TOKEN", READONLY_TOKEN)
    assert cli("list", "--json").code == 0
    pipeline = pipelines_in(served, PipelineStatus.AWAITING_APPROVAL)[0]
    result = cli("approve", pipeline.id)
    assert result.code == 3
    assert "HTTP 403" in _one_error_line(result.err)
    assert len(actions_sent(served)) == 1
    (entry,) = audit_entries(isolated_user)
    assert "HTTP 403" in entry["error"]


# -- 4: the server ---------------------------------------------------------------------------------


def test_a_server_error_with_an_html_body_exits_4(served: SimServer, cli: Cli) -> None:
    served.add_fault(
        "GET",
        "/api/v2/pipelines",
        status=502,
        body="<html><body>Bad gateway</body></html>",
        headers={"content-type": "text/html"},
        times=10,
    )
    result = cli("list")
    assert result.code == 4
    assert "HTTP 502" in _one_error_line(result.err)
    assert "<html>" not in result.err


def test_an_invalid_answer_exits_4(served: SimServer, cli: Cli) -> None:
    served.add_fault("GET", "/api/v2/pipelines", status=200, body="<html>login</html>")
    result = cli("list")
    assert result.code == 4
    assert "invalid response" in _one_error_line(result.err)


def test_a_closed_port_exits_4(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OPSTUI_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OPSTUI_TOKEN", TOKEN)
    result = cli("tasks", "--timeout", "1")
    assert result.code == 4
    assert "server unreachable" in _one_error_line(result.err)


def test_a_slow_server_times_out_and_exits_4(served: SimServer, cli: Cli) -> None:
    served.add_fault("GET", "/api/v2/pipelines", delay=1.5, status=200, body="[]", times=3)
    started = time.monotonic()
    result = cli("list", "--timeout", "0.5")
    assert result.code == 4
    assert "did not answer within 0.5 s" in _one_error_line(result.err)
    assert time.monotonic() - started < 5


def test_an_action_that_times_out_is_not_sent_again(served: SimServer, cli: Cli) -> None:
    pipeline_id = served.world.pipeline_ids()[0]
    served.add_fault("POST", "/api/v2/actions", delay=1.5, status=200, body="{}", times=3)
    result = cli("reset", pipeline_id, "--force", "--timeout", "0.5")
    assert result.code == 4
    assert "may have been applied" in _one_error_line(result.err)
    assert len(actions_sent(served)) == 1


def test_the_epilog_documents_every_exit_code(cli: Cli) -> None:
    result = cli("--help")
    assert result.code == 0
    for code in ("0", "1", "2", "3", "4"):
        assert f"\n  {code}  " in EPILOG
    assert "exit codes:" in result.out
    assert "OPSTUI_TOKEN" in result.out


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.code == 0
    assert result.out == "opstui 0.1.0\n"
