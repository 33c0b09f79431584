"""QuitDialog: asked when the user quits while an action is still on its way to the server."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button

from opstui.tui.dialogs._base import (
    ButtonBar,
    DialogScreen,
    Target,
    TargetList,
    require_targets,
    safe_text,
    text_line,
    title_line,
)
from opstui.tui.widgets.footer import KeysFooter

__all__ = ["QuitDialog"]


class QuitDialog(DialogScreen[bool]):
    """ "An action is still on its way; quit anyway?": True only on an explicit yes.

    It opens on No (Stay has the focus), so a stray ``enter`` keeps the app open. ``y`` quits,
    ``n`` and ``escape`` stay.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "quit_anyway", "Quit anyway", id="dialog.confirm"),
        Binding("n,escape", "stay", "Stay", id="dialog.cancel"),
    ]

    AUTO_FOCUS = "#cancel"

    def __init__(self, *, targets: Sequence[Target], actions: Sequence[str]) -> None:
        """Build the dialog.

        Args:
            targets: What the actions on their way were sent for.
            actions: The actions on their way ("run", "approve", ...), one per action.
        """
        super().__init__()
        self.targets = require_targets(targets)
        self.actions = [safe_text(action) for action in actions]
        self.add_class("-danger")

    def compose(self) -> ComposeResult:
        count = len(self.actions)
        title = (
            "An action is still on its way; quit anyway?"
            if count <= 1
            else f"{count} actions are still on their way; quit anyway?"
        )
        with Vertical(id="dialog"):
            yield title_line(title)
            yield text_line(f"Waiting for the server's answer to {', '.join(self.actions)} for:")
            yield TargetList(self.targets)
            yield text_line(
                "If you quit now, the server may still apply it: the audit log records it with "
                "the outcome unknown.",
                classes="dialog-warning",
            )
            with ButtonBar():
                yield Button(Content("Quit anyway (y)"), variant="error", id="confirm")
                yield Button(Content("Stay (n)"), id="cancel")
        yield KeysFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.finish(event.button.id == "confirm")

    def action_quit_anyway(self) -> None:
        """Quit anyway: dismiss with True."""
        self.finish(True)

    def action_stay(self) -> None:
        """Stay: dismiss with False."""
        self.finish(False)
