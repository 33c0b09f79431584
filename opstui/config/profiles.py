"""The profiles a config file names, as a picker lists them: never a token, none read.

Listing a profile reads no token (no token command is run, no token file opened): it says only
where the token would come from. Loading one, with its token, is :func:`opstui.config.load_settings`
with ``profile=NAME``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from opstui.config.file import ConfigFile, as_url, read_config_file, table_at, token_source_of
from opstui.config.settings import ConfigError, config_path, public_url

__all__ = ["ProfileInfo", "list_profiles"]


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    """One ``[profiles.NAME]`` table, as a person chooses between them."""

    name: str
    """The profile's name."""
    base_url: str | None
    """Its server, as shown (no ``user:password@``, query or fragment)."""
    read_only: bool = False
    """``read_only = true``: nothing that changes anything is sent on it."""
    token: str = ""
    """Where its token comes from (``the output of `pass show ...```), never the token."""
    default: bool = False
    """It is the file's ``default_profile``."""
    problem: str | None = None
    """What is wrong with its table (one line), when something is: it cannot be loaded."""


def _info(file: ConfigFile, name: str, raw: object, default: object) -> ProfileInfo:
    try:
        section = table_at(file, raw, "profiles", name)
        url = as_url(section.get("base_url"), file.where("profiles", name, "base_url"))
        source = token_source_of(file, section, name)
    except ConfigError as error:
        return ProfileInfo(name, None, default=name == default, problem=str(error))
    read_only = section.get("read_only", False) is True
    return ProfileInfo(
        name,
        public_url(url),
        read_only=read_only,
        token=source.describe(),
        default=name == default,
        problem=None if url else f"profile {name!r} names no base_url",
    )


def list_profiles(env: Mapping[str, str] | None = None) -> list[ProfileInfo]:
    """The config file's profiles, in the file's order (none without a file).

    ConfigError when the file cannot be read or is not TOML; a profile whose own table is wrong
    is listed with its :attr:`~ProfileInfo.problem`. Nothing is read from any token source.
    """
    env = os.environ if env is None else env
    file = read_config_file(config_path(env), required=bool(env.get("OPSTUI_CONFIG")))
    if file is None:
        return []
    profiles = table_at(file, file.data.get("profiles"), "profiles")
    default = file.data.get("default_profile")
    return [_info(file, str(name), raw, default) for name, raw in profiles.items()]
