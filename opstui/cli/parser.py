"""The whole command line, as an :class:`argparse.ArgumentParser`, and its epilog.

Each subcommand is named here by its module and function and imported only when it runs, so
that ``opstui list`` loads the code of a list, not that of doctor, audit or the actions.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn, get_args

from opstui import __version__
from opstui.api.listing import SortOption
from opstui.cli.output import EXIT_USAGE, Output
from opstui.config import Settings
from opstui.sim.faults import FAULTS_HELP

__all__ = [
    "COMMANDS",
    "EPILOG",
    "MUTATING",
    "Command",
    "Deferred",
    "LocalCommand",
    "build_parser",
    "parse_arguments",
]

MUTATING = frozenset({"run", "stop", "reset", "approve", "reject", "delete", "update", "clone"})
"""Every command that changes something: refused, with nothing sent, when read-only."""

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

JSON_HELP = (
    "print JSON on stdout: per pipeline id, name, status (derived), state, active, step, "
    "run_count, last_run {status, completed}, gate {id, name}, waiting_since, waited_seconds, "
    "type, owner, tags, updated_at"
)

Command = Callable[[argparse.Namespace, Settings, Output], Coroutine[Any, Any, int]]
"""A command that talks to the server: the settings hold a server and a token."""
LocalCommand = Callable[[argparse.Namespace, Output], int]
"""A command that loads what it needs itself (config, doctor, audit)."""


class Deferred:
    """A command named ``module:function`` (in :mod:`opstui.cli`), imported when it is called."""

    __slots__ = ("function", "module")

    def __init__(self, target: str) -> None:
        module, _, self.function = target.partition(":")
        self.module = f"opstui.cli.{module}"

    def __call__(self, *args: Any) -> Any:
        return getattr(importlib.import_module(self.module), self.function)(*args)

    def __repr__(self) -> str:
        return f"Deferred({self.module}:{self.function})"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors say ``opstui: error:`` on one line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        own = message.startswith("argument --token-")  # config init's own options
        if "--token" in message and not own and self.prog.split()[-1] != "sim":
            # Never echo what follows --token: it is most likely the token itself.
            message = (
                "there is no --token option: put the token in OPSTUI_TOKEN "
                "(a flag would show in ps and in shell history)"
            )
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"opstui: error: {message}\n")


def _seconds(minimum: float) -> Callable[[str], float]:
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _state(text: str) -> str:
    from opstui.cli.reads import parse_states

    try:
        parse_states([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _age(text: str) -> timedelta:
    from opstui.cli.audit_cmd import parse_age

    return parse_age(text)


def _server_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
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
        type=_seconds(0.1),
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


def _sub(
    subparsers: Any,
    name: str,
    help: str,
    command: str | None = None,
    *,
    local: str | None = None,
    server: bool = True,
    **defaults: Any,
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=help,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    if server:
        _server_options(parser, top=False)
    parser.set_defaults(
        command=Deferred(command) if command else None,
        local=Deferred(local) if local else None,
        **defaults,
    )
    return parser


def _filter_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--search", metavar="TEXT", help=f"{what} whose name contains TEXT")
    parser.add_argument("--status", metavar="WORD", help="the server's own status filter")
    parser.add_argument("--type", metavar="TYPE", help="e.g. sdlc, sfdc, ai-ml")
    parser.add_argument("--owner", metavar="OWNER", help="the owner's id or name")
    parser.add_argument("--tag", metavar="TAG", help="e.g. env:prod")
    parser.add_argument(
        "--sort", choices=get_args(SortOption), help="the server's sort order (sortOption)"
    )
    parser.add_argument(
        "--state",
        metavar="WORD",
        action="append",
        type=_state,
        help="keep only this derived status (repeat or comma separate): awaiting-approval, "
        "running, paused, failed, success, stopped, idle, unknown",
    )


def _top(parser_class: type[_Parser]) -> argparse.ArgumentParser:
    """The command line before its command: the app's options and the server's."""
    parser = parser_class(
        prog="opstui",
        description="Operate Opsera CI/CD pipelines: the app (no command) or a scriptable command.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"opstui {__version__}")
    parser.add_argument(
        "--demo", action="store_true", help="open the app on a built-in simulator (no account)"
    )
    parser.add_argument(
        "--approvals", action="store_true", help="open the app on its approvals view"
    )
    parser.add_argument(
        "--pipelines",
        type=_positive_int,
        metavar="N",
        help="with --demo: how many simulated pipelines",
    )
    app = parser.add_argument_group("the app")
    app.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=_seconds(1.0),
        help="seconds between live refreshes (default 5; OPSTUI_REFRESH)",
    )
    app.add_argument(
        "--no-bell",
        dest="bell",
        action="store_false",
        default=None,
        help="no terminal bell when a gate opens or a run fails",
    )
    app.add_argument(
        "--desktop-notify",
        choices=("off", "osc9", "osc777"),
        help="desktop notifications through the terminal's escape (OSC 9 or OSC 777)",
    )
    _server_options(parser, top=True)
    return parser


def _list(sub: Any) -> None:
    p = _sub(sub, "list", "list pipelines", "reads:cmd_list")
    _filter_options(p, "pipelines")
    p.add_argument("--json", action="store_true", help=JSON_HELP)


def _show(sub: Any) -> None:
    p = _sub(sub, "show", "show one pipeline in full", "reads:cmd_show")
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="the JSON view plus the raw document")


_PIPELINE_ACTIONS = {
    "run": "start a run of each pipeline",
    "stop": "stop each pipeline's run",
    "reset": "reset each pipeline",
    "approve": "approve the gate each pipeline waits at",
    "reject": "reject the gate each pipeline waits at, with a reason",
    "delete": "delete pipelines (asks on a terminal; --yes otherwise)",
}


def _action(action: str) -> Callable[[Any], None]:
    def add(sub: Any) -> None:
        text = _PIPELINE_ACTIONS[action]
        p = _sub(sub, action, text, "actions:cmd_action", action=action, kind="pipeline")
        p.add_argument("ids", nargs="+", metavar="ID")
        if action == "reject":
            p.add_argument("--reason", metavar="TEXT", help="why (required; sent to the server)")
        if action == "delete":
            p.add_argument("--yes", action="store_true", help="do not ask")
        p.add_argument("--force", action="store_true", help="skip the status check")

    return add


def _update(sub: Any) -> None:
    p = _sub(sub, "update", "change a pipeline's name or description", "actions:cmd_update")
    p.add_argument("id", metavar="ID")
    p.add_argument("--name", metavar="NAME")
    p.add_argument("--description", metavar="TEXT")
    p.add_argument("--force", action="store_true", help="skip the existence check")


def _clone(sub: Any) -> None:
    p = _sub(sub, "clone", "copy a pipeline under a new name", "actions:cmd_clone")
    p.add_argument("id", metavar="ID")
    p.add_argument("--name", metavar="NEW", required=True)


def _tasks(sub: Any) -> None:
    p = _sub(sub, "tasks", "list tasks", "reads:cmd_tasks")
    _filter_options(p, "tasks")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


def _task(sub: Any) -> None:
    p = _sub(sub, "task", "run or stop tasks", "actions:cmd_action", kind="task")
    task_sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("run", "start each task"), ("stop", "stop each task")):
        tp = _sub(task_sub, action, text, "actions:cmd_action", action=action, kind="task")
        tp.add_argument("ids", nargs="+", metavar="ID")
        tp.add_argument("--force", action="store_true", help="skip the status check")


def _logs(sub: Any) -> None:
    p = _sub(sub, "logs", "a pipeline's activity log, newest first", "reads:cmd_logs")
    p.add_argument("id", metavar="ID")
    p.add_argument("--run", type=_positive_int, metavar="N", help="only run N")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


def _approvals(sub: Any) -> None:
    p = _sub(
        sub,
        "approvals",
        "what waits for approval, longest waiting first",
        "approvals:cmd_approvals",
    )
    p.add_argument("--json", action="store_true", help="JSON (with --watch: one object per line)")
    p.add_argument("--watch", action="store_true", help="keep polling; print each new gate once")
    p.add_argument(
        "--interval",
        type=_seconds(0.5),
        default=5.0,
        metavar="SECONDS",
        help="with --watch: seconds between polls (default 5)",
    )
    p.add_argument("--max-polls", type=_positive_int, default=None, help=argparse.SUPPRESS)


def _config(sub: Any) -> None:
    p = _sub(
        sub,
        "config",
        "the config file: where it is, a starter, the effective settings",
        server=False,
    )
    config_sub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    _sub(
        config_sub,
        "path",
        "print where the config file is",
        local="config_cmd:config_path_cmd",
        server=False,
    )
    p = _sub(
        config_sub,
        "init",
        "write a commented starter config file (0600); asks on a terminal",
        local="config_cmd:config_init_cmd",
        server=False,
    )
    p.add_argument("--base-url", metavar="URL", default=argparse.SUPPRESS, help="the server")
    p.add_argument(
        "--profile",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help='the profile to write (default "default")',
    )
    source = p.add_mutually_exclusive_group()
    source.add_argument("--token-env", metavar="NAME", help="the variable holding the token")
    source.add_argument(
        "--token-command", metavar="COMMAND", help='a command printing it: "pass show opsera/prod"'
    )
    source.add_argument("--token-file", metavar="PATH", help="a file holding it (chmod 600)")
    p = _sub(
        config_sub,
        "show",
        "the effective settings and where each came from (never the token)",
        local="config_cmd:config_show_cmd",
    )
    p.add_argument("--json", action="store_true", help="print JSON on stdout")


def _doctor(sub: Any) -> None:
    p = _sub(
        sub,
        "doctor",
        "check the config, the token, TLS, the server, the token's scope and the answers' "
        "shapes; sends nothing that changes anything",
        local="doctor:doctor_cmd",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per check on stdout")


def _audit(sub: Any) -> None:
    p = _sub(
        sub,
        "audit",
        "the audit log: every action taken, newest last",
        local="audit_cmd:audit_cmd",
        server=False,
    )
    p.add_argument(
        "--profile", metavar="NAME", default=argparse.SUPPRESS, help="only actions on this profile"
    )
    p.add_argument("--since", metavar="AGE", type=_age, help="only the last AGE: 90m, 24h, 2d, 1w")
    p.add_argument(
        "--last",
        metavar="N",
        type=_positive_int,
        help="read only the log's last N entries (however long the log), then --since/--profile",
    )
    p.add_argument("--json", action="store_true", help="the entries as JSON lines")


def _sim(sub: Any) -> None:
    p = sub.add_parser(
        "sim",
        help="run the Opsera simulator in the foreground",
        description="Run the Opsera simulator in the foreground (Ctrl-C stops it).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--token", help="the simulator's token (default: a random one, printed)")
    p.add_argument("--pipelines", type=_positive_int, default=40, metavar="N")
    p.add_argument("--seed", type=int, default=None, metavar="N")
    p.add_argument("--speed", type=float, default=1.0, metavar="X")
    p.add_argument("--faults", metavar="SPEC", default="", help=FAULTS_HELP)
    p.set_defaults(command=None, local=None)


COMMANDS: dict[str, Callable[[Any], None]] = {
    "list": _list,
    "show": _show,
    **{action: _action(action) for action in _PIPELINE_ACTIONS},
    "update": _update,
    "clone": _clone,
    "tasks": _tasks,
    "task": _task,
    "logs": _logs,
    "approvals": _approvals,
    "config": _config,
    "doctor": _doctor,
    "audit": _audit,
    "sim": _sim,
}
"""Every subcommand and what adds it to the command line, in the order ``--help`` lists them."""


class _Unparsed(Exception):
    """A one-command parser could not read the arguments: the whole command line will say why."""


class _OneCommandParser(_Parser):
    """The command line with one command only: an error raises, to be told by the whole one."""

    def error(self, message: str) -> NoReturn:
        raise _Unparsed(message)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, the same with that one command (quicker to build)."""
    parser_class = _Parser if only is None else _OneCommandParser
    parser = _top(parser_class)
    sub = parser.add_subparsers(dest="subcommand", metavar="COMMAND", parser_class=parser_class)
    for name, add in COMMANDS.items():
        if only is None or name == only:
            add(sub)
    return parser


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``argv`` (default ``sys.argv[1:]``) parsed as :func:`build_parser` parses it.

    Building the parsers of twenty commands costs more than a list request (argparse looks up
    its translations for every one): the command named in ``argv`` is tried alone first, and the
    whole command line is built only for help, an error, or no command at all.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    named = next((word for word in args if word in COMMANDS), None)
    if named is not None and not any(word in ("-h", "--help") for word in args):
        try:
            return build_parser(only=named).parse_args(args)
        except _Unparsed:
            pass
    return build_parser().parse_args(args)
