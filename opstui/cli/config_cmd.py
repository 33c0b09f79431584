"""``opstui config path | init | show``: where the config file is, a commented starter for it,
and the effective settings with where each came from (never the token)."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from collections.abc import Callable

from opstui.cli.errors import UsageError
from opstui.cli.output import EXIT_OK, Output, clean, render_table
from opstui.cli.settings import settings_from
from opstui.config import config_path, is_loopback_url, load_settings
from opstui.config.starter import describe, starter_text, token_line, write_starter

__all__ = ["config_init_cmd", "config_path_cmd", "config_show_cmd", "starter_from"]

DEFAULT_BASE_URL = "https://app.opsera.io"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PROFILE = re.compile(r"^[A-Za-z0-9_-]+$")
_SOURCES = {
    "1": "env",
    "2": "command",
    "3": "file",
    "env": "env",
    "command": "command",
    "file": "file",
}


def config_path_cmd(args: argparse.Namespace, out: Output) -> int:
    """Print where the config file is (whether or not it exists yet)."""
    out.line(str(config_path()))
    return EXIT_OK


def _check_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or url[-3:] == "://":
        raise UsageError(f"the server must be an http(s) URL, not {clean(url, 80)!r}")
    if url.startswith("http://") and not is_loopback_url(url):
        raise UsageError(
            f"{clean(url, 80)} is plain http to another machine: the token would cross the "
            "network unencrypted; use https (or edit the file: allow_insecure_http = true)"
        )
    return url


def _check_source(kind: str, value: str) -> str:
    value = value.strip()
    if kind == "env":
        if not _NAME.match(value):
            raise UsageError(f"{clean(value, 40)!r} is not an environment variable's name")
    elif kind == "command":
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise UsageError(f"the token command cannot be read: {exc}") from None
        if not argv:
            raise UsageError("the token command is empty")
    elif not value or "\n" in value:
        raise UsageError("the token file must be a path on one line")
    return value


def starter_from(base_url: str, kind: str, value: str, profile: str = "default") -> str:
    """The starter file's text for one profile, each input checked (UsageError)."""
    if not _PROFILE.match(profile):
        raise UsageError(f"{clean(profile, 40)!r} is not a profile name (letters, digits, - and _)")
    return starter_text(_check_url(base_url), token_line(kind, _check_source(kind, value)), profile)


def _ask(prompt: str, read: Callable[[], str]) -> str:
    sys.stderr.write(prompt)
    sys.stderr.flush()
    answer = read()
    if not answer:
        raise UsageError("no answer: nothing was written")
    return answer.strip()


def _interactive(
    base_url: str | None, source: tuple[str, str] | None, read: Callable[[], str]
) -> tuple[str, str, str]:
    """Ask for what the flags did not say: the base URL and how to get the token."""
    url = base_url or _ask(f"Opsera base URL [{DEFAULT_BASE_URL}]: ", read) or DEFAULT_BASE_URL
    _check_url(url)  # said now, not after the other questions
    if source is not None:
        return url, *source
    choice = _ask(
        "How does opstui get the token?\n"
        "  1) an environment variable (e.g. OPSERA_TOKEN)\n"
        "  2) a command that prints it (e.g. pass show opsera/prod)\n"
        "  3) a file that holds it (chmod 600)\n"
        "Choose 1, 2 or 3 [1]: ",
        read,
    )
    kind = _SOURCES.get(choice or "1")
    if kind is None:
        raise UsageError(f"{clean(choice, 20)!r} is not 1, 2 or 3: nothing was written")
    question = {
        "env": "The variable's name [OPSTUI_TOKEN]: ",
        "command": "The command: ",
        "file": "The file's path: ",
    }[kind]
    value = _ask(question, read) or ("OPSTUI_TOKEN" if kind == "env" else "")
    return url, kind, value


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False


def config_init_cmd(args: argparse.Namespace, out: Output) -> int:
    """Write a commented starter config file (0600); refuse to overwrite one."""
    path = config_path()
    if path.exists():
        raise UsageError(f"{path} exists already: edit it, or remove it first (nothing written)")
    flags = [
        (kind, value)
        for kind, value in (
            ("env", args.token_env),
            ("command", args.token_command),
            ("file", args.token_file),
        )
        if value is not None
    ]
    base_url: str | None = getattr(args, "base_url", None)
    source = flags[0] if flags else None
    if base_url is not None and source is not None:
        url, (kind, value) = base_url, source
    elif _stdin_is_tty():
        # A blank answer takes the default: the reader gives "\n", not "" (end of input).
        url, kind, value = _interactive(base_url, source, sys.stdin.readline)
    else:
        raise UsageError(
            "config init needs --base-url URL and one of --token-env NAME, "
            '--token-command "COMMAND" or --token-file PATH when not run on a terminal'
        )
    text = starter_from(url, kind, value, getattr(args, "profile", None) or "default")
    write_starter(path, text)
    # What was written must load: a check now, not a surprise at the next start.
    load_settings(env={**os.environ, "OPSTUI_CONFIG": str(path)}, read_token=False)
    out.note(f"wrote {path} (private, 0600); check it with `opstui doctor`")
    out.line(str(path))
    return EXIT_OK


def config_show_cmd(args: argparse.Namespace, out: Output) -> int:
    """The effective settings and where each came from; the token is never read or shown."""
    settings = settings_from(args, read_token=False)
    rows = describe(settings)
    if settings.trace is not None:
        rows.append(("trace", str(settings.trace), "--trace"))
    if args.json:
        out.json_document({name: {"value": value, "from": origin} for name, value, origin in rows})
        return EXIT_OK
    out.lines(
        render_table(
            ("SETTING", "VALUE", "FROM"),
            [(clean(n, 60), clean(v, 300), clean(o, 80) or "-") for n, v, o in rows],
            width=out.width,
            flexible=(1, 2),
        )
    )
    return EXIT_OK
