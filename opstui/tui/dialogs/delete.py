"""DeleteDialog: delete pipelines, only after the user types the name (or the count)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from opstui.tui.dialogs._base import (
    DEFAULT_NOUN,
    ButtonBar,
    DialogScreen,
    Target,
    TargetList,
    counted,
    error_line,
    is_clean,
    list_intro,
    require_targets,
    safe_text,
    text_line,
    title_line,
)
from opstui.tui.widgets.footer import KeysFooter

MISMATCH = "That does not match. Type it exactly as shown."
"""The message shown when enter is pressed on a phrase that does not match."""


def _typeable(name: str) -> bool:
    """True if a user can reasonably type `name` exactly from what the dialog shows."""
    return (
        bool(name)
        and name == name.strip()
        and is_clean(name)
        and all(char == " " or not char.isspace() for char in name)
    )


class DeleteConfirmInput(Input):
    """The confirmation field; its `enter` shows in the footer as "Delete"."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Delete")]


class DeleteDialog(DialogScreen[bool]):
    """Delete after typing a confirmation phrase; dismisses with True only when it matches.

    The phrase is the target's name for one target, or the number of targets for a batch
    (also for one target whose name cannot be typed, such as a name with control characters).
    Until the phrase matches, the Delete button is disabled and `enter` deletes nothing.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]

    AUTO_FOCUS = "#confirm-phrase"

    def __init__(self, *, targets: Sequence[Target], noun: str = DEFAULT_NOUN) -> None:
        """Build the dialog.

        Args:
            targets: The pipelines to delete.
            noun: What a target is called ("pipeline", "task"), singular.
        """
        super().__init__()
        self.targets = require_targets(targets)
        self.noun = safe_text(noun)
        self.add_class("-danger")
        if len(self.targets) == 1 and _typeable(self.targets[0].name):
            self.phrase = self.targets[0].name
            self._asking_for = f"the {self.noun} name"
        else:
            self.phrase = str(len(self.targets))
            self._asking_for = f"the number of {self.noun}s"

    @property
    def matches(self) -> bool:
        """True if what the user typed is the confirmation phrase."""
        return self.query_one("#confirm-phrase", Input).value.strip() == self.phrase

    def compose(self) -> ComposeResult:
        count = len(self.targets)
        with Vertical(id="dialog"):
            yield title_line(f"Delete {counted(count, self.noun)}?")
            yield text_line(list_intro("Delete", count, self.noun))
            yield TargetList(self.targets)
            yield text_line("This cannot be undone.", classes="dialog-warning")
            yield Static(
                Content.assemble(
                    f"To confirm, type {self._asking_for}: ",
                    (self.phrase, "bold"),
                ),
                classes="dialog-line",
                id="instruction",
            )
            yield DeleteConfirmInput(placeholder=self._asking_for, id="confirm-phrase")
            yield error_line("phrase-error")
            with ButtonBar():
                yield Button(Content("Delete"), variant="error", id="delete", disabled=True)
                yield Button(Content("Cancel"), id="cancel")
        yield KeysFooter()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#delete", Button).disabled = not self.matches
        self.set_error("#phrase-error", None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.matches:
            self.finish(True)
        else:
            self.set_error("#phrase-error", MISMATCH)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.finish(event.button.id == "delete" and self.matches)

    def action_cancel(self) -> None:
        """Cancel: dismiss with False."""
        self.finish(False)
