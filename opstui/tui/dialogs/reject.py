"""RejectDialog: reject the pending approval of pipelines, with a required reason."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Input

from opstui.tui.dialogs._base import (
    DEFAULT_NOUN,
    REASON_MAX_LENGTH,
    ButtonBar,
    DialogScreen,
    Target,
    TargetList,
    counted,
    error_line,
    list_intro,
    require_targets,
    safe_text,
    text_line,
    title_line,
    validate_free_text,
)
from opstui.tui.widgets.footer import KeysFooter

REASON_REQUIRED = "A reason is required to reject."
"""The message shown when the user tries to reject with a blank reason."""


class ReasonInput(Input):
    """The reason field; its `enter` shows in the footer as "Reject"."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Reject")]


class RejectDialog(DialogScreen[str | None]):
    """Ask why before rejecting; dismisses with the stripped reason, or None if cancelled.

    A blank or whitespace-only reason is refused with an inline message, and the Reject
    button stays disabled until there is a usable reason.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel")
    ]

    AUTO_FOCUS = "#reason"

    def __init__(self, *, targets: Sequence[Target], noun: str = DEFAULT_NOUN) -> None:
        """Build the dialog.

        Args:
            targets: The pipelines whose pending approval is rejected.
            noun: What a target is called ("pipeline", "task"), singular.
        """
        super().__init__()
        self.targets = require_targets(targets)
        self.noun = safe_text(noun)

    def compose(self) -> ComposeResult:
        count = len(self.targets)
        with Vertical(id="dialog"):
            yield title_line(f"Reject {counted(count, self.noun)}?")
            yield text_line(list_intro("Reject the pending approval of", count, self.noun))
            yield TargetList(self.targets)
            yield ReasonInput(placeholder="Why are you rejecting? (required)", id="reason")
            yield error_line("reason-error")
            with ButtonBar():
                yield Button(Content("Reject"), variant="error", id="reject", disabled=True)
                yield Button(Content("Cancel"), id="cancel")
        yield KeysFooter()

    def _check(self, value: str) -> str | None:
        if not value.strip():
            return REASON_REQUIRED
        return validate_free_text(value, what="A reason", max_length=REASON_MAX_LENGTH)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        error = self._check(event.value)
        self.query_one("#reject", Button).disabled = error is not None
        # A blank field is not scolded while typing, only when the user tries to submit.
        self.set_error("#reason-error", None if error == REASON_REQUIRED else error)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "reject":
            self._submit()
        else:
            self.finish(None)

    def _submit(self) -> None:
        value = self.query_one("#reason", Input).value
        error = self._check(value)
        if error is not None:
            self.set_error("#reason-error", error)
            return
        self.finish(value.strip())

    def action_cancel(self) -> None:
        """Cancel: dismiss with None."""
        self.finish(None)
