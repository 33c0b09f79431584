"""SetupScreen: what ``opstui`` shows when no server is configured anywhere.

It says what to run to configure one (``opstui config init``, and where the file goes), or how
to name one for a shell; it lists the profiles of a file that names no ``default_profile``, to
start on one; and it offers the demo. It talks to no server: :class:`SetupApp` only answers what
was chosen, and the command line does it (the app never starts the simulator itself).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from opstui.config import ProfileInfo
from opstui.tui.format import safe_text
from opstui.tui.widgets.footer import KeysFooter

__all__ = ["SetupApp", "SetupChoice", "SetupScreen"]


@dataclass(frozen=True)
class SetupChoice:
    """What the person chose on the setup screen."""

    what: Literal["demo", "profile", "quit"]
    profile: str | None = None
    """For ``profile``: which one."""


def _guide(config_path: Path, profiles: Sequence[ProfileInfo]) -> Text:
    text = Text()
    text.append("No Opsera server is configured.\n\n", style="bold")
    # No newline inside a sentence: the dialog wraps to the terminal's width (80x24 too).
    text.append("To use your tenant, write a config file (it asks for the base URL and how to ")
    text.append("get the token, and keeps the file private):\n\n")
    text.append("    opstui config init\n\n", style="bold")
    text.append("It goes to ")
    text.append(safe_text(config_path, 200), style="bold")
    text.append(" (OPSTUI_CONFIG names another).\n\nOr, for one shell:\n\n    ")
    text.append("export OPSTUI_BASE_URL=https://...  OPSTUI_TOKEN=...", style="bold")
    text.append("\n\n")
    if profiles:
        text.append("The file names these profiles but no default_profile: enter starts on one ")
        text.append("(or: opstui --profile NAME).\n")
    return text


class SetupScreen(Screen[SetupChoice]):
    """The setup guide: ``d`` the demo, ``enter`` a listed profile, ``q`` quit."""

    DEFAULT_CSS = """
    SetupScreen {
        align: center middle;
    }
    SetupScreen #setup {
        width: 90%;
        max-width: 90;
        height: auto;
        padding: 1 2;
        border: round $primary;
    }
    SetupScreen #setup-profiles {
        height: auto;
        max-height: 10;
        margin-bottom: 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "demo", "Try the demo", id="setup.demo"),
        Binding("q,escape", "quit_setup", "Quit", id="setup.quit"),
    ]

    def __init__(self, config_path: Path, profiles: Sequence[ProfileInfo] = ()) -> None:
        """Build the guide for a config file at ``config_path`` naming ``profiles``."""
        super().__init__()
        self.config_path = config_path
        self.profiles = [p for p in profiles if not p.problem]
        """The profiles a person may start on (those whose table is sound)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="setup"):
            yield Static(_guide(self.config_path, self.profiles), id="setup-guide", markup=False)
            if self.profiles:
                yield OptionList(
                    *[
                        Option(
                            Text.assemble(
                                (safe_text(p.name, 40), "bold"),
                                "  ",
                                safe_text(p.base_url or "", 80),
                                ("  (read-only)" if p.read_only else "", "italic"),
                            ),
                            id=f"profile-{index}",
                        )
                        for index, p in enumerate(self.profiles)
                    ],
                    id="setup-profiles",
                )
            yield Static(
                Text.assemble(
                    ("d", "bold"),
                    "  try the demo: the app on a built-in simulator (nothing leaves this machine)\n",
                    ("q", "bold"),
                    "  quit",
                ),
                id="setup-keys",
                markup=False,
            )
        yield KeysFooter()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(SetupChoice("profile", self.profiles[event.option_index].name))

    def action_demo(self) -> None:
        """Start the demo (the command line starts it once this app has closed)."""
        self.dismiss(SetupChoice("demo"))

    def action_quit_setup(self) -> None:
        """Leave without a server."""
        self.dismiss(SetupChoice("quit"))


class SetupApp(App[SetupChoice]):
    """An app of one screen, the setup guide; its return value is what was chosen."""

    TITLE = "opstui"

    def __init__(self, config_path: Path, profiles: Sequence[ProfileInfo] = ()) -> None:
        super().__init__()
        self._screen = SetupScreen(config_path, profiles)

    def on_mount(self) -> None:
        self.push_screen(self._screen, callback=self.exit)
