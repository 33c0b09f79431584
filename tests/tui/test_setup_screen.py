"""The setup screen ``opstui`` shows with no server configured: what to run, or the demo."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList, Static

from opstui.config import ProfileInfo
from opstui.tui.screens.setup import SetupApp, SetupChoice
from tests.tui.conftest import shown_text

CONFIG = Path("/home/ops/.config/opstui/config.toml")


async def test_it_says_what_to_run_and_where_the_file_goes() -> None:
    app = SetupApp(CONFIG)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        guide = shown_text(app.screen.query_one("#setup-guide", Static), 100)
        assert "No Opsera server is configured." in guide
        assert "opstui config init" in guide
        assert str(CONFIG) in guide
        assert "OPSTUI_BASE_URL" in guide
        keys = shown_text(app.screen.query_one("#setup-keys", Static), 100)
        assert "d  try the demo" in keys and "q  quit" in keys
        assert not app.screen.query(OptionList)  # no profiles: none listed
        await pilot.press("d")
    assert app.return_value == SetupChoice("demo")


async def test_q_and_escape_quit() -> None:
    for key in ("q", "escape"):
        app = SetupApp(CONFIG)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            await pilot.press(key)
        assert app.return_value == SetupChoice("quit")


async def test_profiles_of_a_file_without_a_default_can_be_started_on() -> None:
    profiles = [
        ProfileInfo("prod", "https://app.opsera.io", read_only=True, token="x"),
        ProfileInfo("bad", None, problem="profile 'bad' names no base_url"),
        ProfileInfo("[b]staging[/b]\x1b[2J", "https://staging.example", token="y"),
    ]
    app = SetupApp(CONFIG, profiles)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert len(shown) == 2  # the broken one cannot be started on
        assert shown[0].startswith("prod  https://app.opsera.io  (read-only)")
        assert shown[1].startswith("[b]staging[/b]")  # as typed, never markup
        assert "\x1b" not in shown[1]
        guide = shown_text(app.screen.query_one("#setup-guide", Static), 100)
        assert "no default_profile" in guide
        await pilot.press("down", "enter")
    assert app.return_value == SetupChoice("profile", "[b]staging[/b]\x1b[2J")
