"""Settings (file < environment < flags), profiles, the secret token, and the audit log."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from opstui.audit import AuditEntry, AuditError, AuditLog, AuditOutcome, AuditTarget
from opstui.config import ConfigError, Secret, Settings, load_settings

CONFIG = """
default_profile = "prod"

[profiles.prod]
base_url = "https://opsera.example.com/"
token_env = "PROD_TOKEN"
refresh = 7

[profiles.staging]
base_url = "https://staging.example.com"

[notifications]
bell = false
desktop = "osc777"
"""


def write_config(home: Path, text: str) -> dict[str, str]:
    path = home / "config.toml"
    path.write_text(text)
    return {"OPSTUI_CONFIG": str(path)}


def test_defaults_with_no_config_at_all(tmp_path: Path) -> None:
    settings = load_settings(env={"OPSTUI_CONFIG": "", "HOME": str(tmp_path)})
    assert settings.base_url is None
    assert settings.token is None
    assert settings.timeout == 10
    assert settings.refresh == 5
    assert settings.bell is True
    assert settings.desktop == "off"
    with pytest.raises(ConfigError, match="no server"):
        settings.require_server()


def test_profile_from_the_file_with_its_own_token_variable(isolated_user: Path) -> None:
    env = write_config(isolated_user, CONFIG) | {"PROD_TOKEN": " t0ken "}
    settings = load_settings(env=env)
    assert settings.profile == "prod"
    assert settings.base_url == "https://opsera.example.com"
    assert settings.require_server() == ("https://opsera.example.com", "t0ken")
    assert settings.refresh == 7
    assert settings.bell is False
    assert settings.desktop == "osc777"
    assert settings.server_label == "prod"


def test_a_profiles_token_never_falls_back_to_another_servers(isolated_user: Path) -> None:
    env = write_config(isolated_user, CONFIG) | {"OPSTUI_TOKEN": "for-some-other-server"}
    settings = load_settings(env=env)
    assert settings.token is None
    with pytest.raises(ConfigError, match="set PROD_TOKEN"):
        settings.require_server()


def test_environment_beats_file_and_flags_beat_environment(isolated_user: Path) -> None:
    env = write_config(isolated_user, "[notifications]\nbell = true\n") | {
        "OPSTUI_BASE_URL": "http://127.0.0.1:9/",
        "OPSTUI_TOKEN": "tok",
        "OPSTUI_REFRESH": "3",
    }
    from_env = load_settings(env=env)
    assert from_env.base_url == "http://127.0.0.1:9"
    assert from_env.refresh == 3
    flagged = load_settings(env=env, base_url="https://flag.example.com", refresh=2, timeout=1.5)
    assert flagged.base_url == "https://flag.example.com"
    assert (flagged.refresh, flagged.timeout) == (2, 1.5)


def test_profile_chosen_by_environment(isolated_user: Path) -> None:
    env = write_config(isolated_user, CONFIG) | {"OPSTUI_PROFILE": "staging", "OPSTUI_TOKEN": "t"}
    settings = load_settings(env=env)
    assert settings.profile == "staging"
    assert settings.base_url == "https://staging.example.com"
    assert settings.require_server()[1] == "t"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("this is = = not toml", "config file"),
        ('[notifications]\ndesktop = "loud"', "notifications.desktop"),
        ("[notifications]\nbell = 3", "notifications.bell"),
        ('default_profile = "nope"', "no profile 'nope'"),
        ("profiles = 5", r"\[profiles\]"),
        ('[profiles.x]\nbase_url = "ftp://x"', None),
    ],
)
def test_bad_config_is_one_clear_error(isolated_user: Path, text: str, message: str | None) -> None:
    env = write_config(isolated_user, text)
    if message is None:
        load_settings(env=env)  # a profile that is not used is not checked
        with pytest.raises(ConfigError, match="http"):
            load_settings(env=env, profile="x")
        return
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_bad_refresh_is_refused(isolated_user: Path, value: str) -> None:
    env = write_config(isolated_user, "") | {"OPSTUI_REFRESH": value}
    with pytest.raises(ConfigError, match="refresh"):
        load_settings(env=env)


def test_a_named_config_file_must_exist(isolated_user: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={"OPSTUI_CONFIG": str(isolated_user / "missing.toml")})


def test_the_token_never_shows() -> None:
    secret = Secret("s3cr3t")
    settings = Settings(base_url="https://user:pw@host.example.com:8443/x", token=secret)
    for text in (str(secret), repr(secret), repr(settings), str(settings), f"{settings}"):
        assert "s3cr3t" not in text
    assert secret.reveal() == "s3cr3t"
    assert settings.server_label == "host.example.com:8443", "no credentials on screen"


def test_audit_log_appends_private_json_lines(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "state" / "audit.log")
    entry = AuditEntry(
        action="reject",
        type="pipeline",
        targets=[AuditTarget("p1", "deploy")],
        server="prod",
        source="cli",
        outcomes=[AuditOutcome("p1", True, "success", "")],
        reason="freeze",
    )
    log.record(entry)
    log.record(
        AuditEntry(
            action="run",
            type="pipeline",
            targets=[],
            server="prod",
            source="tui",
            error="timed out",
        )
    )
    lines = (tmp_path / "state" / "audit.log").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first["reason"] == "freeze"
    assert first["targets"] == [{"id": "p1", "name": "deploy"}]
    assert first["outcomes"][0]["ok"] is True
    assert first["user"]
    assert first["time"].endswith("+00:00")
    assert [e["action"] for e in log.entries()] == ["reject", "run"]
    mode = stat.S_IMODE((tmp_path / "state" / "audit.log").stat().st_mode)
    assert mode == 0o600


def test_audit_log_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = AuditLog(blocker / "audit.log")  # a path below a regular file
    with pytest.raises(AuditError, match="cannot write the audit log"):
        log.record(AuditEntry(action="run", type="pipeline", targets=[], server="s", source="cli"))


@pytest.mark.parametrize("source", ["env", "flag"])
def test_a_profiles_token_never_goes_to_another_server(isolated_user: Path, source: str) -> None:
    env = write_config(isolated_user, CONFIG) | {"PROD_TOKEN": "prod-secret"}
    elsewhere = "http://127.0.0.1:18999"
    if source == "env":
        env["OPSTUI_BASE_URL"] = elsewhere
        call = lambda: load_settings(env=env)  # noqa: E731
    else:
        call = lambda: load_settings(env=env, base_url=elsewhere)  # noqa: E731
    with pytest.raises(ConfigError, match="not profile 'prod'") as caught:
        call()
    assert "prod-secret" not in str(caught.value)
    same = load_settings(env=env | {"OPSTUI_BASE_URL": "https://opsera.example.com"})
    assert same.base_url == "https://opsera.example.com"
