"""ConfirmDialog: a yes/no question before an action on one or more pipelines (or tasks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Button

from opstui.tui.dialogs._base import (
    DEFAULT_NOUN,
    ButtonBar,
    DialogScreen,
    Target,
    TargetList,
    counted,
    list_intro,
    require_targets,
    safe_text,
    text_line,
    title_line,
)
from opstui.tui.widgets.footer import KeysFooter


class ConfirmDialog(DialogScreen[bool]):
    """Ask before running `action` on `targets`; dismisses with True only on an explicit yes.

    Cancel has the focus when the dialog opens, so a stray `enter` cancels. `y` confirms,
    `n` and `escape` cancel, `enter` presses the focused button.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "confirm", "Confirm", id="dialog.confirm"),
        Binding("n,escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    DEFAULT_CSS = """
    ConfirmDialog #detail {
        margin-bottom: 1;
    }
    """

    AUTO_FOCUS = "#cancel"

    def __init__(
        self,
        *,
        action: str,
        targets: Sequence[Target],
        detail: str | None = None,
        danger: bool = False,
        noun: str = DEFAULT_NOUN,
    ) -> None:
        """Build the dialog.

        Args:
            action: The action as a capitalised verb, e.g. "Run"; it names the confirm button.
            targets: The pipelines (or tasks) the action applies to.
            detail: An optional extra explanation (consequences), shown under the list.
            danger: Style the dialog and its confirm button as destructive.
            noun: What a target is called ("pipeline", "task"), singular.
        """
        super().__init__()
        self.verb = safe_text(action)
        self.targets = require_targets(targets)
        self.detail = detail
        self.danger = danger
        self.noun = safe_text(noun)
        if danger:
            self.add_class("-danger")

    def compose(self) -> ComposeResult:
        count = len(self.targets)
        with Vertical(id="dialog"):
            yield title_line(f"{self.verb} {counted(count, self.noun)}?")
            yield text_line(list_intro(self.verb, count, self.noun))
            yield TargetList(self.targets)
            if self.detail:
                yield text_line(self.detail, classes="dialog-warning", id="detail")
            with ButtonBar():
                yield Button(
                    Content(f"{self.verb} (y)"),
                    variant="error" if self.danger else "primary",
                    id="confirm",
                )
                yield Button(Content("Cancel (n)"), id="cancel")
        yield KeysFooter()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.finish(event.button.id == "confirm")

    def action_confirm(self) -> None:
        """Confirm: dismiss with True."""
        self.finish(True)

    def action_cancel(self) -> None:
        """Cancel: dismiss with False."""
        self.finish(False)
