"""``opstui config init`` and ``opstui config show``: a commented starter file, and the
effective settings with where each came from (never the token itself)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

from opstui.config.settings import ConfigError, Settings

__all__ = ["describe", "starter_text", "write_starter"]


def starter_text(base_url: str, token_line: str, profile: str = "default") -> str:
    """A commented config file for one profile; ``token_line`` is its one token source."""
    return f"""\
# opstui settings. Precedence: command-line flag > OPSTUI_* environment > profile > this file.
# Every key: see `opstui config show` and the README. The token is never written here.

default_profile = {json.dumps(profile)}

[profiles.{profile}]
base_url = {json.dumps(base_url)}
{token_line}
# read_only = true                 # never send anything that changes something
# refresh = 5                      # seconds between live refreshes
# timeout = 10                     # seconds before a request gives up
# ca_bundle = "/etc/ssl/private-ca.pem"
# theme = "textual-dark"

# [profiles.staging]
# base_url = "https://staging.opsera.example.com"
# token_env = "OPSERA_STAGING_TOKEN"

[notifications]
bell = true
desktop = "off"                    # off | osc9 | osc777 (crosses SSH and tmux)

# [keymap]                         # binding id = "keys"; `?` in the app shows the ids
# approve = "ctrl+a"
"""


TOKEN_LINES = {
    "env": "token_env = {value}           # the variable that holds the token",
    "command": "token_command = {value}       # run without a shell; prints the token",
    "file": "token_file = {value}          # chmod 600: refused if others can read it",
}
"""How each kind of token source is written in a starter file."""


def token_line(kind: str, value: str) -> str:
    """The starter file's line for one token source (``env``, ``command`` or ``file``).

    Values are written as TOML strings (JSON's escaping is TOML's for these); a command is split
    as a shell would split it, then kept as a list: it is run without a shell.
    """
    if kind == "command":
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ConfigError(f"token command {value!r}: {exc}") from None
        if not argv:
            raise ConfigError("the token command is empty")
        return TOKEN_LINES["command"].format(value=json.dumps(argv))
    return TOKEN_LINES[kind].format(value=json.dumps(value))


def write_starter(path: Path, text: str) -> None:
    """Write a new config file, private (0600); refuses to overwrite one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists already: edit it, or remove it first") from None
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """``(setting, value, where it came from)`` rows for ``config show``; never the token."""
    origin = settings.origins
    rows = [
        ("config file", str(settings.config_file or "none"), ""),
        ("profile", settings.profile or "none", origin.get("profile", "")),
        ("base_url", settings.base_url or "not set", origin.get("base_url", "")),
        ("token", "set" if settings.token else "not read", origin.get("token", "")),
        ("read_only", str(settings.read_only).lower(), origin.get("read_only", "")),
        ("refresh", f"{settings.refresh:g} s", origin.get("refresh", "")),
        ("timeout", f"{settings.timeout:g} s", origin.get("timeout", "")),
        ("verify_tls", str(settings.verify_tls).lower(), origin.get("verify_tls", "")),
        ("ca_bundle", str(settings.ca_bundle or "none"), origin.get("ca_bundle", "")),
        ("theme", settings.theme or "default", origin.get("theme", "")),
        ("bell", str(settings.bell).lower(), origin.get("bell", "")),
        ("desktop", settings.desktop, origin.get("desktop", "")),
        ("audit_log", str(settings.audit_log), origin.get("audit_log", "")),
    ]
    rows.extend((f"keymap.{name}", keys, "config file") for name, keys in settings.keymap.items())
    return rows
