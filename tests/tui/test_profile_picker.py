"""The profile picker (``P``): switching server without a restart, between two simulators.

The app is built as ``opstui`` builds it: its profiles listed and loaded by the command line's
own callbacks from a real config file (``tests/conftest.py`` points ``OPSTUI_CONFIG`` at an
isolated one), each profile's token in its own environment variable. What each server received
is read from its own request log.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import OptionList, Static

from opstui.api import PipelineStatus
from opstui.cli.app import Profiles, profiles_for
from opstui.cli.output import Output
from opstui.cli.parser import build_parser
from opstui.config import Settings, load_settings
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.app import OpstuiApp
from opstui.tui.commands import commands_for
from opstui.tui.dialogs.profiles import ProfilePicker
from opstui.tui.screens.approvals import ApprovalsScreen
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.pipelines import PipelinesScreen
from opstui.tui.screens.tasks import TasksScreen
from opstui.tui.widgets.status_bar import StatusBar
from tests.conftest import TOKEN
from tests.tui.conftest import action_bodies, first_with, highlight, notes, settle, until

BETA_TOKEN = "beta-token-77c1d2e3f4"
"""The second simulator's token: the first one's (``TOKEN``) is worth nothing there."""


@pytest.fixture
def beta(clock: ManualClock) -> Iterator[SimServer]:
    """A second simulator with a world of its own and a token of its own."""
    world = World(seed=11, pipelines=6, tasks=2, clock=clock)
    with SimServer(world, token=BETA_TOKEN) as server:
        yield server


@pytest.fixture
def config(
    sim: SimServer, beta: SimServer, isolated_user: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A config file with four profiles: two that work, two whose token cannot be read."""
    loose = isolated_user / "loose-token"
    loose.write_text("whatever\n")
    loose.chmod(0o644)
    path = Path(os.environ["OPSTUI_CONFIG"])
    path.write_text(
        f"""
default_profile = "alpha"
refresh = 3600

[profiles.alpha]
base_url = "{sim.base_url}"
token_env = "ALPHA_TOKEN"

[profiles.beta]
base_url = "{beta.base_url}"
token_env = "BETA_TOKEN"
read_only = true

[profiles.broken]
base_url = "{beta.base_url}"
token_command = ["false"]

[profiles.loose]
base_url = "{beta.base_url}"
token_file = "{loose}"
"""
    )
    monkeypatch.setenv("ALPHA_TOKEN", TOKEN)
    monkeypatch.setenv("BETA_TOKEN", BETA_TOKEN)
    return path


def build(clock: ManualClock, tmp_path: Path, *argv: str) -> OpstuiApp:
    """The app on the default profile, with the command line's own profile callbacks."""
    args = build_parser().parse_args(list(argv))
    overrides: dict[str, Any] = {"bell": False, "crash_dir": tmp_path / "crashes"}
    settings = load_settings(profile=args.profile).with_overrides(**overrides)
    profiles = profiles_for(args, Output(), overrides)
    return OpstuiApp(
        settings,
        now=clock.now,
        profiles=profiles.listed,
        load_profile=profiles.load,
        no_switch=profiles.fixed,
    )


def header(app: OpstuiApp) -> str:
    """The pipelines screen's status line, as shown."""
    return app.screen_stack[0].query_one(StatusBar).left_text.plain


async def open_picker(pilot: Pilot[Any]) -> ProfilePicker:
    await pilot.press("P")
    picker = pilot.app.screen
    assert isinstance(picker, ProfilePicker)
    await until(pilot, lambda: picker.profiles)
    return picker


async def pick(pilot: Pilot[Any], picker: ProfilePicker, name: str) -> None:
    index = [p.name for p in picker.profiles].index(name)
    picker.query_one(OptionList).highlighted = index
    await pilot.press("enter")


def picker_error(picker: ProfilePicker) -> str:
    return str(picker.query_one("#profile-error", Static).content)


async def test_the_picker_switches_server_and_the_old_token_goes_nowhere_else(
    config: Path, sim: SimServer, beta: SimServer, clock: ManualClock, tmp_path: Path
) -> None:
    app = build(clock, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert header(app).startswith("alpha · ")
        assert set(app.store.pipelines) == set(sim.world.pipeline_ids())
        first = app.screen_stack[0]
        assert isinstance(first, PipelinesScreen)
        await pilot.press("space")  # a mark on alpha
        assert first.marked
        await pilot.press("A")  # and the inbox open over it
        assert isinstance(app.screen, ApprovalsScreen)

        picker = await open_picker(pilot)
        rows = {p.name: p for p in picker.profiles}
        assert list(rows) == ["alpha", "beta", "broken", "loose"]
        assert rows["beta"].base_url == beta.base_url and rows["beta"].read_only
        assert rows["alpha"].default
        shown = "\n".join(str(o.prompt) for o in picker.query_one(OptionList).options)
        assert TOKEN not in shown and BETA_TOKEN not in shown
        assert "ALPHA_TOKEN" in shown and "(current, default)" in shown
        alpha_seen = len(sim.requests)
        await pick(pilot, picker, "beta")
        await until(pilot, lambda: app.settings.profile == "beta")
        await settle(pilot)

        # one fresh pipelines screen: no inbox, no marks, the new server's data
        assert len(app.screen_stack) == 1
        screen = app.screen_stack[0]
        assert isinstance(screen, PipelinesScreen) and screen is not first
        assert not first.is_attached
        assert screen.marked == set()
        assert set(app.store.pipelines) == set(beta.world.pipeline_ids())
        assert header(app).startswith("beta · read-only · ")
        assert "Now on beta" in notes(app)

        await pilot.press("ctrl+r")
        await settle(pilot)
        # alpha hears nothing more; every request beta got carried beta's own token (its
        # only token: the first profile's would have been refused, and nothing applied)
        assert len(sim.requests) == alpha_seen
        assert beta.requests and all(r.applied for r in beta.requests)


async def test_a_profile_that_fails_to_load_says_why_and_the_app_stays(
    config: Path, sim: SimServer, beta: SimServer, clock: ManualClock, tmp_path: Path
) -> None:
    app = build(clock, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        first = app.screen_stack[0]
        await pilot.press("space")
        marked = set(first.marked)  # type: ignore[attr-defined]
        client = app.client
        picker = await open_picker(pilot)

        await pick(pilot, picker, "broken")
        await until(pilot, lambda: picker.loading_profile is None)
        said = picker_error(picker)
        assert "broken" in said and "`false`" in said and "\n" not in said

        await pick(pilot, picker, "loose")
        await until(pilot, lambda: "loose" in picker_error(picker))
        assert "readable" in picker_error(picker) or "644" in picker_error(picker)

        assert app.screen is picker  # still choosing
        await pilot.press("escape")
        await settle(pilot)
        assert app.settings.profile == "alpha" and app.client is client
        assert app.screen_stack[0] is first and first.marked == marked  # type: ignore[attr-defined]
        assert beta.requests == []  # nothing went to the other server


async def test_switching_is_refused_while_an_action_is_on_its_way(
    config: Path, sim: SimServer, beta: SimServer, clock: ManualClock, tmp_path: Path
) -> None:
    app = build(clock, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await highlight(pilot, first_with(app, PipelineStatus.SUCCESS))
        # the server takes the run and answers late
        sim.add_fault(
            "POST", "/api/v2/actions", status=200, body='{"status":"ok"}', delay=3, action="run"
        )
        await pilot.press("r", "y")
        await until(pilot, lambda: action_bodies(sim, "run"))
        await pilot.press("P")
        assert not isinstance(app.screen, ProfilePicker)
        assert any("An action is on its way" in note for note in notes(app))
        beta_settings = load_settings(profile="beta")
        assert await app.switch_profile(beta_settings) is False
        assert app.settings.profile == "alpha"
        assert beta.requests == []
        await until(pilot, lambda: not app.actions.in_flight, tries=4000)


async def test_the_palette_offers_the_picker(
    config: Path, sim: SimServer, clock: ManualClock, tmp_path: Path
) -> None:
    app = build(clock, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        found = {title: help for title, help, _ in commands_for(app.screen, app)}
        assert "(P)" in found["Switch profile"]
        await pilot.press("ctrl+p", *"Switch profile")
        commands = app.screen.query_one(CommandList)
        await until(pilot, lambda: commands.option_count == 1)
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, ProfilePicker))


@pytest.mark.parametrize(
    ("argv", "env", "said"),
    [
        (("--base-url", "{alpha}"), {}, "--base-url fixes the server for this run"),
        ((), {"OPSTUI_BASE_URL": "{alpha}"}, "OPSTUI_BASE_URL fixes the server"),
    ],
)
async def test_a_server_fixed_by_the_command_line_is_not_switched(
    config: Path,
    sim: SimServer,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
    env: dict[str, str],
    said: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(alpha=sim.base_url))
    app = build(clock, tmp_path, *(a.format(alpha=sim.base_url) for a in argv))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        assert not isinstance(app.screen, ProfilePicker)
        (line,) = [note for note in notes(app) if said in note]
        assert "\n" not in line


def test_the_demo_does_not_offer_the_picker() -> None:
    args = build_parser().parse_args(["--demo"])
    profiles = profiles_for(args, Output())
    assert profiles == Profiles(fixed=profiles.fixed)
    assert profiles.fixed is not None and "demo" in profiles.fixed


async def test_a_client_that_cannot_be_made_keeps_the_current_server(
    config: Path, sim: SimServer, beta: SimServer, clock: ManualClock, tmp_path: Path
) -> None:
    app = build(clock, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        no_token = Settings(base_url=beta.base_url, profile="beta", refresh=3600)
        assert await app.switch_profile(no_token) is False
        await settle(pilot)
        assert app.settings.profile == "alpha"
        assert any(note.startswith("Cannot switch to beta: no token") for note in notes(app))
        assert header(app).startswith("alpha · ")
        sim.requests.clear()
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert sim.requests and all(r.applied for r in sim.requests)  # alpha, still live
        assert beta.requests == []


@pytest.mark.parametrize(("key", "screen"), [("enter", DetailsScreen), ("t", TasksScreen)])
async def test_switching_from_details_or_tasks_ends_their_poll_on_the_old_server(
    config: Path,
    sim: SimServer,
    beta: SimServer,
    clock: ManualClock,
    tmp_path: Path,
    key: str,
    screen: type[Screen[Any]],
) -> None:
    app = build(clock, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, screen))
        await settle(pilot)
        picker = await open_picker(pilot)
        await pick(pilot, picker, "beta")
        await until(pilot, lambda: app.settings.profile == "beta")
        await settle(pilot)
        assert len(app.screen_stack) == 1 and isinstance(app.screen, PipelinesScreen)
        alpha_seen = len(sim.requests)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(sim.requests) == alpha_seen
        assert beta.requests and all(r.applied for r in beta.requests)


async def test_a_profile_without_a_theme_gets_the_default_not_the_last_ones(
    config: Path, beta: SimServer, clock: ManualClock, tmp_path: Path
) -> None:
    text = config.read_text().replace(
        'token_env = "ALPHA_TOKEN"\n', 'token_env = "ALPHA_TOKEN"\ntheme = "nord"\n', 1
    )
    config.write_text(text)
    app = build(clock, tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        picker = await open_picker(pilot)
        await pick(pilot, picker, "beta")
        await until(pilot, lambda: app.settings.profile == "beta")
        await settle(pilot)
        assert app.theme == "textual-dark"  # Textual's default, as at a start on beta
