"""Running the app (on a server or on the built-in demo simulator) and the simulator alone.

Textual and the simulator are imported only inside these functions: the subcommands never pay
for them (``tests/test_layers.py``), and the app on a server never loads the simulator.
"""

from __future__ import annotations

import argparse
import math
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from opstui.cli.errors import NO_SERVER_HINT, UsageError
from opstui.cli.output import EXIT_OK, Output
from opstui.config import (
    ProfileInfo,
    Secret,
    Settings,
    config_path,
    list_profiles,
    load_settings,
)

if TYPE_CHECKING:
    from opstui.tui.screens.setup import SetupChoice

__all__ = ["Profiles", "open_app", "profiles_for", "run_app", "run_sim"]

Start = Literal["pipelines", "approvals"]


@dataclass(frozen=True)
class Profiles:
    """What the app's profile picker may do: list the profiles and load one, or why it cannot."""

    listed: Callable[[], list[ProfileInfo]] | None = None
    """The config file's profiles (nothing read from any token source)."""
    load: Callable[[str], Settings] | None = None
    """One profile's settings, its token read; ConfigError when it cannot be used."""
    fixed: str | None = None
    """Why the server cannot be switched in this run (the picker says it and opens nothing)."""


def profiles_for(
    args: argparse.Namespace,
    out: Output,
    app_options: Mapping[str, Any] | None = None,
    *,
    demo: bool = False,
) -> Profiles:
    """The picker's callbacks for this run: the same flags apply to every profile loaded.

    A server fixed by ``--base-url`` or ``OPSTUI_BASE_URL`` is not switched: each profile's token
    is bound to its own server, so the override would refuse every profile (as with kubectl's
    ``--server``, the context is pinned for the run). The demo runs on its own simulator.
    """
    if demo or getattr(args, "demo", False):
        return Profiles(
            fixed="The demo runs on its own simulator: `opstui` without --demo "
            "switches between your profiles."
        )
    for given, where in (
        (getattr(args, "base_url", None), "--base-url"),
        (os.environ.get("OPSTUI_BASE_URL"), "OPSTUI_BASE_URL"),
    ):
        if given:
            return Profiles(
                fixed=f"{where} fixes the server for this run (a profile's token goes only to "
                f"its own server): start without it to switch profile."
            )

    def load(name: str) -> Settings:
        settings = load_settings(
            profile=name,
            timeout=args.timeout,
            refresh=args.refresh,
            read_only=args.read_only,
        ).with_overrides(**(app_options or {}))
        settings.require_server()  # no token: a ConfigError naming its source
        if settings.token is not None:
            out.hide(settings.token.reveal())  # never in a line printed after the app ends
        return settings

    return Profiles(listed=list_profiles, load=load)


def open_app(settings: Settings, start: Start, profiles: Profiles | None = None) -> int:
    """Open the Textual app (imported only here: the subcommands never pay for Textual)."""
    from opstui.tui.app import OpstuiApp

    profiles = profiles or Profiles(fixed="No profiles to switch between in this run.")
    app = OpstuiApp(
        settings,
        start=start,
        profiles=profiles.listed,
        load_profile=profiles.load,
        no_switch=profiles.fixed,
    )
    app.run()
    return app.return_code or EXIT_OK


def _app_settings(
    args: argparse.Namespace, app_options: Mapping[str, Any], profile: str | None
) -> Settings:
    return load_settings(
        profile=profile,
        base_url=args.base_url,
        timeout=args.timeout,
        refresh=args.refresh,
        read_only=args.read_only,
    ).with_overrides(**app_options)


def _setup() -> SetupChoice | None:
    """The setup screen, when a person is at a terminal to see it (None otherwise)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None  # a script: the one-line hint, exit 2, as every subcommand
    from opstui.tui.screens.setup import SetupApp

    app = SetupApp(config_path(), list_profiles())
    app.run()
    return app.return_value


def run_app(args: argparse.Namespace, out: Output) -> int:
    """``opstui`` with no command: the app on the configured server, or ``--demo``.

    With no server configured anywhere, a person at a terminal gets the setup screen (``config
    init``, the config path, the profiles to start on, or the demo); a script gets the one-line
    hint and exit 2, as the subcommands do.
    """
    start: Start = "approvals" if args.approvals else "pipelines"
    app_options: dict[str, Any] = {
        "bell": args.bell,
        "desktop": args.desktop_notify,
        "trace": args.trace,
    }
    if args.demo:
        return _run_demo(args, out, start, app_options)
    if args.pipelines is not None:
        raise UsageError("--pipelines goes with --demo")
    settings = _app_settings(args, app_options, args.profile)
    if not settings.base_url:
        choice = _setup()
        if choice is None or choice.what == "quit":
            raise UsageError(NO_SERVER_HINT)
        if choice.what == "demo":
            return _run_demo(args, out, start, app_options)
        settings = _app_settings(args, app_options, choice.profile)
    _, token = settings.require_server()
    out.hide(token)
    del token
    return open_app(settings, start, profiles_for(args, out, app_options))


def _run_demo(
    args: argparse.Namespace, out: Output, start: Start, app_options: Mapping[str, Any]
) -> int:
    """The app on a simulator of its own, on loopback, for as long as the app runs."""
    from opstui.sim.clock import RealClock
    from opstui.sim.server import SimServer
    from opstui.sim.world import World

    token = secrets.token_urlsafe(24)
    out.hide(token)
    # The demo needs no token of the user's: none is read (no token command is run).
    settings = load_settings(
        timeout=args.timeout, refresh=args.refresh, read_only=args.read_only, read_token=False
    )
    world = World(
        seed=secrets.randbelow(2**31),
        pipelines=args.pipelines or 40,
        tasks=12,
        clock=RealClock(),
    )
    # The demo runs for as long as the app does: its request log must not grow without end.
    with SimServer(world, token=token, host="127.0.0.1", port=0, max_requests=10_000) as server:
        demo = settings.with_overrides(
            base_url=server.base_url,
            token=Secret(token),
            profile="demo",
            verify_tls=True,
            ca_bundle=None,
            **app_options,
        )
        return open_app(demo, start, profiles_for(args, out, demo=True))


def run_sim(args: argparse.Namespace, out: Output) -> int:
    """``opstui sim``: the simulator in the foreground until Ctrl-C."""
    from opstui.sim.faults import parse_faults
    from opstui.sim.server import run_sim as serve

    if not (math.isfinite(args.speed) and args.speed > 0):
        raise UsageError("--speed must be a positive number")
    try:
        faults = parse_faults(args.faults)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        serve(
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
