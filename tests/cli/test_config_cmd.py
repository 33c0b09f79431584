"""``opstui config path | init | show``."""

from __future__ import annotations

import io
import json
import stat
import sys
from pathlib import Path

import pytest

from opstui.config import load_settings
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli, one_error_line


class _Terminal(io.StringIO):
    """Typed answers, on what says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def fresh(isolated_user: Path) -> Path:
    """Where the config file goes, with no file there yet."""
    path = isolated_user / "config.toml"
    path.unlink()
    return path


def test_path_prints_where_the_file_is(cli: Cli, isolated_user: Path) -> None:
    result = cli("config", "path")
    assert (result.code, result.out) == (0, f"{isolated_user / 'config.toml'}\n")


def test_init_from_flags_writes_a_private_file_that_loads(cli: Cli, fresh: Path) -> None:
    result = cli(
        "config", "init", "--base-url", "https://opsera.example.com/", "--token-env", "OPSERA_PROD"
    )
    assert result.code == 0, result.err
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    settings = load_settings(read_token=False)
    assert settings.base_url == "https://opsera.example.com"
    assert settings.profile == "default"
    assert settings.token_source is not None
    assert (settings.token_source.kind, settings.token_source.variable) == ("env", "OPSERA_PROD")
    assert "# read_only = true" in fresh.read_text()


def test_init_with_a_token_command_and_a_profile_name(cli: Cli, fresh: Path) -> None:
    result = cli(
        "config",
        "init",
        "--profile",
        "prod",
        "--base-url",
        "https://opsera.example.com",
        "--token-command",
        "pass show opsera/prod",
    )
    assert result.code == 0, result.err
    settings = load_settings(read_token=False)
    assert settings.profile == "prod"
    assert settings.token_source is not None
    assert settings.token_source.argv == ("pass", "show", "opsera/prod")


def test_init_refuses_to_overwrite(cli: Cli, isolated_user: Path) -> None:
    path = isolated_user / "config.toml"
    path.write_text("# mine\n")
    result = cli("config", "init", "--base-url", "https://x.example.com", "--token-env", "T")
    assert result.code == 2
    assert "exists already" in one_error_line(result.err)
    assert path.read_text() == "# mine\n"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--base-url", "http://opsera.example.com", "--token-env", "T"], "plain http"),
        (["--base-url", "ftp://x", "--token-env", "T"], "http(s) URL"),
        (["--base-url", "https://x.example.com", "--token-env", "NOT A NAME"], "variable"),
        (["--base-url", "https://x.example.com"], "when not run on a terminal"),
        (["--base-url", "https://x.example.com", "--token-command", "a 'b c"], "cannot be read"),
    ],
)
def test_init_refuses_bad_input_and_writes_nothing(
    cli: Cli, fresh: Path, argv: list[str], said: str
) -> None:
    result = cli("config", "init", *argv)
    assert result.code == 2
    assert said in one_error_line(result.err)
    assert not fresh.exists()


def test_init_asks_on_a_terminal(
    cli: Cli, fresh: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("https://tenant.example.com\n3\n~/.opsera\n"))
    result = cli("config", "init")
    assert result.code == 0, result.err
    assert "How does opstui get the token?" in result.err
    settings = load_settings(read_token=False)
    assert settings.base_url == "https://tenant.example.com"
    assert settings.token_source is not None
    assert settings.token_source.kind == "file"


def test_init_on_a_terminal_ended_early_writes_nothing(
    cli: Cli, fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("https://tenant.example.com\n"))
    result = cli("config", "init")
    assert result.code == 2
    assert not fresh.exists()


def test_show_says_where_each_setting_came_from_and_runs_no_token_command(
    cli: Cli, isolated_user: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "ran"
    (isolated_user / "config.toml").write_text(
        'default_profile = "prod"\n[profiles.prod]\nbase_url = "https://opsera.example.com"\n'
        f'token_command = ["touch", "{marker}"]\nrefresh = 7\n'
    )
    monkeypatch.setenv("OPSTUI_TIMEOUT", "3")
    result = cli("config", "show", "--json", "--read-only")
    assert result.code == 0, result.err
    shown = result.json()
    assert shown["base_url"] == {"value": "https://opsera.example.com", "from": "profile prod"}
    assert shown["refresh"]["from"] == "profile prod"
    assert shown["timeout"] == {"value": "3 s", "from": "OPSTUI_TIMEOUT"}
    assert shown["read_only"] == {"value": "true", "from": "--read-only"}
    assert shown["token"]["value"] == "not read"
    assert "touch" in shown["token"]["from"]
    assert not marker.exists()
    table = cli("config", "show")
    assert table.code == 0
    assert table.out.splitlines()[0].split() == ["SETTING", "VALUE", "FROM"]


def test_show_never_prints_the_token(served: SimServer, cli: Cli) -> None:
    result = cli("config", "show", "--json")  # the cli fixture fails on the token anywhere
    assert result.code == 0
    assert json.loads(result.out)["base_url"]["from"] == "OPSTUI_BASE_URL"
