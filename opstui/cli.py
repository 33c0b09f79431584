"""The one entry point, ``opstui``: opens the app, runs the simulator, or runs a subcommand.

``main(argv)`` parses the arguments, loads the settings, runs one command with ``asyncio.run``
and returns its exit code; every error the client, the settings or the audit log can raise
becomes one ``opstui: error: ...`` line on stderr and a documented exit code (see ``EPILOG``).
Ctrl-C and SIGTERM end a command the same way (130, 143), after its audit line is written.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import secrets
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal, NoReturn, get_args

from opstui import __version__
from opstui.api import (
    AuthenticationError,
    InvalidResponseError,
    OpseraError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    RequestRefusedError,
    ServerError,
    SortOption,
    TransportError,
)
from opstui.cli_actions import (
    Interrupted,
    NotSentError,
    UsageError,
    cmd_action,
    cmd_clone,
    cmd_update,
)
from opstui.cli_output import (
    EXIT_AUTH,
    EXIT_BUG,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SERVER,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Output,
    clean,
    crash_report,
)
from opstui.cli_reads import cmd_approvals, cmd_list, cmd_logs, cmd_show, cmd_tasks, parse_states
from opstui.config import ConfigError, Secret, Settings, audit_log_path, load_settings
from opstui.sim.faults import FAULTS_HELP, parse_faults

__all__ = [
    "EPILOG",
    "EXIT_AUTH",
    "EXIT_BUG",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SERVER",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "main",
]

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
       delete without --yes when not on a terminal, a malformed id)
  3    authentication (401) or permission (403) refused: check OPSTUI_TOKEN and
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
  OPSTUI_TOKEN      the access token; it is only ever read from the environment
                    and never printed
  OPSTUI_PROFILE, OPSTUI_TIMEOUT, OPSTUI_CONFIG, OPSTUI_AUDIT_LOG, NO_COLOR

Every action is checked first (one status request for all targets), sent as one
request, and recorded in the audit log (OPSTUI_AUDIT_LOG).
"""

JSON_HELP = (
    "print JSON on stdout: per pipeline id, name, status (derived), state, active, step, "
    "run_count, last_run {status, completed}, gate {id, name}, waiting_since, waited_seconds, "
    "type, owner, tags, updated_at"
)

Command = Callable[[argparse.Namespace, Settings, Output], Coroutine[Any, Any, int]]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors say ``opstui: error:`` on one line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        if "--token" in message and self.prog.split()[-1] != "sim":
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
    try:
        parse_states([text])
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _server_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """--base-url, --profile and --timeout, before or after the subcommand."""
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


def _sub(
    subparsers: Any, name: str, help: str, command: Command, **defaults: Any
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=help,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _server_options(parser, top=False)
    parser.set_defaults(command=command, **defaults)
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


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = _Parser(
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
    sub = parser.add_subparsers(dest="subcommand", metavar="COMMAND", parser_class=_Parser)

    p = _sub(sub, "list", "list pipelines", cmd_list)
    _filter_options(p, "pipelines")
    p.add_argument("--json", action="store_true", help=JSON_HELP)

    p = _sub(sub, "show", "show one pipeline in full", cmd_show)
    p.add_argument("id", metavar="ID")
    p.add_argument("--json", action="store_true", help="the JSON view plus the raw document")

    for action, text in (
        ("run", "start a run of each pipeline"),
        ("stop", "stop each pipeline's run"),
        ("reset", "reset each pipeline"),
        ("approve", "approve the gate each pipeline waits at"),
        ("reject", "reject the gate each pipeline waits at, with a reason"),
        ("delete", "delete pipelines (asks on a terminal; --yes otherwise)"),
    ):
        p = _sub(sub, action, text, cmd_action, action=action, kind="pipeline")
        p.add_argument("ids", nargs="+", metavar="ID")
        if action == "reject":
            p.add_argument("--reason", metavar="TEXT", help="why (required; sent to the server)")
        if action == "delete":
            p.add_argument("--yes", action="store_true", help="do not ask")
        p.add_argument("--force", action="store_true", help="skip the status check")

    p = _sub(sub, "update", "change a pipeline's name or description", cmd_update)
    p.add_argument("id", metavar="ID")
    p.add_argument("--name", metavar="NAME")
    p.add_argument("--description", metavar="TEXT")
    p.add_argument("--force", action="store_true", help="skip the existence check")

    p = _sub(sub, "clone", "copy a pipeline under a new name", cmd_clone)
    p.add_argument("id", metavar="ID")
    p.add_argument("--name", metavar="NEW", required=True)

    p = _sub(sub, "tasks", "list tasks", cmd_tasks)
    _filter_options(p, "tasks")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")

    p = _sub(sub, "task", "run or stop tasks", cmd_action, kind="task")
    task_sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (("run", "start each task"), ("stop", "stop each task")):
        tp = _sub(task_sub, action, text, cmd_action, action=action, kind="task")
        tp.add_argument("ids", nargs="+", metavar="ID")
        tp.add_argument("--force", action="store_true", help="skip the status check")

    p = _sub(sub, "logs", "a pipeline's activity log, newest first", cmd_logs)
    p.add_argument("id", metavar="ID")
    p.add_argument("--run", type=_positive_int, metavar="N", help="only run N")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")

    p = _sub(sub, "approvals", "what waits for approval, longest waiting first", cmd_approvals)
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
    p.set_defaults(command=None)
    return parser


# -- errors -----------------------------------------------------------------------------------


def exit_code(error: OpseraError) -> int:
    """The exit code for an error from the client."""
    if isinstance(error, OutcomeUnknownError):
        return EXIT_SERVER
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return EXIT_AUTH
    if isinstance(error, RequestRefusedError):
        return EXIT_USAGE
    if isinstance(error, TransportError | ServerError | InvalidResponseError | RateLimitedError):
        return EXIT_SERVER
    return EXIT_FAILED


def _describe(error: OpseraError) -> str:
    text = f"{error.title.lower()}: {error.message}"
    if isinstance(error, AuthenticationError):
        text += "; check OPSTUI_TOKEN"
    elif isinstance(error, PermissionDeniedError):
        text += "; the token's scope or your role does not allow this"
    return text


# -- the app, the demo and the simulator --------------------------------------------------------


def _open_app(settings: Settings, start: Literal["pipelines", "approvals"]) -> int:
    """Open the Textual app (imported only here: the subcommands never pay for Textual)."""
    from opstui.tui.app import OpstuiApp

    app = OpstuiApp(settings, start=start)
    app.run()
    return app.return_code or EXIT_OK


def _run_app(args: argparse.Namespace, out: Output) -> int:
    start: Literal["pipelines", "approvals"] = "approvals" if args.approvals else "pipelines"
    app_options = {"bell": args.bell, "desktop": args.desktop_notify}
    if not args.demo:
        if args.pipelines is not None:
            raise UsageError("--pipelines goes with --demo")
        settings = load_settings(
            profile=args.profile,
            base_url=args.base_url,
            timeout=args.timeout,
            refresh=args.refresh,
        ).with_overrides(**app_options)
        _, token = settings.require_server()
        out.hide(token)
        return _open_app(settings, start)
    from opstui.sim.clock import RealClock
    from opstui.sim.server import SimServer
    from opstui.sim.world import World

    token = secrets.token_urlsafe(24)
    out.hide(token)
    settings = load_settings(timeout=args.timeout, refresh=args.refresh)
    world = World(
        seed=secrets.randbelow(2**31),
        pipelines=args.pipelines or 40,
        tasks=12,
        clock=RealClock(),
    )
    # The demo runs for as long as the app does: its request log must not grow without end.
    with SimServer(world, token=token, host="127.0.0.1", port=0, max_requests=10_000) as server:
        demo = settings.with_overrides(
            base_url=server.base_url, token=Secret(token), profile="demo", **app_options
        )
        return _open_app(demo, start)


def _run_sim(args: argparse.Namespace, out: Output) -> int:
    from opstui.sim.server import run_sim

    if not (math.isfinite(args.speed) and args.speed > 0):
        raise UsageError("--speed must be a positive number")
    try:
        faults = parse_faults(args.faults)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        run_sim(
            host=args.host,
            port=args.port,
            token=args.token,
            pipelines=args.pipelines,
            seed=args.seed,
            speed=args.speed,
            faults=faults,
            print_fn=out.line,
        )
    except OSError as exc:  # the address cannot be bound
        raise UsageError(
            f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}"
        ) from None
    return EXIT_OK


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(profile=args.profile, base_url=args.base_url, timeout=args.timeout)


async def _interruptible(
    command: Command, args: argparse.Namespace, settings: Settings, out: Output
) -> int:
    """Run ``command``; Ctrl-C or SIGTERM cancels it (its audit line is still written) and
    ends it with :class:`Interrupted`. A second signal is left to its default."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received: list[int] = []

    def on_signal(signum: int) -> None:
        received.append(signum)
        loop.remove_signal_handler(signum)
        task.cancel()

    installed: list[int] = []
    for wanted in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(wanted, on_signal, wanted)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
            continue
        installed.append(wanted)
    try:
        return await command(args, settings, out)
    except asyncio.CancelledError:
        if not received:
            raise
        task.uncancel()
        raise Interrupted(signum=received[0]) from None
    except Interrupted as interrupted:
        if received:
            task.uncancel()
            interrupted.signum = received[0]
        raise
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


# -- main ---------------------------------------------------------------------------------------


def _dispatch(args: argparse.Namespace, out: Output) -> int:
    if args.subcommand is None:
        return _run_app(args, out)
    app_only = [
        flag
        for flag, given in (
            ("--demo", args.demo),
            ("--approvals", args.approvals),
            ("--refresh", args.refresh is not None),
            ("--no-bell", args.bell is False),
            ("--desktop-notify", args.desktop_notify is not None),
        )
        if given
    ]
    if app_only:
        raise UsageError(f"{', '.join(app_only)} go with the app: give no command with them")
    if args.subcommand == "sim":
        return _run_sim(args, out)
    if args.pipelines is not None:
        raise UsageError("--pipelines goes with --demo (or: opstui sim --pipelines N)")
    settings = _settings(args)
    if settings.token is not None:
        out.hide(settings.token.reveal())
    command: Command = args.command
    if getattr(args, "watch", False):  # it stops on its own, with 0
        return asyncio.run(command(args, settings, out))
    return asyncio.run(_interruptible(command, args, settings, out))


def _interrupted(interrupted: Interrupted, out: Output) -> int:
    terminated = interrupted.signum == signal.SIGTERM
    what = "terminated (SIGTERM)" if terminated else "interrupted"
    out.error(f"{what}: {interrupted.detail}" if interrupted.detail else what)
    return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    out = Output()
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        if exit_.code is None:
            return EXIT_OK
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except BrokenPipeError:  # opstui --help | head -n 1
        out.drop_stdout()
        return EXIT_OK
    quiet_interrupt = args.subcommand == "sim" or bool(getattr(args, "watch", False))
    try:
        return _dispatch(args, out)
    except UsageError as error:
        out.error(str(error))
        return EXIT_USAGE
    except ConfigError as error:
        out.error(str(error))
        return EXIT_USAGE
    except NotSentError as wrapped:
        out.error(f"{_describe(wrapped.error)}; nothing was sent")
        return exit_code(wrapped.error)
    except OpseraError as error:
        out.error(_describe(error))
        return exit_code(error)
    except Interrupted as interrupted:
        if quiet_interrupt:
            return EXIT_OK
        return _interrupted(interrupted, out)
    except KeyboardInterrupt:
        if quiet_interrupt:
            return EXIT_OK
        out.error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        out.drop_stdout()
        return EXIT_OK
    except Exception as bug:  # a bug: one line and a report file, never a traceback
        return _crashed(bug, out)


def _crashed(bug: Exception, out: Output) -> int:
    report = crash_report(bug, audit_log_path().parent, out)
    where = f"; the details are in {report}: please attach it to a bug report" if report else ""
    out.error(
        f"internal error (a bug in opstui): {clean(type(bug).__name__, 60)}: "
        f"{clean(out.redact(str(bug)), 200)}{where}"
    )
    return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
