"""Settings and profiles, token sources, and where opstui keeps its files.

Shared by the app and the command line; knows nothing of Textual. The config file is optional
TOML at ``<user config dir>/opstui/config.toml`` (``OPSTUI_CONFIG`` names another)::

    default_profile = "prod"

    [profiles.prod]
    base_url = "https://app.opsera.io"
    token_command = ["pass", "show", "opsera/prod"]   # or token_env / token_file
    read_only = false

    [notifications]
    bell = true
    desktop = "off"                   # off | osc9 | osc777

    [keymap]
    approve = "ctrl+a"

The token is never read from the command line or written to the config file.
"""

from opstui.config.load import KEYS, PROFILE_KEYS, load_settings
from opstui.config.profiles import ProfileInfo, list_profiles
from opstui.config.settings import (
    APP_NAME,
    DEFAULT_REFRESH,
    DEFAULT_TIMEOUT,
    MIN_REFRESH,
    ConfigError,
    DesktopNotify,
    Settings,
    audit_log_path,
    config_path,
    crash_dir_path,
    is_loopback_url,
    public_url,
)
from opstui.config.tokens import Secret, TokenError, TokenSource

__all__ = [
    "APP_NAME",
    "DEFAULT_REFRESH",
    "DEFAULT_TIMEOUT",
    "KEYS",
    "MIN_REFRESH",
    "PROFILE_KEYS",
    "ConfigError",
    "DesktopNotify",
    "ProfileInfo",
    "Secret",
    "Settings",
    "TokenError",
    "TokenSource",
    "audit_log_path",
    "config_path",
    "crash_dir_path",
    "is_loopback_url",
    "list_profiles",
    "load_settings",
    "public_url",
]
