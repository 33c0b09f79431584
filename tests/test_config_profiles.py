"""Profiles and token sources (issue 9): precedence, the token bound to its server, the rules for
token commands and files, plain http, read-only, TLS, keymap, and errors that name the line."""

from __future__ import annotations

import os
import stat
import sys
import tomllib
from pathlib import Path

import pytest

from opstui.config import ConfigError, Secret, Settings, TokenError, TokenSource, load_settings
from opstui.config.starter import describe, starter_text, token_line, write_starter

SECRET = "tok-3f9a1c77"


def write_config(home: Path, text: str) -> dict[str, str]:
    path = home / "config.toml"
    path.write_text(text)
    return {"OPSTUI_CONFIG": str(path)}


def script(home: Path, body: str) -> list[str]:
    """A token command: this Python running ``body``."""
    path = home / "token_cmd.py"
    path.write_text(body)
    return [sys.executable, str(path)]


def toml_list(argv: list[str]) -> str:
    return "[" + ", ".join(f"'{part}'" for part in argv) + "]"


# -- precedence ---------------------------------------------------------------------------------


def test_flag_beats_environment_beats_profile_beats_file_beats_default(
    isolated_user: Path,
) -> None:
    text = """
refresh = 9
timeout = 4
default_profile = "prod"
[profiles.prod]
base_url = "https://prod.example.com"
refresh = 7
"""
    env = write_config(isolated_user, text) | {"OPSTUI_TOKEN": SECRET}
    settings = load_settings(env=env)
    assert (settings.refresh, settings.timeout) == (7, 4)
    assert settings.origins["refresh"] == "profile prod"
    assert settings.origins["timeout"] == "config file"

    settings = load_settings(env=env | {"OPSTUI_REFRESH": "3"})
    assert settings.refresh == 3
    assert settings.origins["refresh"] == "OPSTUI_REFRESH"

    settings = load_settings(env=env | {"OPSTUI_REFRESH": "3"}, refresh=2)
    assert settings.refresh == 2
    assert settings.origins["refresh"] == "--refresh"

    settings = load_settings(env=write_config(isolated_user, ""))
    assert (settings.refresh, settings.origins["refresh"]) == (5, "default")


def test_flag_profile_beats_environment_profile(isolated_user: Path) -> None:
    text = """
[profiles.a]
base_url = "https://a.example.com"
[profiles.b]
base_url = "https://b.example.com"
"""
    env = write_config(isolated_user, text) | {"OPSTUI_PROFILE": "a"}
    assert load_settings(env=env).base_url == "https://a.example.com"
    chosen = load_settings(env=env, profile="b")
    assert chosen.base_url == "https://b.example.com"
    assert chosen.origins["profile"] == "--profile"


# -- errors that name the file, the key and the line ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[profiles.prod]\nbase_url = "https://x.example.com"\nbase_ulr = "y"\n', 3, "base_ulr"),
        ('colour = "red"\n', 1, "colour"),
        ("[notifications]\nbel = true\n", 2, "bel"),
        ('[profiles.prod]\nread_only = "yes"\n', 2, "read_only must be true or false"),
        ("[profiles.prod]\nrefresh = 0\n", 2, "refresh must be at least"),
        ('[profiles.prod]\ntoken_command = "pass show x"\n', 2, "list of strings"),
        ("[keymap]\napprove = 3\n", 2, "keymap.approve"),
        ('[notifications]\ndesktop = "loud"\n', 2, "notifications.desktop"),
    ],
)
def test_a_bad_key_names_the_file_the_key_and_the_line(
    isolated_user: Path, text: str, line: int, words: str
) -> None:
    env = write_config(isolated_user, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env, profile="prod" if "profiles.prod" in text else None)
    message = str(caught.value)
    assert f"config.toml:{line}:" in message
    assert words in message
    assert "\n" not in message


def test_toml_syntax_error_names_the_file_and_the_line(isolated_user: Path) -> None:
    env = write_config(isolated_user, 'default_profile = "a"\n[profiles.a\n')
    with pytest.raises(ConfigError, match=r"config\.toml.*line 2"):
        load_settings(env=env)


def test_an_unknown_profile_names_the_known_ones(isolated_user: Path) -> None:
    env = write_config(isolated_user, '[profiles.prod]\nbase_url = "https://p.example.com"\n')
    with pytest.raises(ConfigError, match=r"no profile 'stage'.*\(prod\)"):
        load_settings(env=env, profile="stage")


def test_two_token_sources_in_one_profile_are_refused(isolated_user: Path) -> None:
    text = '[profiles.p]\nbase_url = "https://p.example.com"\ntoken_env = "A"\ntoken_file = "/x"\n'
    with pytest.raises(ConfigError, match="choose one token source"):
        load_settings(env=write_config(isolated_user, text), profile="p")


# -- the token bound to its server ----------------------------------------------------------------


def test_a_profiles_command_token_never_goes_to_another_server(isolated_user: Path) -> None:
    marker = isolated_user / "ran"
    argv = script(isolated_user, f"open({str(marker)!r}, 'w'); print({SECRET!r})")
    text = f'[profiles.p]\nbase_url = "https://p.example.com"\ntoken_command = {toml_list(argv)}\n'
    env = write_config(isolated_user, text) | {"OPSTUI_BASE_URL": "https://evil.example.com"}
    with pytest.raises(ConfigError) as caught:
        load_settings(env=env, profile="p")
    assert "https://evil.example.com" in str(caught.value)
    assert "https://p.example.com" in str(caught.value)
    assert not marker.exists(), "refused before the token was even read"


# -- token sources -------------------------------------------------------------------------------


def test_token_command_runs_without_a_shell(isolated_user: Path) -> None:
    argv = script(isolated_user, f"print('  {SECRET}  ')\nprint('second line ignored')")
    text = f'[profiles.p]\nbase_url = "https://p.example.com"\ntoken_command = {toml_list(argv)}\n'
    settings = load_settings(env=write_config(isolated_user, text), profile="p")
    assert settings.require_server() == ("https://p.example.com", SECRET)
    assert "token_cmd.py" in settings.origins["token"]
    assert SECRET not in repr(settings)


def test_a_failing_token_command_never_shows_its_output(isolated_user: Path) -> None:
    argv = script(
        isolated_user, f"import sys; print({SECRET!r}); print('oops', file=sys.stderr); sys.exit(3)"
    )
    source = TokenSource("command", argv=tuple(argv))
    with pytest.raises(TokenError) as caught:
        source.read()
    message = str(caught.value)
    assert "exit status 3" in message
    assert "token_cmd.py" in message
    assert SECRET not in message and "oops" not in message


def test_a_token_command_that_hangs_times_out(isolated_user: Path) -> None:
    argv = script(isolated_user, "import time; time.sleep(30)")
    source = TokenSource("command", argv=tuple(argv), timeout=0.3)
    with pytest.raises(TokenError, match=r"did not finish within 0\.3 s"):
        source.read()


def test_a_token_command_that_does_not_exist(isolated_user: Path) -> None:
    source = TokenSource("command", argv=(str(isolated_user / "no-such-program"),))
    with pytest.raises(TokenError, match="cannot be run"):
        source.read()


def test_a_token_command_that_prints_nothing(isolated_user: Path) -> None:
    source = TokenSource("command", argv=tuple(script(isolated_user, "pass")))
    with pytest.raises(TokenError, match="printed no token"):
        source.read()


def test_token_file_private_is_read(isolated_user: Path) -> None:
    path = isolated_user / "token"
    path.write_text(SECRET + "\n")
    path.chmod(0o600)
    text = f'[profiles.p]\nbase_url = "https://p.example.com"\ntoken_file = "{path}"\n'
    settings = load_settings(env=write_config(isolated_user, text), profile="p")
    assert settings.require_server()[1] == SECRET


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_loose_token_file_is_refused_naming_its_mode(isolated_user: Path, mode: int) -> None:
    path = isolated_user / "token"
    path.write_text(SECRET)
    path.chmod(mode)
    text = f'[profiles.p]\nbase_url = "https://p.example.com"\ntoken_file = "{path}"\n'
    with pytest.raises(ConfigError) as caught:
        load_settings(env=write_config(isolated_user, text), profile="p")
    message = str(caught.value)
    assert f"mode {mode:04o}" in message
    assert "chmod 600" in message
    assert SECRET not in message


def test_a_missing_token_file_is_one_line(isolated_user: Path) -> None:
    text = (
        f'[profiles.p]\nbase_url = "https://p.example.com"\ntoken_file = "{isolated_user}/nope"\n'
    )
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env=write_config(isolated_user, text), profile="p")


def test_a_profile_without_a_source_uses_opstui_token(isolated_user: Path) -> None:
    text = '[profiles.p]\nbase_url = "https://p.example.com"\n'
    env = write_config(isolated_user, text) | {"OPSTUI_TOKEN": SECRET}
    assert load_settings(env=env, profile="p").require_server()[1] == SECRET


# -- plain http ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:9", "http://127.3.4.5"]
)
def test_plain_http_to_this_machine_is_allowed(isolated_user: Path, url: str) -> None:
    env = write_config(isolated_user, "") | {"OPSTUI_BASE_URL": url, "OPSTUI_TOKEN": SECRET}
    assert load_settings(env=env).base_url == url


def test_plain_http_to_another_machine_is_refused_before_anything(isolated_user: Path) -> None:
    env = write_config(isolated_user, "") | {
        "OPSTUI_BASE_URL": "http://opsera.example.com",
        "OPSTUI_TOKEN": SECRET,
    }
    with pytest.raises(ConfigError, match="plain http") as caught:
        load_settings(env=env)
    assert SECRET not in str(caught.value)


def test_plain_http_when_the_profile_allows_it(isolated_user: Path) -> None:
    text = '[profiles.lab]\nbase_url = "http://10.0.0.5:8080"\nallow_insecure_http = true\n'
    env = write_config(isolated_user, text) | {"OPSTUI_TOKEN": SECRET}
    assert load_settings(env=env, profile="lab").base_url == "http://10.0.0.5:8080"


# -- read-only, TLS, theme, keymap ------------------------------------------------------------------


def test_read_only_from_any_source_and_never_turned_off(isolated_user: Path) -> None:
    text = '[profiles.ro]\nbase_url = "https://p.example.com"\nread_only = true\n'
    env = write_config(isolated_user, text)
    settings = load_settings(env=env, profile="ro", read_only=False)
    assert settings.read_only is True
    assert settings.origins["read_only"] == "profile ro"
    plain = write_config(isolated_user, "")
    assert load_settings(env=plain).read_only is False
    assert load_settings(env=plain, read_only=True).read_only is True
    assert load_settings(env=plain | {"OPSTUI_READ_ONLY": "1"}).read_only is True
    with pytest.raises(ConfigError, match="OPSTUI_READ_ONLY"):
        load_settings(env=plain | {"OPSTUI_READ_ONLY": "maybe"})


def test_tls_verification_settings(isolated_user: Path) -> None:
    bundle = isolated_user / "ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    text = f"""
[profiles.private]
base_url = "https://p.example.com"
ca_bundle = "{bundle}"
[profiles.lax]
base_url = "https://p.example.com"
verify_tls = false
[profiles.broken]
base_url = "https://p.example.com"
ca_bundle = "{isolated_user}/missing.pem"
"""
    env = write_config(isolated_user, text)
    assert load_settings(env=env).verify is True
    assert load_settings(env=env, profile="private").verify == str(bundle)
    assert load_settings(env=env, profile="lax").verify is False
    with pytest.raises(ConfigError, match=r"config\.toml:10: ca_bundle .* is not a file"):
        load_settings(env=env, profile="broken")


def test_theme_and_keymap(isolated_user: Path) -> None:
    text = 'theme = "nord"\n[keymap]\napprove = "ctrl+a"\nreject = " ctrl+x "\n'
    settings = load_settings(env=write_config(isolated_user, text))
    assert settings.theme == "nord"
    assert dict(settings.keymap) == {"approve": "ctrl+a", "reject": "ctrl+x"}
    env = write_config(isolated_user, text) | {"OPSTUI_THEME": "gruvbox"}
    assert load_settings(env=env).theme == "gruvbox"


# -- config show and init ---------------------------------------------------------------------------


def test_config_show_names_every_origin_and_never_the_token(isolated_user: Path) -> None:
    marker = isolated_user / "ran"
    argv = script(isolated_user, f"open({str(marker)!r}, 'w'); print({SECRET!r})")
    text = f'[profiles.p]\nbase_url = "https://p.example.com"\ntoken_command = {toml_list(argv)}\n'
    settings = load_settings(env=write_config(isolated_user, text), profile="p", read_token=False)
    rows = {name: (value, origin) for name, value, origin in describe(settings)}
    assert rows["base_url"] == ("https://p.example.com", "profile p")
    assert rows["token"][0] == "not read"
    assert "token_cmd.py" in rows["token"][1]
    assert not marker.exists(), "show runs no token command"
    read = load_settings(env=write_config(isolated_user, text), profile="p")
    assert SECRET not in repr(describe(read))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("env", "OPSERA_PROD_TOKEN"),
        ("command", "pass show 'opsera/prod token'"),
        ("file", 'C:\\tokens\\"prod".txt'),
    ],
)
def test_the_starter_file_is_valid_private_and_never_overwritten(
    isolated_user: Path, kind: str, value: str
) -> None:
    path = isolated_user / "new" / "config.toml"
    text = starter_text("https://app.opsera.io", token_line(kind, value), profile="prod")
    write_starter(path, text)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = tomllib.loads(path.read_text())
    assert data["profiles"]["prod"]["base_url"] == "https://app.opsera.io"
    written = data["profiles"]["prod"]
    if kind == "command":
        assert written["token_command"] == ["pass", "show", "opsera/prod token"]
    else:
        assert written[f"token_{kind}"] == value
    settings = load_settings(env={"OPSTUI_CONFIG": str(path)}, read_token=False)
    assert settings.profile == "prod"
    with pytest.raises(ConfigError, match="exists already"):
        write_starter(path, text)


def test_secret_and_settings_never_show_the_token() -> None:
    settings = Settings(base_url="https://h.example.com", token=Secret(SECRET))
    assert SECRET not in repr(settings) + str(settings)
    assert os.environ.get("OPSTUI_TOKEN") is None
