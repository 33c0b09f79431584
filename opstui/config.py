"""Settings and profiles: defaults < config file < environment < command line.

The config file is optional TOML at ``<user config dir>/opstui/config.toml`` (``OPSTUI_CONFIG``
names another)::

    default_profile = "prod"

    [profiles.prod]
    base_url = "https://app.opsera.io"
    token_env = "OPSERA_PROD_TOKEN"   # the variable that holds this profile's token
    refresh = 5

    [notifications]
    bell = true
    desktop = "off"                   # off | osc9 | osc777

The token itself is never read from the command line or the config file: only from the
environment (``OPSTUI_TOKEN``, or the profile's ``token_env``), so it shows in neither ``ps`` nor
shell history, and it is never printed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

import platformdirs

__all__ = [
    "DEFAULT_REFRESH",
    "DEFAULT_TIMEOUT",
    "ConfigError",
    "DesktopNotify",
    "Secret",
    "Settings",
    "audit_log_path",
    "config_path",
    "crash_dir_path",
    "load_settings",
]

APP_NAME = "opstui"
DEFAULT_TIMEOUT = 10.0
DEFAULT_REFRESH = 5.0
MIN_REFRESH = 1.0

DesktopNotify = Literal["off", "osc9", "osc777"]
_DESKTOP_CHOICES: tuple[DesktopNotify, ...] = ("off", "osc9", "osc777")


class ConfigError(Exception):
    """The settings cannot be used; the message is one line for a person."""


class Secret:
    """A string that never shows itself: ``str()`` and ``repr()`` give ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that needs it (the HTTP client)."""
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything opstui needs to talk to a server and behave as its user wants."""

    base_url: str | None = None
    """The Opsera server, e.g. ``https://app.opsera.io``."""
    token: Secret | None = None
    """The personal access token (never shown)."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds before a request gives up."""
    refresh: float = DEFAULT_REFRESH
    """Seconds between live refreshes in the app."""
    profile: str | None = None
    """The profile these settings came from, if any."""
    bell: bool = True
    """Ring the terminal bell when a gate opens or a run fails."""
    desktop: DesktopNotify = "off"
    """Desktop notifications through the terminal's own escape (OSC 9 or OSC 777)."""
    audit_log: Path = field(default_factory=lambda: audit_log_path())
    """Where every action taken is recorded, one JSON line each."""
    token_env: str | None = None
    """The environment variable the token is read from, when not ``OPSTUI_TOKEN``."""
    crash_dir: Path = field(default_factory=lambda: crash_dir_path())
    """Where the app writes a crash report (no token, no local variables) if a bug ends it."""

    @property
    def server_label(self) -> str:
        """What to call the server on screen: the profile name, or the host."""
        if self.profile:
            return self.profile
        if not self.base_url:
            return "no server"
        # never user:password@ (a URL may carry credentials): only the host and port
        host = self.base_url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2]
        return host or "server"

    def require_server(self) -> tuple[str, str]:
        """The base URL and the revealed token, or a ConfigError saying which is missing."""
        if not self.base_url:
            raise ConfigError("no server: set OPSTUI_BASE_URL or pass --base-url (or try --demo)")
        if self.token is None:
            variable = self.token_env or "OPSTUI_TOKEN"
            raise ConfigError(f"no token: set {variable} (it is never taken from the command line)")
        return self.base_url, self.token.reveal()

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields changed (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """The config file's path: ``OPSTUI_CONFIG`` or the platform's user config dir."""
    env = os.environ if env is None else env
    if env.get("OPSTUI_CONFIG"):
        return Path(env["OPSTUI_CONFIG"]).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def audit_log_path(env: Mapping[str, str] | None = None) -> Path:
    """The audit log's path: ``OPSTUI_AUDIT_LOG`` or the platform's user state dir."""
    env = os.environ if env is None else env
    if env.get("OPSTUI_AUDIT_LOG"):
        return Path(env["OPSTUI_AUDIT_LOG"]).expanduser()
    return platformdirs.user_state_path(APP_NAME) / "audit.log"


def crash_dir_path() -> Path:
    """Where crash reports go: ``crashes`` in the platform's user state dir, beside the audit log."""
    return platformdirs.user_state_path(APP_NAME) / "crashes"


def _read_file(path: Path, required: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None


def _number(value: Any, name: str, minimum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{name} must be a number of seconds")
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}") from None
    if not number >= minimum or number == float("inf"):
        raise ConfigError(f"{name} must be at least {minimum:g} seconds")
    return number


def _table(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in the config file must be a table")
    return cast(dict[str, Any], value)


def _url(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ConfigError(f"the server must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


def load_settings(
    *,
    profile: str | None = None,
    base_url: str | None = None,
    timeout: float | None = None,
    refresh: float | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from the config file, the environment and the given command-line values."""
    env = os.environ if env is None else env
    path = config_path(env)
    data = _read_file(path, required=bool(env.get("OPSTUI_CONFIG")))
    profiles = _table(data.get("profiles"), "profiles")
    profile = profile or env.get("OPSTUI_PROFILE") or data.get("default_profile") or None
    if profile is not None and not isinstance(profile, str):
        raise ConfigError("default_profile must be a profile name")
    section: dict[str, Any] = {}
    if profile:
        if profile not in profiles:
            known = ", ".join(sorted(profiles)) or "none are defined"
            raise ConfigError(f"no profile {profile!r} in {path} ({known})")
        section = _table(profiles[profile], f"profiles.{profile}")

    profile_url = _url(section.get("base_url"))
    url = _url(base_url or env.get("OPSTUI_BASE_URL")) or profile_url
    if profile_url and url != profile_url:
        # The profile's token is for the profile's server: never send it anywhere else.
        source = "--base-url" if base_url else "OPSTUI_BASE_URL"
        raise ConfigError(
            f"{source} ({url}) is not profile {profile!r}'s server ({profile_url}): "
            f"drop one of them"
        )

    # A profile's own variable only: falling back to OPSTUI_TOKEN could send one server's
    # token to another server.
    token_env = section.get("token_env") or "OPSTUI_TOKEN"
    if not isinstance(token_env, str):
        raise ConfigError("token_env must name an environment variable")
    raw_token = (env.get(token_env) or "").strip()

    notifications = _table(data.get("notifications"), "notifications")
    desktop = notifications.get("desktop", "off")
    if desktop not in _DESKTOP_CHOICES:
        raise ConfigError(f"notifications.desktop must be one of {', '.join(_DESKTOP_CHOICES)}")
    bell = notifications.get("bell", True)
    if not isinstance(bell, bool):
        raise ConfigError("notifications.bell must be true or false")

    timeout_value = (
        timeout if timeout is not None else env.get("OPSTUI_TIMEOUT") or section.get("timeout")
    )
    refresh_value = (
        refresh if refresh is not None else env.get("OPSTUI_REFRESH") or section.get("refresh")
    )
    return Settings(
        base_url=url,
        token=Secret(raw_token) if raw_token else None,
        timeout=DEFAULT_TIMEOUT
        if timeout_value is None
        else _number(timeout_value, "timeout", 0.1),
        refresh=DEFAULT_REFRESH
        if refresh_value is None
        else _number(refresh_value, "refresh", MIN_REFRESH),
        profile=profile,
        bell=bell,
        desktop=cast(DesktopNotify, desktop),
        audit_log=audit_log_path(env),
        token_env=token_env if token_env != "OPSTUI_TOKEN" else None,
    )
