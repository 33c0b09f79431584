"""The whole command line, as an :class:`argparse.ArgumentParser`: its one-line errors, its top
(the app's options and the server's), and the quick path that builds only the command named.

The subcommands are in :mod:`opstui.cli.commands`, what they share (the server options, the
value types, the epilog) in :mod:`opstui.cli.options`; their public names stay importable here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from opstui import __version__
from opstui.cli.commands import COMMANDS, MUTATING, Command, Deferred, LocalCommand
from opstui.cli.options import EPILOG, positive_int, seconds, server_options
from opstui.cli.output import EXIT_USAGE

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
        type=positive_int,
        metavar="N",
        help="with --demo: how many simulated pipelines",
    )
    app = parser.add_argument_group("the app")
    app.add_argument(
        "--refresh",
        metavar="SECONDS",
        type=seconds(1.0),
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
    server_options(parser, top=True)
    return parser


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
