"""What the top of the command line and every subcommand share: the server options, the types
their values are read with, and the epilog every ``--help`` ends with.

A type that needs a command's own code (``--state``, ``--since``) imports it only when a value
is read, so that building the command line loads none of it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

__all__ = ["EPILOG", "age", "positive_int", "seconds", "server_options", "state"]

EPILOG = """\
exit codes:
  0    every target succeeded (for a read: it worked, even if some records
       could not be read: a warning says how many are not shown)
  1    the action failed or was refused for at least one target: refused by the
       status check (then nothing is sent), not found (404), or refused by the
       server (a "failed" outcome, 400, 409, 422); each target's outcome is
       printed on stdout, and why on stderr. Also: a delete you did not confirm.
  2    usage or configuration error: bad arguments, no server or no token, a bad
       config file, or input refused before anything was sent (a blank reason,
       delete without --yes when not on a terminal, a malformed id, an action
       on a read-only profile or with --read-only)
  3    authentication (401) or permission (403) refused: check the token and
       its scope (a read-only token cannot act)
  4    the server is unreachable, timed out, rate limited (429), failed (5xx) or
       sent an invalid response; or an action's outcome is unknown (a timeout
       or a reset after it was sent, an answer that cannot be read): the target
       shows "unknown", it may have been applied, and it is never sent again
  130  interrupted (Ctrl-C); approvals --watch and sim stop with 0
  70   a bug in opstui: one line, and a report file (no secrets) to attach
  143  terminated (SIGTERM)
       An action interrupted on its way is audited with its outcome unknown.

environment:
  OPSTUI_BASE_URL   the server (or --base-url, or a --profile from the config)
  OPSTUI_TOKEN      the access token, unless the profile names its own source
                    (token_env, token_command, token_file); never a flag, never
                    printed
  OPSTUI_PROFILE, OPSTUI_READ_ONLY, OPSTUI_TIMEOUT, OPSTUI_CONFIG,
  OPSTUI_AUDIT_LOG, NO_COLOR

No server yet? `opstui` alone shows what to do; `opstui config init` writes a
config file; `opstui doctor` checks it against the server (and whether the token
may act); `opstui --demo` opens the app on a built-in simulator.
Every action is checked first (one status request for all targets), sent as one
request, and recorded in the audit log (`opstui audit` shows it).
"""
"""The end of every ``--help``: the exit codes, the environment, where to start."""


def seconds(minimum: float) -> Callable[[str], float]:
    """A type reading a number of seconds, ``minimum`` or more."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
        if not math.isfinite(value) or value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum:g} seconds")
        return value

    parse.__name__ = "seconds"
    return parse


def positive_int(text: str) -> int:
    """A type reading a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def state(text: str) -> str:
    """A type checking a ``--state`` value (kept as given: the command reads it again)."""
    from opstui.cli.reads import parse_states

    try:
        parse_states([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def age(text: str) -> timedelta:
    """A type reading an age (``90m``, ``24h``, ``2d``, ``1w``) as a duration."""
    from opstui.cli.audit_cmd import parse_age

    return parse_age(text)


def server_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--base-url, --profile, --timeout, --read-only and --trace, before or after the
    subcommand."""
    default: Any = None if top else argparse.SUPPRESS
    group = parser.add_argument_group("server")
    group.add_argument(
        "--base-url", metavar="URL", default=default, help="the Opsera server (OPSTUI_BASE_URL)"
    )
    group.add_argument(
        "--profile", metavar="NAME", default=default, help="a profile from the config file"
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=seconds(0.1),
        default=default,
        help="give up on a request after this long (default 10)",
    )
    group.add_argument(
        "--read-only",
        action="store_true",
        default=default,
        help="send nothing that changes anything: every action refuses (OPSTUI_READ_ONLY)",
    )
    group.add_argument(
        "--trace",
        metavar="FILE",
        type=Path,
        default=default,
        help="record every request and response in FILE as JSON lines (private, 0600; the "
        "token redacted), to attach to a bug report",
    )
