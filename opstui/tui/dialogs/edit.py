"""EditPipelineDialog: change a pipeline's name and description."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button, Input

from opstui.tui.dialogs._base import (
    DEFAULT_NOUN,
    DESCRIPTION_MAX_LENGTH,
    ButtonBar,
    DialogScreen,
    Target,
    TargetList,
    error_line,
    safe_text,
    text_line,
    title_line,
    validate_free_text,
    validate_name,
)
from opstui.tui.widgets.footer import KeysFooter

NOTHING_CHANGED = "Nothing to save: change the name or the description first."
"""The message shown when the user saves without having changed anything."""


@dataclass(frozen=True)
class PipelineEdit:
    """The outcome of an `EditPipelineDialog`: the fields to change, None for unchanged."""

    name: str | None
    """The new name (stripped), or None to keep the current one."""

    description: str | None
    """The new description (stripped, may be empty), or None to keep the current one."""


def _one_line(text: str) -> str:
    """Fold a possibly multi-line server text onto one line that an `Input` can hold."""
    return safe_text(" ".join(text.splitlines()).replace("\t", " "))


class NameInput(Input):
    """The name field; its `enter` moves on to the description."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "submit", "Next")]


class EditPipelineDialog(DialogScreen[PipelineEdit | None]):
    """Edit a pipeline's name and description; dismisses with the changes, or None.

    The fields start with the current values. A name must be non-blank, at most 100
    characters and free of control characters; a description at most 1000 characters.
    Only fields the user changed are validated and returned; Save is refused (and its
    button disabled) while a change is invalid or nothing has changed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="dialog.save"),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    AUTO_FOCUS = "#name"

    def __init__(self, *, target: Target, description: str, noun: str = DEFAULT_NOUN) -> None:
        """Build the dialog.

        Args:
            target: The pipeline to edit (its current name is prefilled).
            description: The pipeline's current description (prefilled).
            noun: What the target is called ("pipeline", "task"), singular.
        """
        super().__init__()
        self.noun = safe_text(noun)
        self.target = target
        self.description = description
        self._name_prefill = safe_text(target.name)
        self._description_prefill = _one_line(description)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield title_line(f"Edit {self.noun}")
            yield text_line(f"Change the name or the description of the following {self.noun}:")
            yield TargetList([self.target])
            yield text_line("Name", classes="field-label")
            # No select-on-focus here: a first keystroke must not wipe a name (Input has no undo).
            yield NameInput(
                self._name_prefill,
                placeholder="Name (required)",
                select_on_focus=False,
                id="name",
            )
            yield error_line("name-error")
            yield text_line("Description", classes="field-label")
            # Its enter saves, like ctrl+s; the footer shows ctrl+s only, not the same thing twice.
            yield Input(
                self._description_prefill,
                placeholder="Description (optional)",
                select_on_focus=False,
                id="description",
            )
            yield error_line("description-error")
            yield error_line("form-error")
            with ButtonBar():
                yield Button(Content("Save"), variant="primary", id="save", disabled=True)
                yield Button(Content("Cancel"), id="cancel")
        yield KeysFooter()

    def _review(self) -> tuple[PipelineEdit, str | None, str | None]:
        """The changes so far, and the error for the name and the description."""
        name_value = self.query_one("#name", Input).value
        description_value = self.query_one("#description", Input).value
        name: str | None = None
        name_error: str | None = None
        if name_value != self._name_prefill:
            name_error = validate_name(name_value)
            if name_value.strip() != self.target.name:
                name = name_value.strip()
        description: str | None = None
        description_error: str | None = None
        if description_value != self._description_prefill:
            description_error = validate_free_text(
                description_value, what="A description", max_length=DESCRIPTION_MAX_LENGTH
            )
            if description_value.strip() != self.description:
                description = description_value.strip()
        return PipelineEdit(name=name, description=description), name_error, description_error

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        edit, name_error, description_error = self._review()
        self.set_error("#name-error", name_error)
        self.set_error("#description-error", description_error)
        self.set_error("#form-error", None)
        changed = edit.name is not None or edit.description is not None
        valid = name_error is None and description_error is None
        self.query_one("#save", Button).disabled = not (changed and valid)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "name":
            self.query_one("#description", Input).focus()
        else:
            self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.finish(None)

    def action_save(self) -> None:
        """Save: dismiss with the changed fields, unless a change is invalid or there is none."""
        edit, name_error, description_error = self._review()
        if name_error is not None or description_error is not None:
            self.set_error("#form-error", "Fix the errors above to save.")
            return
        if edit.name is None and edit.description is None:
            self.set_error("#form-error", NOTHING_CHANGED)
            return
        self.finish(edit)

    def action_cancel(self) -> None:
        """Cancel: dismiss with None."""
        self.finish(None)
