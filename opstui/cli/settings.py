"""The settings of one command-line run: the config file, the environment and the flags."""

from __future__ import annotations

import argparse

from opstui.config import Settings, load_settings

__all__ = ["settings_from"]


def settings_from(args: argparse.Namespace, *, read_token: bool = True) -> Settings:
    """Settings for the parsed ``args`` (``--profile``, ``--base-url``, ``--timeout``,
    ``--read-only``, ``--trace``); ConfigError when they cannot be used.

    ``read_token=False`` leaves the token unread (no token command is run).
    """
    settings = load_settings(
        profile=getattr(args, "profile", None),
        base_url=getattr(args, "base_url", None),
        timeout=getattr(args, "timeout", None),
        read_only=getattr(args, "read_only", None) or None,
        read_token=read_token,
    )
    trace = getattr(args, "trace", None)
    return settings.with_overrides(trace=trace.expanduser() if trace is not None else None)
