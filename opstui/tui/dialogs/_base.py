"""Shared pieces of the modal dialogs: the target type, text sanitising, validation, layout.

Everything a server sends (pipeline names, ids, descriptions) is untrusted. The dialogs never
pass it through Rich or Textual markup: they build `Content` objects from plain strings that
went through `safe_text` first, so `[b]x[/b]` shows as typed and `\\x1b[2J` cannot reach the
terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget
from textual.widgets import Button, Static

from opstui.tui.format import REPLACEMENT_CHARACTER as REPLACEMENT_CHARACTER
from opstui.tui.format import safe_text as safe_text

NAME_MAX_LENGTH = 100
"""Longest pipeline name the dialogs accept."""

DESCRIPTION_MAX_LENGTH = 1000
"""Longest pipeline description the dialogs accept."""

REASON_MAX_LENGTH = 1000
"""Longest rejection reason the dialogs accept."""

TARGET_LIST_MAX_ROWS = 8
"""Rows of targets shown before the list scrolls."""


def is_clean(text: str) -> bool:
    """True if `text` has nothing `safe_text` would replace, and no U+FFFD either.

    A U+FFFD in a name usually means someone (the app, or `safe_text`) already replaced a
    control character there: the user cannot type it, and it should not be saved.
    """
    return safe_text(text) == text and REPLACEMENT_CHARACTER not in text


def validate_name(value: str) -> str | None:
    """Check a pipeline name typed by the user.

    Args:
        value: The raw value of the input (it is stripped before the checks).

    Returns:
        An error message for the user, or None if the name is acceptable.
    """
    name = value.strip()
    if not name:
        return "A name is required."
    if len(name) > NAME_MAX_LENGTH:
        return f"A name can have at most {NAME_MAX_LENGTH} characters (this one has {len(name)})."
    if not is_clean(name):
        return "A name cannot contain control characters (shown as \ufffd)."
    return None


def validate_free_text(value: str, *, what: str, max_length: int) -> str | None:
    """Check free text typed by the user (a description, a reason).

    Args:
        value: The raw value of the input (it is stripped before the checks).
        what: What the text is, capitalised, for the message ("A description").
        max_length: The most characters allowed.

    Returns:
        An error message for the user, or None if the text is acceptable.
    """
    text = value.strip()
    if len(text) > max_length:
        return f"{what} can have at most {max_length} characters (this one has {len(text)})."
    if not is_clean(text):
        return f"{what} cannot contain control characters (shown as \ufffd)."
    return None


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return "1 pipeline" or "3 pipelines"."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count} {word}"


def counted(count: int, noun: str) -> str:
    """Return "pipeline" for one, "3 pipelines" for more: how a title names its targets."""
    return noun if count == 1 else plural(count, noun)


def list_intro(lead: str, count: int, noun: str) -> str:
    """The line above a target list: "<lead> the following pipeline:" or "... 3 pipelines:".

    Says so when the list is longer than it shows, so nobody confirms what they did not see.
    """
    hint = " (scroll to see all)" if count > TARGET_LIST_MAX_ROWS else ""
    return f"{lead} the following {counted(count, noun)}{hint}:"


DEFAULT_NOUN = "pipeline"
"""What the dialogs call their targets unless told otherwise (the app passes "task" for tasks)."""


@dataclass(frozen=True)
class Target:
    """One thing a dialog acts on (a pipeline, or a task), as the server named it.

    Both fields are untrusted server text; the dialogs sanitise them before showing them.
    """

    name: str
    """The target's name."""

    id: str
    """The target's id."""


def require_targets(targets: Sequence[Target]) -> Sequence[Target]:
    """Return `targets`; raise ValueError if there are none (a bug in the caller).

    A list becomes a tuple of its own (a later change to the list does not change the dialog);
    any other sequence is kept as it is: a lazy one (``opstui.tui.slices.Mapped``) makes only
    the targets a dialog lists, the first :attr:`TargetLines.MAX_LISTED` of ten thousand.
    """
    if not targets:
        raise ValueError("a dialog needs at least one target")
    return tuple(targets) if isinstance(targets, list) else targets


class TargetList(VerticalScroll):
    """The targets of a dialog, one `name  (id)` a row, scrolling after a few rows.

    The list takes focus (for keyboard scrolling) only when it has more rows than fit.
    """

    DEFAULT_CSS = f"""
    TargetList {{
        height: auto;
        max-height: {TARGET_LIST_MAX_ROWS};
        scrollbar-size-vertical: 1;
        &:focus {{
            background-tint: $foreground 5%;
        }}
    }}
    """

    def __init__(self, targets: Sequence[Target], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._targets = targets

    def compose(self) -> ComposeResult:
        yield TargetLines(self._targets)

    def allow_focus(self) -> bool:
        """Focusable only when there is something to scroll."""
        return self.max_scroll_y > 0


class TargetLines(Widget):
    """The rows of a `TargetList`: names aligned in a column, truncated so ids stay visible."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"target-lines--id"}

    DEFAULT_CSS = """
    TargetLines {
        height: auto;
        width: 1fr;
        .target-lines--id {
            color: $text-muted;
        }
    }
    """

    ID_MAX_WIDTH = 32
    """Ids wider than this (with their brackets) are truncated."""

    MAX_LISTED = 200
    """Targets listed by name; past this, one line says how many more (all are acted on). Ten
    thousand lines would cost seconds to lay out, and nobody reads them in a dialog."""

    def __init__(self, targets: Sequence[Target]) -> None:
        super().__init__()
        listed = targets[: self.MAX_LISTED]
        self._more = len(targets) - len(listed)
        self._names = [Content(safe_text(target.name)) for target in listed]
        self._ids = [
            Content(f"({safe_text(target.id)})").truncate(self.ID_MAX_WIDTH, ellipsis=True)
            for target in listed
        ]
        self._id_width = max((content.cell_length for content in self._ids), default=0)
        self._name_width = max((content.cell_length for content in self._names), default=0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._names) + (1 if self._more else 0)

    def _line(self, y: int, width: int) -> Content:
        """Row ``y`` at ``width``: a name and its id, or the count of the targets not listed."""
        id_style = self.get_visual_style("target-lines--id", partial=True)
        if y == len(self._names):
            more = f"… and {self._more:,} more"
            return Content.styled(more, id_style).truncate(width, ellipsis=True)
        name_width = max(1, min(self._name_width, width - self._id_width - 2))
        return Content.assemble(
            self._names[y].truncate(name_width, ellipsis=True, pad=True),
            "  ",
            Content.styled(self._ids[y].plain, id_style),
        ).truncate(width, ellipsis=True)

    def render(self) -> Content:
        width = self.size.width
        rows = self.get_content_height(self.size, self.size, width)
        return Content("\n").join([self._line(y, width) for y in range(rows)])

    def render_line(self, y: int) -> Strip:
        # Row by row: the list shows a few rows of up to 200, and a repaint renders those it
        # shows, not all of them (Widget renders its whole content for any one line).
        width = self.size.width
        if not 0 <= y < self.get_content_height(self.size, self.size, width):
            return Strip.blank(width, self.visual_style.rich_style)
        [strip] = Visual.to_strips(self, self._line(y, width), width, 1, self.visual_style)
        return strip.apply_offsets(0, y)  # where a click lands: row y, as a whole render says


class ButtonBar(Horizontal):
    """The row of buttons at the foot of a dialog; left and right move between its buttons."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Previous button", show=False),
        Binding("right", "move(1)", "Next button", show=False),
    ]

    DEFAULT_CSS = """
    ButtonBar {
        height: auto;
        width: 1fr;
        align-horizontal: right;
        Button {
            margin-left: 2;
        }
    }
    """

    def action_move(self, step: int) -> None:
        """Focus the enabled button `step` places away from the focused one (no wrap)."""
        buttons = [button for button in self.query(Button) if button.focusable]
        focused = self.screen.focused
        if focused not in buttons:
            return
        index = buttons.index(focused) + step
        if 0 <= index < len(buttons):
            buttons[index].focus()


ResultT = TypeVar("ResultT")


class DialogScreen(ModalScreen[ResultT]):
    """Base of the opstui dialogs: a centred box above a footer, dismissed at most once."""

    DEFAULT_CSS = """
    DialogScreen {
        align: center middle;
        #dialog {
            width: 90%;
            max-width: 96;
            height: auto;
            max-height: 100%;
            padding: 0 1;
            border: round $primary;
            background: $surface;
        }
        &.-danger #dialog {
            border: heavy $error;
        }
        .dialog-title {
            width: 1fr;
            text-style: bold;
            margin-bottom: 1;
        }
        .dialog-line {
            width: 1fr;
        }
        .dialog-warning {
            width: 1fr;
            text-style: bold;
            color: $text-warning;
        }
        .field-label {
            width: 1fr;
        }
        .field-error {
            width: 1fr;
            height: 1;
            color: $text-error;
            text-style: bold;
        }
        TargetList {
            margin: 0 0 1 0;
        }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._finished = False

    def finish(self, result: ResultT) -> None:
        """Dismiss with `result`, once: a second key or click in the same instant is ignored."""
        if self._finished:
            return
        self._finished = True
        self.dismiss(result)

    def set_error(self, selector: str, message: str | None) -> None:
        """Show `message` (or nothing) in the error line matching `selector`."""
        self.query_one(selector, Static).update(Content(message or ""))


def title_line(text: str) -> Static:
    """A dialog title, as plain text."""
    return Static(Content(safe_text(text)), classes="dialog-title")


def text_line(text: str, *, classes: str = "dialog-line", id: str | None = None) -> Static:
    """A line (or paragraph: newlines are kept) of plain text."""
    lines = [safe_text(line) for line in text.splitlines()] or [""]
    return Static(Content("\n".join(lines)), classes=classes, id=id)


def error_line(id: str) -> Static:
    """An empty one-row line for inline error messages."""
    return Static(Content(""), classes="field-error", id=id)
