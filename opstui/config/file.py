"""The config file itself: parsed TOML, where each key stands in it, and its values checked.

Every check names the file, the key and the line where known (:meth:`ConfigFile.error`), so a
bad file is one message a person can act on. :mod:`opstui.config.load` builds the settings from
it; :mod:`opstui.config.profiles` lists its profiles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from opstui.config.settings import ConfigError
from opstui.config.tokens import DEFAULT_TOKEN_ENV, TokenSource

__all__ = [
    "ConfigFile",
    "as_bool",
    "as_seconds",
    "as_url",
    "check_known",
    "env_bool",
    "read_config_file",
    "table_at",
    "token_source_of",
]

_TOKEN_KEYS = ("token_env", "token_command", "token_file")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _dotted(text: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return tuple(part.strip("\"'") for part in parts)


@dataclass(frozen=True)
class ConfigFile:
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


def read_config_file(path: Path, required: bool) -> ConfigFile | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"config file {path} does not exist") from None
        return None
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():  # an empty file (a fresh `touch`) says nothing: no parser to load
        return ConfigFile(path, {}, {})
    import tomllib  # only when there is something to read (a start-up cost otherwise)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    return ConfigFile(path, data, _locate(text))


# -- checking values --------------------------------------------------------------------------


def table_at(file: ConfigFile, value: Any, *key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise file.error(f"[{'.'.join(key)}] must be a table", *key)
    return cast(dict[str, Any], value)


def check_known(
    file: ConfigFile,
    table: Mapping[str, Any],
    known: Mapping[str, str] | tuple[str, ...],
    *prefix: str,
) -> None:
    for name in table:
        if name not in known:
            where = ".".join((*prefix, name))
            choices = ", ".join(sorted(known))
            raise file.error(f"unknown key {where!r} (known here: {choices})", *prefix, name)


def as_bool(file: ConfigFile | None, value: Any, *key: str) -> bool:
    if isinstance(value, bool):
        return value
    message = f"{'.'.join(key)} must be true or false"
    raise file.error(message, *key) if file else ConfigError(message)


def env_bool(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true or false), not {raw!r}")


def as_seconds(value: Any, name: str, minimum: float, where: str = "") -> float:
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


def as_url(value: Any, where: str = "") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        prefix = f"{where}: " if where else ""
        raise ConfigError(f"{prefix}the server must be an http(s) URL, not {value!r}")
    return value.rstrip("/")


def token_source_of(
    file: ConfigFile | None, section: Mapping[str, Any], profile: str | None
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
