"""Issue 9 in the app: read-only profiles, the header's profile and TLS warning, themes, the keymap.

Against the seeded simulator over loopback, with the manual clock: every key is really pressed,
and what the server received is read from the simulator's own request log.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from opstui.tui.app import OpstuiApp
from opstui.tui.commands import commands_for
from opstui.tui.dialogs import ConfirmDialog, HelpScreen
from opstui.tui.screens._explain import READ_ONLY
from opstui.tui.screens.approvals import ApprovalsScreen
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.tasks import TasksScreen
from opstui.tui.widgets.status_bar import StatusBar
from tests.tui.conftest import (
    MakeApp,
    audit_lines,
    first_with,
    highlight,
    notes,
    screen_of,
    settle,
    shown_text,
    until,
)

READ_POSTS = "/api/v1/pipeline/logs"
"""The one POST that only reads (the activity log)."""

PIPELINE_KEYS = ("r", "s", "R", "a", "x", "e", "c", "D")
"""Every mutating key of the pipelines and details screens."""


def mutating_requests(sim: SimServer) -> list[str]:
    """Every request received that could change something (all but reads and status)."""
    changed = []
    for request in sim.requests:
        if request.method == "GET" or request.path == READ_POSTS:
            continue
        body = request.body
        is_action = request.path == "/api/v2/actions" and isinstance(body, dict)
        if is_action and body.get("action") == "status":
            continue
        changed.append(f"{request.method} {request.path} {body!r}")
    return changed


def footer_keys(app: OpstuiApp) -> dict[str, FooterKey]:
    """The footer's keys on the current screen, by description."""
    return {key.description: key for key in app.screen.query(FooterKey)}


def help_rows(app: OpstuiApp) -> dict[str, str]:
    """The open help screen's rows: description -> keys."""
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    return {text: keys for _, rows in screen.sections for keys, text in rows}


async def press_all(pilot: Pilot[Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
        assert not isinstance(pilot.app.screen, ConfirmDialog), key  # no dialog ever opens


# -- read-only --------------------------------------------------------------------------------


async def test_read_only_sends_nothing_from_any_key_on_any_screen(
    make_app: MakeApp, sim: SimServer, audit_path: Any
) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.store.loaded  # reads work as usual
        screen = screen_of(app)
        status = screen.query_one(StatusBar).left_text.plain
        assert status.startswith("sim · read-only")

        for state in (
            PipelineStatus.SUCCESS,
            PipelineStatus.RUNNING,
            PipelineStatus.AWAITING_APPROVAL,
        ):
            await highlight(pilot, first_with(app, state))
            for action in ("run", "stop", "approve", "reject", "delete"):
                assert screen.check_action(action, ()) is None  # greyed in the footer
            await press_all(pilot, PIPELINE_KEYS)
        assert READ_ONLY in notes(app)
        assert footer_keys(app)["Approve"].has_class("-disabled")
        assert not footer_keys(app)["Filter"].has_class("-disabled")

        # the palette's commands refuse too
        commands = {title: run for title, _, run in commands_for(app.screen, app)}
        for title in ("Run", "Stop", "Reset", "Approve", "Reject", "Edit", "Clone", "Delete"):
            await commands[title]()  # type: ignore[misc]
            await pilot.pause()
            assert not isinstance(app.screen, ConfirmDialog)

        # the approvals inbox
        await pilot.press("A")
        await pilot.pause()
        assert isinstance(app.screen, ApprovalsScreen)
        await press_all(pilot, ("a", "x", "space", "a", "x"))
        await pilot.press("A")
        await pilot.pause()

        # the details of a pipeline awaiting approval
        await highlight(pilot, first_with(app, PipelineStatus.AWAITING_APPROVAL))
        await pilot.press("enter")
        await settle(pilot)
        details = app.screen
        assert isinstance(details, DetailsScreen)
        heading = shown_text(details.query_one("#details-heading", Static), 120)
        assert heading.startswith("sim · read-only · ")
        await press_all(pilot, PIPELINE_KEYS)
        for title, run in {t: r for t, _, r in commands_for(details, app)}.items():
            if title in ("Run", "Stop", "Approve", "Reject", "Delete"):
                await run()  # type: ignore[misc]
                await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()

        # the tasks
        await pilot.press("t")
        await settle(pilot)
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        assert tasks.tasks  # listed as usual
        assert tasks.check_action("run", ()) is None
        await press_all(pilot, ("r", "s", "space", "r", "s"))
        await settle(pilot)

        # and the app's own entry point, should any screen forget
        app.perform_action("run", [next(iter(app.store.pipelines.values()))])
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)

    assert mutating_requests(sim) == []
    assert audit_lines(audit_path) == []


async def test_read_only_keeps_the_live_refresh(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = len(sim.requests)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(sim.requests) > before
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TasksScreen)
        assert READ_ONLY not in notes(app)  # reading says nothing about read-only


# -- the header -------------------------------------------------------------------------------


async def test_header_names_the_profile_and_warns_when_tls_is_not_verified(
    make_app: MakeApp,
) -> None:
    app = make_app(verify_tls=False, profile="staging")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        status = screen_of(app).query_one(StatusBar).left_text.plain
        assert status.startswith("staging · TLS not verified · ")
        await pilot.press("t")
        await settle(pilot)
        heading = shown_text(app.screen.query_one("#tasks-heading", Static), 120)
        assert heading.startswith("staging · TLS not verified · Tasks")
        await pilot.press("escape", "L")
        await settle(pilot)
        heading = shown_text(app.screen.query_one("#audit-heading", Static), 120)
        assert heading.startswith("staging · TLS not verified · Audit log")


async def test_a_verified_profile_shows_no_tls_warning(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        status = screen_of(app).query_one(StatusBar).left_text.plain
        assert status.startswith("sim · ")
        assert "TLS" not in status and "read-only" not in status


# -- theme ------------------------------------------------------------------------------------


async def test_theme_is_applied(make_app: MakeApp) -> None:
    app = make_app(theme="nord")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"


async def test_an_unknown_theme_is_said_once_and_the_default_kept(make_app: MakeApp) -> None:
    app = make_app(theme="no-such-theme")
    default = OpstuiApp.__mro__[1]  # Textual's App: its default theme
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        said = [note for note in notes(app) if "no-such-theme" in note]
        assert len(said) == 1 and "\n" not in said[0]
        assert app.theme == default().theme  # type: ignore[operator]
        assert app.store.loaded


# -- keymap -----------------------------------------------------------------------------------


async def test_a_remapped_key_is_in_the_footer_the_help_and_the_palette_and_works(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app(keymap={"approve": "ctrl+a"})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.keymap_problems == []
        gate = first_with(app, PipelineStatus.AWAITING_APPROVAL)
        await highlight(pilot, gate)
        approve = footer_keys(app)["Approve"]
        assert approve.key == "ctrl+a"
        assert not approve.has_class("-disabled")

        palette = {title: help for title, help, _ in commands_for(app.screen, app)}
        assert palette["Approve"].endswith("(ctrl+a)")

        await pilot.press("question_mark")
        await pilot.pause()
        rows = help_rows(app)
        assert rows["Approve the gate it waits at"] == "ctrl+a"
        assert rows["Run"] == "r"  # the others stay where they were
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("a")  # the old key no longer approves
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)

        await pilot.press("ctrl+a")  # the new one does
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await settle(pilot)
    approved = [
        request.body
        for request in sim.requests
        if isinstance(request.body, dict) and request.body.get("action") == "approve"
    ]
    assert len(approved) == 1


async def test_a_remap_on_the_details_screen_too(make_app: MakeApp) -> None:
    app = make_app(keymap={"run": "f5"})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await highlight(pilot, first_with(app, PipelineStatus.SUCCESS))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailsScreen)
        assert footer_keys(app)["Run"].key == "f5"
        await pilot.press("question_mark")
        await pilot.pause()
        assert help_rows(app)["Run"] == "f5"


async def test_unknown_ids_and_conflicts_are_said_at_start_and_in_the_help(
    make_app: MakeApp,
) -> None:
    app = make_app(keymap={"aprove": "z", "run": "j"})
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        problems = app.keymap_problems
        assert any("'aprove'" in problem for problem in problems)
        assert any(
            "'cursor-down' and 'run' are both on j (pipelines)" in problem for problem in problems
        )
        toasts = [note for note in notes(app) if "aprove" in note]
        assert len(toasts) == 1 and "both on j" in toasts[0]
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        title, rows = screen.sections[0]
        assert title.startswith("Keymap problems")
        assert [text for _, text in rows] == problems


async def test_a_good_keymap_says_nothing(make_app: MakeApp) -> None:
    app = make_app(keymap={"approve": "ctrl+a", "reject": "ctrl+x"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.keymap_problems == []
        assert not [note for note in notes(app) if "keymap" in note]
