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
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from opstui.config.file import (
    as_bool,
    as_seconds,
    as_url,
    check_known,
    env_bool,
    read_config_file,
    table_at,
    token_source_of,
)
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
from opstui.config.tokens import DEFAULT_TOKEN_ENV, TokenError

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
    file = read_config_file(path, required=bool(env.get("OPSTUI_CONFIG")))
    data = file.data if file else {}
    origins: dict[str, str] = {}
    if file:
        check_known(file, data, KEYS)
    profiles = table_at(file, data.get("profiles"), "profiles") if file else {}

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
        section = table_at(file, profiles[chosen], "profiles", chosen)
        check_known(file, section, PROFILE_KEYS, "profiles", chosen)
    here = f"profile {chosen}"

    def at(*key: str) -> str:
        return file.where("profiles", chosen or "", *key) if file else ""

    # -- the server, and the token bound to it --
    profile_url = as_url(section.get("base_url"), at("base_url"))
    flag_url = as_url(base_url)
    env_url = as_url(env.get("OPSTUI_BASE_URL"))
    url = flag_url or env_url or profile_url
    origins["base_url"] = (
        "--base-url" if flag_url else "OPSTUI_BASE_URL" if env_url else here if url else "none"
    )
    source = token_source_of(file, section, chosen)
    if profile_url and url != profile_url:
        # The profile's token is for the profile's server: never send it anywhere else.
        where = "--base-url" if flag_url else "OPSTUI_BASE_URL"
        raise ConfigError(
            f"{where} ({url}) is not profile {chosen!r}'s server ({profile_url}): drop one of them"
        )
    allow_http = section.get("allow_insecure_http", False)
    allow_http = as_bool(file, allow_http, "profiles", chosen or "", "allow_insecure_http")
    if env_bool(env, "OPSTUI_ALLOW_INSECURE_HTTP"):
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
            return as_seconds(flag, name, minimum)
        if env.get(variable):
            origins[name] = variable
            return as_seconds(env[variable], name, minimum, variable)
        if section.get(name) is not None:
            origins[name] = here
            return as_seconds(section[name], name, minimum, at(name))
        if data.get(name) is not None:
            origins[name] = "config file"
            assert file is not None
            return as_seconds(data[name], name, minimum, file.where(name))
        origins[name] = "default"
        return default

    timeout_value = seconds("timeout", timeout, DEFAULT_TIMEOUT, 0.1)
    refresh_value = seconds("refresh", refresh, DEFAULT_REFRESH, MIN_REFRESH)

    # -- read-only: any one source that says so makes it so --
    profile_read_only = as_bool(
        file, section.get("read_only", False), "profiles", chosen or "", "read_only"
    )
    env_read_only = env_bool(env, "OPSTUI_READ_ONLY")
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
    verify_tls = as_bool(
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
        for name, keys in table_at(file, data.get("keymap"), "keymap").items():
            if not isinstance(keys, str) or not keys.strip():
                raise file.error(
                    f'keymap.{name} must be keys as a string, e.g. "ctrl+a" or "a,ctrl+a"',
                    "keymap",
                    name,
                )
            keymap[name] = keys.strip()
    notifications = table_at(file, data.get("notifications"), "notifications") if file else {}
    if file:
        check_known(file, notifications, _NOTIFICATION_KEYS, "notifications")
    desktop = notifications.get("desktop", "off")
    if desktop not in _DESKTOP_CHOICES:
        assert file is not None
        raise file.error(
            f"notifications.desktop must be one of {', '.join(_DESKTOP_CHOICES)}",
            "notifications",
            "desktop",
        )
    bell = as_bool(file, notifications.get("bell", True), "notifications", "bell")
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
