"""Reading the settings: command-line flag > ``OPSTUI_*`` environment > profile > file > defaults.

One exception to that order: **a token is bound to its server**. A profile's token goes only to
that profile's ``base_url``; a ``--base-url`` or ``OPSTUI_BASE_URL`` pointing elsewhere is refused
with a message naming both. And the token is never sent over plain ``http://`` to a host other
than this machine unless the profile says ``allow_insecure_http = true``.

A bad file (TOML syntax, an unknown key, a wrong type, an unknown profile) is one
:class:`ConfigError` naming the file, the key and the line where known.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from opstui.config.settings import (
    DEFAULT_REFRESH,
    DEFAULT_TIMEOUT,
    MIN_REFRESH,
    ConfigError,
    DesktopNotify,
    Settings,
    audit_log_path,
    config_path,
    is_loopback_url,
)
from opstui.config.tokens import DEFAULT_TOKEN_ENV, TokenError, TokenSource

__all__ = ["KEYS", "PROFILE_KEYS", "load_settings"]

PROFILE_KEYS: dict[str, str] = {
    "base_url": "the Opsera server, e.g. https://app.opsera.io",
    "token_env": "the environment variable holding this profile's token",
    "token_command": 'a command printing the token, as a list: ["pass", "show", "opsera/prod"]',
    "token_file": "a file holding the token (must not be readable by others: chmod 600)",
    "read_only": "true: never send anything that changes something",
    "refresh": "seconds between live refreshes",
    "timeout": "seconds before a request gives up",
    "verify_tls": "false: do not check the server's certificate (shown as a warning)",
    "ca_bundle": "a CA bundle file for a private certificate authority",
    "theme": "a Textual theme's name",
    "allow_insecure_http": "true: allow a plain http:// server that is not this machine",
}
"""Every key a ``[profiles.NAME]`` table may hold, with what it means."""

KEYS: dict[str, str] = {
    "default_profile": "the profile used when neither --profile nor OPSTUI_PROFILE says",
    "refresh": "seconds between live refreshes (a profile's own wins)",
    "timeout": "seconds before a request gives up (a profile's own wins)",
    "theme": "a Textual theme's name (a profile's own wins)",
    "profiles": "[profiles.NAME] tables",
    "notifications": "[notifications]: bell = true|false, desktop = off|osc9|osc777",
    "keymap": '[keymap]: binding id = "keys", e.g. approve = "ctrl+a"',
}
"""Every top-level key of the config file."""

_NOTIFICATION_KEYS = ("bell", "desktop")
_DESKTOP_CHOICES: tuple[DesktopNotify, ...] = ("off", "osc9", "osc777")
_TOKEN_KEYS = ("token_env", "token_command", "token_file")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


# -- the file ---------------------------------------------------------------------------------


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _dotted(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(part.strip("\"'") for part in parts)


@dataclass(frozen=True)
class _File:
    """A parsed config file and where each key stands in it."""

    path: Path
    data: dict[str, Any]
    lines: dict[tuple[str, ...], int]

    def where(self, *key: str) -> str:
        """``file:line`` for a key (or the nearest table that holds it), else the file."""
        for end in range(len(key), 0, -1):
            line = self.lines.get(key[:end])
            if line is not None:
                return f"{self.path}:{line}"
        return str(self.path)

    def error(self, message: str, *key: str) -> ConfigError:
        return ConfigError(f"{self.where(*key)}: {message}")


def _locate(text: str) -> dict[tuple[str, ...], int]:
    """The line of every table header and every assignment, by dotted key."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _dotted(header.group(1))
            found.setdefault(table, number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            found.setdefault(table + _dotted(assign.group(1)), number)
    return found


def _read_file(path: Path, required: bool) -> _File | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    return _File(path, data, _locate(text))


# -- checking values --------------------------------------------------------------------------


def _table(file: _File, value: Any, *key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise file.error(f"[{'.'.join(key)}] must be a table", *key)
    return cast(dict[str, Any], value)


def _known(
    file: _File, table: Mapping[str, Any], known: Mapping[str, str] | tuple[str, ...], *prefix: str
) -> None:
    for name in table:
        if name not in known:
            where = ".".join((*prefix, name))
            choices = ", ".join(sorted(known))
            raise file.error(f"unknown key {where!r} (known here: {choices})", *prefix, name)


def _bool(file: _File | None, value: Any, *key: str) -> bool:
    if isinstance(value, bool):
        return value
    message = f"{'.'.join(key)} must be true or false"
    raise file.error(message, *key) if file else ConfigError(message)


def _env_bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {raw!r}")


def _number(value: Any, name: str, minimum: float, where: str = "") -> float:
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{prefix}{name} must be a number of seconds")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{prefix}{name} must be a number of seconds, not {value!r}") from None
    if not number >= minimum or number == float("inf"):
        raise ConfigError(f"{prefix}{name} must be at least {minimum:g} seconds")
    return number


def _url(value: Any, where: str = "") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}the server must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


def _token_source(
    file: _File | None, section: Mapping[str, Any], profile: str | None
) -> TokenSource:
    """The profile's one token source (``OPSTUI_TOKEN`` when it names none)."""
    given = [key for key in _TOKEN_KEYS if section.get(key) is not None]
    key = ("profiles", profile or "")
    if len(given) > 1:
        assert file is not None
        raise file.error(
            f"profile {profile!r} names {' and '.join(given)}: choose one token source", *key
        )
    if not given:
        return TokenSource("env", DEFAULT_TOKEN_ENV)
    assert file is not None
    name = given[0]
    value = section[name]
    if name == "token_env":
        if not isinstance(value, str) or not value.strip():
            raise file.error("token_env must name an environment variable", *key, name)
        return TokenSource("env", value.strip())
    if name == "token_command":
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(part, str) and part for part in value)
        ):
            raise file.error(
                'token_command must be a list of strings, e.g. ["pass", "show", "opsera/prod"] '
                "(it is run without a shell)",
                *key,
                name,
            )
        return TokenSource("command", argv=tuple(value))
    if not isinstance(value, str) or not value.strip():
        raise file.error("token_file must be a path", *key, name)
    return TokenSource("file", path=Path(value).expanduser())


# -- the whole ----------------------------------------------------------------------------------


def load_settings(
    *,
    profile: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    refresh: float | None = None,
    read_only: bool | None = None,
    env: Mapping[str, str] | None = None,
    read_token: bool = True,
) -> Settings:
    """Settings from the config file, the environment and the given command-line values.

    ``read_token=False`` leaves the token unread (``config show`` runs no token command).
    """
    env = os.environ if env is None else env
    path = config_path(env)
    file = _read_file(path, required=bool(env.get("OPSTUI_CONFIG")))
    data = file.data if file else {}
    origins: dict[str, str] = {}
    if file:
        _known(file, data, KEYS)
    profiles = _table(file, data.get("profiles"), "profiles") if file else {}

    chosen = profile or env.get("OPSTUI_PROFILE") or data.get("default_profile") or None
    if chosen is not None and not isinstance(chosen, str):
        assert file is not None
        raise file.error("default_profile must be a profile name", "default_profile")
    origins["profile"] = (
        "--profile"
        if profile
        else "OPSTUI_PROFILE"
        if env.get("OPSTUI_PROFILE")
        else "default_profile"
        if chosen
        else "none"
    )
    section: dict[str, Any] = {}
    if chosen:
        if chosen not in profiles:
            known = ", ".join(sorted(profiles)) or "none are defined"
            raise ConfigError(f"no profile {chosen!r} in {path} ({known})")
        assert file is not None
        section = _table(file, profiles[chosen], "profiles", chosen)
        _known(file, section, PROFILE_KEYS, "profiles", chosen)
    here = f"profile {chosen}"

    def at(*key: str) -> str:
        return file.where("profiles", chosen or "", *key) if file else ""

    # -- the server, and the token bound to it --
    profile_url = _url(section.get("base_url"), at("base_url"))
    flag_url = _url(base_url)
    env_url = _url(env.get("OPSTUI_BASE_URL"))
    url = flag_url or env_url or profile_url
    origins["base_url"] = (
        "--base-url" if flag_url else "OPSTUI_BASE_URL" if env_url else here if url else "none"
    )
    source = _token_source(file, section, chosen)
    if profile_url and url != profile_url:
        # The profile's token is for the profile's server: never send it anywhere else.
        where = "--base-url" if flag_url else "OPSTUI_BASE_URL"
        raise ConfigError(
            f"{where} ({url}) is not profile {chosen!r}'s server ({profile_url}): drop one of them"
        )
    allow_http = section.get("allow_insecure_http", False)
    allow_http = _bool(file, allow_http, "profiles", chosen or "", "allow_insecure_http")
    if _env_bool(env, "OPSTUI_ALLOW_INSECURE_HTTP"):
        allow_http = True
    if url and url.startswith("http://") and not is_loopback_url(url) and not allow_http:
        raise ConfigError(
            f"{url} is plain http to another machine: the token would cross the network "
            "unencrypted; use https, or set allow_insecure_http = true in the profile"
        )

    token = None
    if read_token:
        try:
            token = source.read(env)
        except TokenError as exc:
            raise ConfigError(str(exc)) from None
    origins["token"] = source.describe()

    # -- numbers: flag > environment > profile > file > default --
    def seconds(name: str, flag: float | None, default: float, minimum: float) -> float:
        variable = f"OPSTUI_{name.upper()}"
        if flag is not None:
            origins[name] = f"--{name}"
            return _number(flag, name, minimum)
        if env.get(variable):
            origins[name] = variable
            return _number(env[variable], name, minimum, variable)
        if section.get(name) is not None:
            origins[name] = here
            return _number(section[name], name, minimum, at(name))
        if data.get(name) is not None:
            origins[name] = "config file"
            assert file is not None
            return _number(data[name], name, minimum, file.where(name))
        origins[name] = "default"
        return default

    timeout_value = seconds("timeout", timeout, DEFAULT_TIMEOUT, 0.1)
    refresh_value = seconds("refresh", refresh, DEFAULT_REFRESH, MIN_REFRESH)

    # -- read-only: any one source that says so makes it so --
    profile_read_only = _bool(
        file, section.get("read_only", False), "profiles", chosen or "", "read_only"
    )
    env_read_only = _env_bool(env, "OPSTUI_READ_ONLY")
    is_read_only = bool(read_only) or bool(env_read_only) or profile_read_only
    origins["read_only"] = (
        "--read-only"
        if read_only
        else "OPSTUI_READ_ONLY"
        if env_read_only
        else here
        if profile_read_only
        else "default"
    )

    # -- TLS --
    verify_tls = _bool(
        file, section.get("verify_tls", True), "profiles", chosen or "", "verify_tls"
    )
    ca_bundle = section.get("ca_bundle")
    if ca_bundle is not None:
        if not isinstance(ca_bundle, str) or not ca_bundle.strip():
            raise ConfigError(f"{at('ca_bundle')}: ca_bundle must be a path to a CA bundle file")
        bundle = Path(ca_bundle).expanduser()
        if not bundle.is_file():
            raise ConfigError(f"{at('ca_bundle')}: ca_bundle {bundle} is not a file")
    origins["verify_tls"] = here if "verify_tls" in section else "default"
    origins["ca_bundle"] = here if ca_bundle is not None else "default"

    # -- looks, keys, notifications --
    theme = env.get("OPSTUI_THEME") or section.get("theme") or data.get("theme") or None
    if theme is not None and not isinstance(theme, str):
        raise ConfigError(f"{at('theme')}: theme must be a theme's name")
    origins["theme"] = (
        "OPSTUI_THEME"
        if env.get("OPSTUI_THEME")
        else here
        if section.get("theme")
        else "config file"
        if data.get("theme")
        else "default"
    )
    keymap: dict[str, str] = {}
    if file:
        for name, keys in _table(file, data.get("keymap"), "keymap").items():
            if not isinstance(keys, str) or not keys.strip():
                raise file.error(
                    f'keymap.{name} must be keys as a string, e.g. "ctrl+a" or "a,ctrl+a"',
                    "keymap",
                    name,
                )
            keymap[name] = keys.strip()
    notifications = _table(file, data.get("notifications"), "notifications") if file else {}
    if file:
        _known(file, notifications, _NOTIFICATION_KEYS, "notifications")
    desktop = notifications.get("desktop", "off")
    if desktop not in _DESKTOP_CHOICES:
        assert file is not None
        raise file.error(
            f"notifications.desktop must be one of {', '.join(_DESKTOP_CHOICES)}",
            "notifications",
            "desktop",
        )
    bell = _bool(file, notifications.get("bell", True), "notifications", "bell")
    for name in _NOTIFICATION_KEYS:
        origins[name] = "config file" if name in notifications else "default"
    origins["audit_log"] = "OPSTUI_AUDIT_LOG" if env.get("OPSTUI_AUDIT_LOG") else "default"

    return Settings(
        base_url=url,
        token=token,
        timeout=timeout_value,
        refresh=refresh_value,
        profile=chosen,
        bell=bell,
        desktop=cast(DesktopNotify, desktop),
        audit_log=audit_log_path(env),
        token_env=source.variable
        if source.kind == "env" and source.variable != DEFAULT_TOKEN_ENV
        else None,
        token_source=source,
        read_only=is_read_only,
        verify_tls=verify_tls,
        ca_bundle=Path(ca_bundle).expanduser() if isinstance(ca_bundle, str) else None,
        theme=theme,
        keymap=keymap,
        config_file=file.path if file else None,
        origins=origins,
    )
