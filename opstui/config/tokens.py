"""Where a profile's token comes from: one source each, read only when it is needed.

- ``token_env``: an environment variable's name (``OPSTUI_TOKEN`` when a profile names none);
- ``token_command``: an argv list run without a shell, with a timeout (``["pass", "show",
  "opsera/prod"]``); its failure is one line naming the command, never its output;
- ``token_file``: a file whose first line is the token, refused when group- or world-readable,
  as ssh refuses a loose key.

Never a command-line flag: a flag shows in ``ps`` and in shell history.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["DEFAULT_TOKEN_ENV", "TOKEN_COMMAND_TIMEOUT", "Secret", "TokenError", "TokenSource"]

DEFAULT_TOKEN_ENV = "OPSTUI_TOKEN"
TOKEN_COMMAND_TIMEOUT = 10.0
"""Seconds a ``token_command`` may take (a password manager may ask for a passphrase)."""


class TokenError(Exception):
    """The token could not be read from its source; one line for a person, never the token."""


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
class TokenSource:
    """One way to get a token. :meth:`read` fetches it; :meth:`describe` says where from."""

    kind: Literal["env", "command", "file"]
    variable: str = DEFAULT_TOKEN_ENV
    """For ``env``: the variable's name."""
    argv: tuple[str, ...] = ()
    """For ``command``: the program and its arguments."""
    path: Path | None = None
    """For ``file``: where the token is."""
    timeout: float = TOKEN_COMMAND_TIMEOUT

    def describe(self) -> str:
        """Where the token comes from, for messages and ``config show`` (never the token)."""
        if self.kind == "command":
            return f"the output of `{shlex.join(self.argv)}`"
        if self.kind == "file":
            return f"the file {self.path}"
        return f"the environment variable {self.variable}"

    def hint(self) -> str:
        """How to provide the token when there is none."""
        if self.kind == "env":
            return f"set {self.variable} (it is never taken from the command line)"
        return f"check {self.describe()}"

    def read(self, env: Mapping[str, str] | None = None) -> Secret | None:
        """The token, or None when an environment variable is unset; TokenError otherwise."""
        env = os.environ if env is None else env
        if self.kind == "env":
            value = (env.get(self.variable) or "").strip()
            return Secret(value) if value else None
        if self.kind == "command":
            return Secret(self._run(env))
        return Secret(self._read_file())

    def _run(self, env: Mapping[str, str]) -> str:
        shown = shlex.join(self.argv)
        try:
            done = subprocess.run(
                list(self.argv),
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=self.timeout,
                env=dict(env),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TokenError(
                f"token_command `{shown}` did not finish within {self.timeout:g} s"
            ) from None
        except OSError as exc:
            raise TokenError(
                f"token_command `{shown}` cannot be run: {exc.strerror or exc}"
            ) from None
        if done.returncode != 0:
            # Its output may hold the secret or part of it: never shown.
            raise TokenError(f"token_command `{shown}` failed (exit status {done.returncode})")
        token = _first_line(done.stdout)
        if not token:
            raise TokenError(f"token_command `{shown}` printed no token")
        return token

    def _read_file(self) -> str:
        path = self.path
        assert path is not None
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            raise TokenError(f"token_file {path} does not exist") from None
        except OSError as exc:
            raise TokenError(f"token_file {path}: {exc.strerror or exc}") from None
        if mode & 0o077:
            raise TokenError(
                f"token_file {path} is readable by others (mode {mode:04o}): "
                f"run `chmod 600 {shlex.quote(str(path))}`"
            )
        try:
            token = _first_line(path.read_bytes())
        except OSError as exc:
            raise TokenError(f"token_file {path}: {exc.strerror or exc}") from None
        if not token:
            raise TokenError(f"token_file {path} is empty")
        return token


def _first_line(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0].strip() if text else ""
