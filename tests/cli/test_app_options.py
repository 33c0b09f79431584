"""The app's own options reach its settings; with a subcommand they are a usage error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opstui.cli import app as cli_module
from opstui.cli.app import Profiles
from opstui.config import ConfigError, Settings
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli
from tests.conftest import TOKEN


class Opened(list[tuple[Settings, str]]):
    """What the app would have been opened with: (settings, start), and each picker's means."""

    profiles: list[Profiles | None]


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Opened:
    """Stands in for opening the Textual app: records what it would have been given."""
    calls = Opened()
    calls.profiles = []

    def fake_open(settings: Settings, start: Any, profiles: Profiles | None = None) -> int:
        calls.append((settings, start))
        calls.profiles.append(profiles)
        return 0

    monkeypatch.setattr(cli_module, "open_app", fake_open)
    return calls


def test_refresh_bell_and_desktop_reach_the_app(
    cli: Cli, served: SimServer, opened: list[tuple[Settings, str]]
) -> None:
    result = cli("--refresh", "2.5", "--no-bell", "--desktop-notify", "osc9", "--approvals")
    assert result.code == 0
    [(settings, start)] = opened
    assert start == "approvals"
    assert settings.refresh == 2.5
    assert settings.bell is False
    assert settings.desktop == "osc9"
    assert settings.base_url == served.base_url


def test_defaults_when_not_given(
    cli: Cli, served: SimServer, opened: list[tuple[Settings, str]]
) -> None:
    assert cli().code == 0
    [(settings, start)] = opened
    assert (settings.refresh, settings.bell, settings.desktop, start) == (
        5,
        True,
        "off",
        "pipelines",
    )


def test_demo_runs_the_app_on_a_loopback_simulator(
    cli: Cli, opened: list[tuple[Settings, str]]
) -> None:
    assert cli("--demo", "--pipelines", "3", "--refresh", "1").code == 0
    [(settings, _)] = opened
    assert settings.base_url is not None
    assert settings.base_url.startswith("http://127.0.0.1:")
    assert settings.refresh == 1
    assert settings.server_label == "demo"


@pytest.mark.parametrize(
    "flag", [["--refresh", "3"], ["--no-bell"], ["--desktop-notify", "osc777"]]
)
def test_app_options_with_a_subcommand_are_a_usage_error(
    cli: Cli, served: SimServer, flag: list[str]
) -> None:
    result = cli(*flag, "list")
    assert result.code == 2
    assert "go with the app" in result.err
    assert served.requests == []


def test_a_refresh_below_one_second_is_refused(cli: Cli, served: SimServer) -> None:
    result = cli("--refresh", "0.2")
    assert result.code == 2
    assert "at least 1 seconds" in result.err
    assert served.requests == []


def test_read_only_and_trace_reach_the_app_and_the_demo(
    cli: Cli, served: SimServer, opened: list[tuple[Settings, str]], tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    assert cli("--read-only", "--trace", str(trace)).code == 0
    assert cli("--demo", "--read-only", "--trace", str(trace)).code == 0
    (app, _), (demo, _) = opened
    assert (app.read_only, app.trace, app.base_url) == (True, trace, served.base_url)
    assert (demo.read_only, demo.trace, demo.profile) == (True, trace, "demo")


def test_the_picker_loads_profiles_with_the_same_flags(
    cli: Cli,
    sim: SimServer,
    opened: Opened,
    isolated_user: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (isolated_user / "config.toml").write_text(
        f"""
default_profile = "one"
[profiles.one]
base_url = "{sim.base_url}"
[profiles.two]
base_url = "{sim.base_url}/"
token_env = "TWO_TOKEN"
"""
    )
    monkeypatch.setenv("OPSTUI_TOKEN", TOKEN)
    monkeypatch.setenv("TWO_TOKEN", TOKEN)
    assert cli("--refresh", "7", "--read-only", "--no-bell").code == 0
    [profiles] = opened.profiles
    assert profiles is not None and profiles.fixed is None
    assert profiles.listed is not None and profiles.load is not None
    assert [p.name for p in profiles.listed()] == ["one", "two"]
    two = profiles.load("two")
    assert (two.profile, two.refresh, two.read_only, two.bell) == ("two", 7, True, False)
    monkeypatch.delenv("TWO_TOKEN")
    with pytest.raises(ConfigError, match="TWO_TOKEN"):
        profiles.load("two")  # no token: refused, naming where it should come from


def test_a_server_from_the_environment_pins_the_picker(
    cli: Cli, served: SimServer, opened: Opened
) -> None:
    assert cli().code == 0
    [profiles] = opened.profiles
    assert profiles is not None and profiles.listed is None
    assert profiles.fixed is not None and "OPSTUI_BASE_URL" in profiles.fixed
