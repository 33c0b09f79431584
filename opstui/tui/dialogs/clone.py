"""CloneDialog: copy a pipeline under a new name."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Input

from opstui.tui.dialogs._base import (
    DEFAULT_NOUN,
    ButtonBar,
    DialogScreen,
    Target,
    TargetList,
    error_line,
    safe_text,
    text_line,
    title_line,
    validate_name,
)
from opstui.tui.widgets.footer import KeysFooter

SAME_NAME = "The copy needs a name different from the original's."
"""The message shown when the new name is the source pipeline's name."""


class CloneNameInput(Input):
    """The new-name field; its `enter` shows in the footer as "Clone"."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Clone")]


class CloneDialog(DialogScreen[str | None]):
    """Ask for the name of a copy of a pipeline; dismisses with the stripped name, or None.

    The field starts as "<name> copy", all selected: typing replaces it, an arrow key keeps
    it for editing. The name follows the same rules as in `EditPipelineDialog` and must
    differ from the source pipeline's name.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]

    AUTO_FOCUS = "#name"

    def __init__(self, *, target: Target, noun: str = DEFAULT_NOUN) -> None:
        """Build the dialog.

        Args:
            target: The pipeline to copy.
            noun: What the target is called ("pipeline", "task"), singular.
        """
        super().__init__()
        self.noun = safe_text(noun)
        self.target = target
        self.default_name = f"{safe_text(target.name)} copy"

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield title_line(f"Clone {self.noun}")
            yield text_line(f"Create a copy of the following {self.noun}:")
            yield TargetList([self.target])
            yield text_line("Name of the copy", classes="field-label")
            yield CloneNameInput(self.default_name, placeholder="New name (required)", id="name")
            yield error_line("name-error")
            with ButtonBar():
                yield Button(Content("Clone"), variant="primary", id="clone")
                yield Button(Content("Cancel"), id="cancel")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._update(self.default_name)

    def _check(self, value: str) -> str | None:
        error = validate_name(value)
        if error is None and value.strip() in (self.target.name, safe_text(self.target.name)):
            return SAME_NAME
        return error

    def _update(self, value: str) -> str | None:
        error = self._check(value)
        self.set_error("#name-error", error)
        self.query_one("#clone", Button).disabled = error is not None
        return error

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._update(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "clone":
            self._submit()
        else:
            self.finish(None)

    def _submit(self) -> None:
        value = self.query_one("#name", Input).value
        if self._update(value) is None:
            self.finish(value.strip())

    def action_cancel(self) -> None:
        """Cancel: dismiss with None."""
        self.finish(None)
