"""The one entry point, ``opstui``: opens the app, runs the simulator, or runs a subcommand.

``main(argv)`` parses the arguments, loads the settings, runs one command with ``asyncio.run``
and returns its exit code; every error the client, the settings or the audit log can raise
becomes one ``opstui: error: ...`` line on stderr and a documented exit code (see ``EPILOG``).
Ctrl-C and SIGTERM end a command the same way (130, 143), after its audit line is written.

The package: :mod:`~opstui.cli.parser` (the command line, with :mod:`~opstui.cli.commands` and
:mod:`~opstui.cli.options`), :mod:`~opstui.cli.reads`,
:mod:`~opstui.cli.approvals` (with :mod:`~opstui.cli.watch`) and
:mod:`~opstui.cli.actions` (the commands that talk to a server), :mod:`~opstui.cli.config_cmd`,
:mod:`~opstui.cli.doctor` and :mod:`~opstui.cli.audit_cmd` (the local ones),
:mod:`~opstui.cli.app` (the app, the demo, the simulator), :mod:`~opstui.cli.output` (how it
writes). None of them imports Textual unless the app is opened, and a subcommand imports only
the modules it runs (see :class:`~opstui.cli.commands.Deferred`).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence

from opstui.api import OpseraError
from opstui.cli.commands import MUTATING, Command
from opstui.cli.errors import (
    NO_SERVER_HINT,
    Interrupted,
    NotSentError,
    UsageError,
    describe_error,
    exit_code,
)
from opstui.cli.options import EPILOG
from opstui.cli.output import (
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
)
from opstui.cli.parser import build_parser, parse_arguments
from opstui.cli.settings import settings_from
from opstui.config import ConfigError, Settings, crash_dir_path

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
    "build_parser",
    "main",
]


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


def _verb(args: argparse.Namespace) -> str:
    """``run``, ``task stop``: the command as typed."""
    return f"task {args.action}" if args.subcommand == "task" else str(args.subcommand)


def _server_settings(args: argparse.Namespace, loaded: list[Settings]) -> Settings:
    """The settings of a command that talks to the server, refused (nothing sent) when there is
    no server, or when it would change something on a read-only profile."""
    settings = settings_from(args, read_token=False)
    if not settings.base_url:
        raise UsageError(NO_SERVER_HINT)
    if settings.read_only and _verb(args).removeprefix("task ") in MUTATING:
        why = settings.origins.get("read_only", "")
        where = f" ({why})" if why and why != "default" else ""
        raise UsageError(
            f"read-only{where}: `opstui {_verb(args)}` would change something; nothing was sent"
        )
    settings = settings_from(args)
    loaded.append(settings)
    return settings


def _dispatch(args: argparse.Namespace, out: Output, loaded: list[Settings]) -> int:
    if args.subcommand is None:
        from opstui.cli.app import run_app  # the app, the demo: only when they are opened

        return run_app(args, out)
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
        from opstui.cli.app import run_sim

        return run_sim(args, out)
    if args.pipelines is not None:
        raise UsageError("--pipelines goes with --demo (or: opstui sim --pipelines N)")
    if args.local is not None:
        code: int = args.local(args, out)
        return code
    settings = _server_settings(args, loaded)
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
        args = parse_arguments(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        if exit_.code is None:
            return EXIT_OK
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except BrokenPipeError:  # opstui --help | head -n 1
        out.drop_stdout()
        return EXIT_OK
    quiet_interrupt = args.subcommand == "sim" or bool(getattr(args, "watch", False))
    loaded: list[Settings] = []

    def token_hint() -> str:
        source = loaded[-1].token_source if loaded else None
        return source.describe() if source is not None else "OPSTUI_TOKEN"

    try:
        return _dispatch(args, out, loaded)
    except UsageError as error:
        out.error(str(error))
        return EXIT_USAGE
    except ConfigError as error:
        out.error(str(error))
        return EXIT_USAGE
    except NotSentError as wrapped:
        out.error(f"{describe_error(wrapped.error, token_hint())}; nothing was sent")
        return exit_code(wrapped.error)
    except OpseraError as error:
        out.error(describe_error(error, token_hint()))
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
    from opstui.crash import write_crash_report

    report, _ = write_crash_report(bug, crash_dir_path(), out.redact)
    where = f"; the details are in {report}: please attach it to a bug report" if report else ""
    out.error(
        f"internal error (a bug in opstui): {clean(type(bug).__name__, 60)}: "
        f"{clean(out.redact(str(bug)), 200)}{where}"
    )
    return EXIT_BUG
