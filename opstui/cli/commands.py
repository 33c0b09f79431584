"""Every subcommand: what it accepts, its help, and the function it runs.

Each subcommand is named here by its module and function and imported only when it runs, so
that ``opstui list`` loads the code of a list, not that of doctor, audit or the actions.
:data:`COMMANDS` adds each one to the command line that :mod:`opstui.cli.parser` builds.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Coroutine
from typing import Any, get_args

from opstui.api.listing import SortOption
from opstui.cli.options import EPILOG, age, positive_int, seconds, server_options, state
from opstui.cli.output import Output
from opstui.config import Settings
from opstui.sim.faults import FAULTS_HELP

__all__ = ["COMMANDS", "MUTATING", "Command", "Deferred", "LocalCommand"]

MUTATING = frozenset({"run", "stop", "reset", "approve", "reject", "delete", "update", "clone"})
"""Every command that changes something: refused, with nothing sent, when read-only."""

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
        server_options(parser, top=False)
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
        type=state,
        help="keep only this derived status (repeat or comma separate): awaiting-approval, "
        "running, paused, failed, success, stopped, idle, unknown",
    )


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
    p.add_argument("--run", type=positive_int, metavar="N", help="only run N")
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
        type=seconds(0.5),
        default=5.0,
        metavar="SECONDS",
        help="with --watch: seconds between polls (default 5)",
    )
    p.add_argument("--max-polls", type=positive_int, default=None, help=argparse.SUPPRESS)


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
    p.add_argument("--since", metavar="AGE", type=age, help="only the last AGE: 90m, 24h, 2d, 1w")
    p.add_argument(
        "--last",
        metavar="N",
        type=positive_int,
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
    p.add_argument("--pipelines", type=positive_int, default=40, metavar="N")
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
