"""ProfilePicker: the config file's profiles, to switch server without a restart (``P``).

Each row names a profile, its server and where its token comes from (never the token), which
one is current, and which are read-only. Choosing one loads it (its token read from its own
source, in a thread: a password manager may take a moment); a profile that fails to load (a token
command that fails, a loose token file) shows its one-line error here, and the app stays where it
is. The dialog answers the loaded :class:`~opstui.config.Settings`, or None.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from opstui.config import ConfigError, ProfileInfo, Settings
from opstui.tui.dialogs._base import DialogScreen, error_line, safe_text, text_line, title_line
from opstui.tui.widgets.footer import KeysFooter

__all__ = ["ProfilePicker", "profile_row"]

ListProfiles = Callable[[], list[ProfileInfo]]
LoadProfile = Callable[[str], Settings]


def profile_row(profile: ProfileInfo, *, current: bool) -> Text:
    """One row of the picker, as plain text: name, server, marks, token source or problem."""
    row = Text("● " if current else "  ", style="bold" if current else "")
    row.append(safe_text(profile.name, 40), style="bold")
    row.append("  ")
    row.append(safe_text(profile.base_url or "no server", 80))
    marks = [
        word
        for shown, word in (
            (current, "current"),
            (profile.read_only, "read-only"),
            (profile.default, "default"),
        )
        if shown
    ]
    if marks:
        row.append(f"  ({', '.join(marks)})", style="italic")
    if profile.problem:
        row.append(f"\n    {safe_text(profile.problem, 200)}", style="red")
    elif profile.token:
        row.append(f"\n    token: {safe_text(profile.token, 120)}", style="dim")
    return row


class ProfilePicker(DialogScreen[Settings | None]):
    """Choose a profile: the settings it loads to (token and all), or None to stay."""

    DEFAULT_CSS = """
    ProfilePicker #profile-list {
        height: auto;
        max-height: 16;
        margin-bottom: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stay", "Stay", id="dialog.cancel"),
    ]

    AUTO_FOCUS = "#profile-list"

    def __init__(self, profiles: ListProfiles, load: LoadProfile, *, current: str | None) -> None:
        """Build the picker.

        Args:
            profiles: Lists the config file's profiles (ConfigError when it cannot be read).
            load: Loads one profile's settings, its token read (ConfigError when it cannot).
            current: The profile the app is on now (None: its server came from elsewhere).
        """
        super().__init__()
        self._list = profiles
        self._load = load
        self.current = current
        self.profiles: list[ProfileInfo] = []
        """The profiles listed, in the file's order."""
        self.loading_profile: str | None = None
        """The profile being loaded now, if any."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield title_line("Switch profile")
            yield text_line(
                "The data, the marks and the inbox belong to one profile: switching starts "
                "afresh on the other server.",
            )
            yield OptionList(id="profile-list")
            yield error_line("profile-error")
            yield text_line("enter switches · escape stays", classes="dialog-line")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._read_profiles()

    @work(thread=True, exclusive=True, group="profiles-list")
    def _read_profiles(self) -> None:
        try:
            listed = self._list()
        except ConfigError as error:
            self.app.call_from_thread(self._show_error, str(error))
            return
        self.app.call_from_thread(self._show, listed)

    def _show(self, profiles: Sequence[ProfileInfo]) -> None:
        self.profiles = list(profiles)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(profile_row(p, current=p.name == self.current), id=f"profile-{index}")
                for index, p in enumerate(self.profiles)
            ]
        )
        for index, profile in enumerate(self.profiles):
            if profile.name == self.current:
                options.highlighted = index
        if not self.profiles:
            self._show_error("no profiles in the config file: `opstui config init` writes one")

    def _show_error(self, message: str) -> None:
        self.set_error("#profile-error", safe_text(message, 300))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option_index)

    def choose(self, index: int) -> None:
        """Switch to the profile at ``index``: load it, then answer its settings."""
        profile = self.profiles[index]
        if profile.name == self.current:
            self.finish(None)  # already there: nothing to switch
            return
        if profile.problem:
            self._show_error(profile.problem)
            return
        self.loading_profile = profile.name
        self.set_error("#profile-error", None)
        self.query_one("#profile-error", Static).update(
            Content(f"reading {safe_text(profile.name, 40)}'s token…")
        )
        self._load_profile(profile.name)

    @work(thread=True, exclusive=True, group="profiles-load")
    def _load_profile(self, name: str) -> None:
        try:
            settings = self._load(name)
        except ConfigError as error:
            self.app.call_from_thread(self._failed, name, str(error))
            return
        self.app.call_from_thread(self._loaded, name, settings)

    def _failed(self, name: str, message: str) -> None:
        if self.loading_profile == name:
            self.loading_profile = None
            self._show_error(f"{name}: {message}")

    def _loaded(self, name: str, settings: Settings) -> None:
        if self.loading_profile == name:
            self.finish(settings)

    def action_stay(self) -> None:
        """Stay on the current profile."""
        self.loading_profile = None
        self.finish(None)
