"""What opstui runs with: :class:`Settings`, and where its files live.

Shared by the app and the command line; knows nothing of Textual. How settings are read from the
config file, the environment and the flags is :mod:`opstui.config.load`.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import platformdirs

from opstui.config.tokens import Secret, TokenSource

__all__ = [
    "APP_NAME",
    "DEFAULT_REFRESH",
    "DEFAULT_TIMEOUT",
    "MIN_REFRESH",
    "ConfigError",
    "DesktopNotify",
    "Settings",
    "audit_log_path",
    "config_path",
    "crash_dir_path",
    "is_loopback_url",
    "public_url",
]

APP_NAME = "opstui"
DEFAULT_TIMEOUT = 10.0
DEFAULT_REFRESH = 5.0
MIN_REFRESH = 1.0

DesktopNotify = Literal["off", "osc9", "osc777"]


class ConfigError(Exception):
    """The settings cannot be used; the message is one line for a person."""


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
    """Where a crash report goes (no token, no local variables) if a bug ends opstui."""
    token_source: TokenSource | None = None
    """Where the token comes from (``OPSTUI_TOKEN`` when None)."""
    read_only: bool = False
    """Nothing that changes anything is ever sent: every mutating key and command refuses."""
    verify_tls: bool = True
    """Check the server's TLS certificate (off only on purpose, and then said on screen)."""
    ca_bundle: Path | None = None
    """A private certificate authority's bundle, to verify the server with."""
    theme: str | None = None
    """A Textual theme's name."""
    keymap: Mapping[str, str] = field(default_factory=dict)
    """Binding id to keys (``approve = "ctrl+a"``), applied with Textual's keymap."""
    trace: Path | None = None
    """``--trace FILE``: every request and response recorded there (token redacted)."""
    config_file: Path | None = None
    """The config file that was read, if one was."""
    origins: Mapping[str, str] = field(default_factory=dict)
    """Where each setting came from (``default``, ``profile prod``, ``OPSTUI_REFRESH``, ...)."""

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

    @property
    def verify(self) -> bool | str:
        """What the HTTP client verifies the server with: off, a CA bundle, or the defaults.

        Off for a plain ``http://`` server too: it has no certificate, and the client then builds
        no TLS context (loading the CA store costs ~50 ms of every start).
        """
        plain_http = (self.base_url or "").lower().startswith("http://")
        if not self.verify_tls or plain_http:
            return False
        return str(self.ca_bundle) if self.ca_bundle is not None else True

    def require_server(self) -> tuple[str, str]:
        """The base URL and the revealed token, or a ConfigError saying which is missing."""
        if not self.base_url:
            raise ConfigError("no server: set OPSTUI_BASE_URL or pass --base-url (or try --demo)")
        if self.token is None:
            source = self.token_source or TokenSource("env", self.token_env or "OPSTUI_TOKEN")
            raise ConfigError(f"no token: {source.hint()}")
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


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is this machine (127.0.0.0/8, ::1, localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url(url: str | None) -> str | None:
    """``url`` without a ``user:password@``, a query or a fragment (they may hold secrets)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))
