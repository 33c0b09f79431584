"""Pilot and snapshot tests of the modal dialogs (opstui.tui.dialogs).

Each test runs a tiny host app that pushes one dialog and records what it dismisses with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Static

from opstui.tui.dialogs import (
    CloneDialog,
    ConfirmDialog,
    DeleteDialog,
    EditPipelineDialog,
    HelpScreen,
    PipelineEdit,
    RejectDialog,
    Target,
    safe_text,
)
from opstui.tui.dialogs._base import TargetLines
from opstui.tui.dialogs.clone import SAME_NAME
from opstui.tui.dialogs.delete import MISMATCH
from opstui.tui.dialogs.edit import NOTHING_CHANGED
from opstui.tui.dialogs.reject import REASON_REQUIRED

ONE = [Target("api", "64f1a2b3c4d5e6f7a8b90001")]
THREE = [Target(f"deploy-{name}", f"64f1a2b3c4d5e6f7a8b9000{i}") for i, name in enumerate("abc")]
MANY = [Target(f"deploy-service-{i:02d}", f"64f1a2b3c4d5e6f7a8b9{i:04d}") for i in range(20)]
EVIL_NAME = "[b]evil[/b] [/] \x1b[31m \x9b2J"
EVIL = [Target(EVIL_NAME, "[i]64f1[/i]"), Target("x" * 150, "64f1a2b3c4d5e6f7a8b90002")]
SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Pipelines",
        [
            ("r", "Run the selected pipelines"),
            ("s", "Stop the selected pipelines"),
            ("x", "Reject a pending approval, with a reason"),
            ("d", "Delete the selected pipelines (asks for the name)"),
            ("[", "A key that looks like markup"),
        ],
    ),
    (
        "Selection",
        [
            ("space", "Mark or unmark the pipeline under the cursor"),
            ("ctrl+a", "Mark every pipeline in the current filter, which can be many"),
        ],
    ),
    ("General", [("?", "This help"), ("/", "Filter"), ("q", "Quit")]),
]

DialogFactory = Callable[[], Screen[Any]]


@pytest.fixture(autouse=True)
def _steady_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """No blinking cursor (its phase would make snapshots flaky), no NO_COLOR from the shell.

    `Input.cursor_blink` is a reactive read when the input mounts; shadowing it with a plain
    False on the class means the blink timer starts paused and the cursor is always drawn.
    """
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.delenv("NO_COLOR", raising=False)


class HostApp(App[None]):
    """A stand-in for the opstui app: a plain screen that pushes one dialog on start."""

    ENABLE_COMMAND_PALETTE = False
    TITLE = "opstui dialogs"

    def __init__(self, make_dialog: DialogFactory) -> None:
        super().__init__()
        self.animation_level = "none"  # scrolling jumps: faster, and the same every time
        self._make_dialog = make_dialog
        self.results: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("\n".join(f"pipeline row {i:02d}" for i in range(40)))

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.push_screen(self._make_dialog(), self.results.append)


@asynccontextmanager
async def opened(make_dialog: DialogFactory) -> AsyncIterator[tuple[HostApp, Pilot[None]]]:
    """Run a host app at 80x24 with the dialog open."""
    app = HostApp(make_dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        yield app, pilot


def text_of(widget: Widget) -> str:
    """The text a widget puts on the screen, line by line, right-trimmed."""
    width, height = widget.outer_size
    return "\n".join(
        strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, width, height))
    )


def error_text(app: HostApp, selector: str) -> str:
    """The text of an inline error line."""
    return text_of(app.screen.query_one(selector, Static)).strip()


async def type_text(pilot: Pilot[None], text: str) -> None:
    """Type `text` key by key (each key costs the pilot about 60 ms: keep it short)."""
    await pilot.press(*text)


async def paste(app: HostApp, pilot: Pilot[None], text: str) -> None:
    """Paste `text` into the focused input, as a terminal's bracketed paste would."""
    focused = app.screen.focused
    assert isinstance(focused, Input)
    focused.post_message(events.Paste(text))
    await pilot.pause()


def still_open(app: HostApp, dialog_type: type[Screen[Any]]) -> bool:
    """True if the dialog is on top and has dismissed nothing."""
    return isinstance(app.screen, dialog_type) and app.results == []


# -- safe_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("deploy-api", "deploy-api"),
        ("[b]x[/b] [/]", "[b]x[/b] [/]"),
        ("déploiement 部署 🚀", "déploiement 部署 🚀"),
        ("a\x1b[2Jb", "a\ufffd[2Jb"),
        ("a\x9b2Jb", "a\ufffd2Jb"),
        ("tab\there\nnew\rline\x7f", "tab\ufffdhere\ufffdnew\ufffdline\ufffd"),
        ("abc\u202edcba", "abc\ufffddcba"),
        ("zero\u200bwidth", "zero\ufffdwidth"),
        ("\x00\x07\x08", "\ufffd\ufffd\ufffd"),
    ],
)
def test_safe_text(raw: str, shown: str) -> None:
    assert safe_text(raw) == shown


# -- ConfirmDialog --------------------------------------------------------------------------


def confirm_run(targets: list[Target] = THREE, **kwargs: Any) -> DialogFactory:
    return lambda: ConfirmDialog(action="Run", targets=targets, **kwargs)


async def test_confirm_opens_with_cancel_focused_and_enter_cancels() -> None:
    async with opened(confirm_run()) as (app, pilot):
        focused = app.screen.focused
        assert isinstance(focused, Button)
        assert focused.id == "cancel"
        await pilot.press("enter")
        assert app.results == [False]


async def test_confirm_y_confirms_once() -> None:
    async with opened(confirm_run()) as (app, pilot):
        await pilot.press("y", "y", "n")
        assert app.results == [True]
        assert len(app.screen_stack) == 1


@pytest.mark.parametrize("key", ["n", "escape"])
async def test_confirm_n_and_escape_cancel(key: str) -> None:
    async with opened(confirm_run()) as (app, pilot):
        await pilot.press(key)
        assert app.results == [False]


async def test_confirm_arrow_keys_and_click() -> None:
    async with opened(confirm_run()) as (app, pilot):
        await pilot.press("left")
        assert app.screen.focused is app.screen.query_one("#confirm")
        await pilot.press("right")
        assert app.screen.focused is app.screen.query_one("#cancel")
        await pilot.click("#confirm")
        assert app.results == [True]


async def test_confirm_wording_and_danger() -> None:
    make = confirm_run(ONE, detail="Running tasks are cancelled.", danger=True)
    async with opened(make) as (app, _pilot):
        assert text_of(app.screen.query_one(".dialog-title")) == "Run pipeline?"
        assert text_of(app.screen.query_one(".dialog-line")) == "Run the following pipeline:"
        assert text_of(app.screen.query_one("#detail")) == "Running tasks are cancelled."
        confirm = app.screen.query_one("#confirm", Button)
        assert (str(confirm.label), confirm.variant) == ("Run (y)", "error")
        assert str(app.screen.query_one("#cancel", Button).label) == "Cancel (n)"


async def test_confirm_long_list_scrolls_and_says_so() -> None:
    async with opened(confirm_run(MANY)) as (app, pilot):
        assert text_of(app.screen.query_one(".dialog-title")) == "Run 20 pipelines?"
        intro = text_of(app.screen.query_one(".dialog-line"))
        assert intro == "Run the following 20 pipelines (scroll to see all):"
        target_list = app.screen.query_one("TargetList", Widget)
        assert target_list.size.height == 8
        await pilot.press("tab", "end")
        assert app.screen.focused is target_list
        assert target_list.scroll_y == target_list.max_scroll_y > 0
        assert app.results == []


def test_dialogs_refuse_no_targets() -> None:
    with pytest.raises(ValueError, match="at least one target"):
        ConfirmDialog(action="Run", targets=[])


async def test_a_huge_batch_lists_the_first_names_and_says_how_many_more() -> None:
    many = [
        Target(name=f"pipeline-{n:05}", id=f"{n:024x}") for n in range(TargetLines.MAX_LISTED + 50)
    ]
    async with opened(confirm_run(many)) as (app, _pilot):
        lines = app.screen.query_one(TargetLines)
        assert lines.virtual_size.height == TargetLines.MAX_LISTED + 1
        text = text_of(lines).splitlines()
        assert text[0].startswith("pipeline-00000")
        assert text[TargetLines.MAX_LISTED - 1].startswith(
            f"pipeline-{TargetLines.MAX_LISTED - 1:05}"
        )
        assert text[TargetLines.MAX_LISTED] == "… and 50 more"


# -- markup and control characters in server text --------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        confirm_run(EVIL),
        lambda: EditPipelineDialog(target=EVIL[0], description="[red]x[/red]\x1b]0;pwn\x07"),
        lambda: CloneDialog(target=EVIL[0]),
    ],
    ids=["confirm", "edit", "clone"],
)
async def test_server_text_is_shown_literally(make: DialogFactory) -> None:
    async with opened(make) as (app, _pilot):
        lines = text_of(app.screen.query_one(TargetLines)).splitlines()
        assert lines[0].startswith("[b]evil[/b] [/] \ufffd[31m \ufffd2J  ")
        assert lines[0].endswith("  ([i]64f1[/i])")
        if len(lines) > 1:  # a name too long for the row is cut short, never its id
            assert lines[1].endswith("…  (64f1a2b3c4d5e6f7a8b90002)")
        screenshot = app.export_screenshot()
        assert "[b]evil[/b]" in screenshot.replace("&#160;", " ")
        assert "\x1b" not in screenshot
        assert "\x9b" not in screenshot
        for widget in app.screen.query(Input):
            assert "\x1b" not in widget.value


# -- RejectDialog ---------------------------------------------------------------------------


def reject(targets: list[Target] = ONE) -> DialogFactory:
    return lambda: RejectDialog(targets=targets)


async def test_reject_blank_or_whitespace_reason_is_refused() -> None:
    async with opened(reject()) as (app, pilot):
        assert isinstance(app.screen.focused, Input)
        assert app.screen.query_one("#reject", Button).disabled
        assert error_text(app, "#reason-error") == ""
        await pilot.press("enter")
        assert still_open(app, RejectDialog)
        assert error_text(app, "#reason-error") == REASON_REQUIRED
        await type_text(pilot, "  ")
        assert app.screen.query_one("#reject", Button).disabled
        await pilot.press("enter")
        assert still_open(app, RejectDialog)
        assert error_text(app, "#reason-error") == REASON_REQUIRED
        await pilot.press("escape")
        assert app.results == [None]


async def test_reject_returns_the_stripped_reason() -> None:
    async with opened(reject(THREE)) as (app, pilot):
        await pilot.press("enter")
        await paste(app, pilot, "  flaky test  ")
        assert not app.screen.query_one("#reject", Button).disabled
        assert error_text(app, "#reason-error") == ""
        await pilot.press("enter")
        assert app.results == ["flaky test"]


async def test_reject_button() -> None:
    async with opened(reject()) as (app, pilot):
        await paste(app, pilot, "wrong build")
        await pilot.click("#reject")
        assert app.results == ["wrong build"]


async def test_reject_unusable_reason_is_refused() -> None:
    async with opened(reject()) as (app, pilot):
        await paste(app, pilot, "x" * 1001)
        assert app.screen.query_one("#reject", Button).disabled
        assert "at most 1000 characters" in error_text(app, "#reason-error")
        await pilot.press("enter")
        assert still_open(app, RejectDialog)
        await pilot.press("ctrl+u")
        await paste(app, pilot, "bad \x1b[2J paste")
        assert "control characters" in error_text(app, "#reason-error")
        await pilot.press("enter")
        assert still_open(app, RejectDialog)


# -- DeleteDialog ---------------------------------------------------------------------------


def delete(targets: list[Target] = ONE) -> DialogFactory:
    return lambda: DeleteDialog(targets=targets)


@pytest.mark.parametrize(
    "name", [EVIL_NAME, "already\ufffdreplaced", "", " padded ", "tab\tname", "deploy-api"]
)
def test_delete_phrase(name: str) -> None:
    """The name when it can be typed as shown, else the count (a batch always uses the count)."""
    expected = "deploy-api" if name == "deploy-api" else "1"
    assert DeleteDialog(targets=[Target(name, "64f1")]).phrase == expected
    assert DeleteDialog(targets=[Target(name, "64f1"), *THREE]).phrase == "4"


async def test_delete_wrong_name_keeps_delete_disabled() -> None:
    async with opened(delete()) as (app, pilot):
        await type_text(pilot, "ap")
        assert app.screen.query_one("#delete", Button).disabled
        await pilot.press("enter")
        assert still_open(app, DeleteDialog)
        assert error_text(app, "#phrase-error") == MISMATCH
        await type_text(pilot, "I")
        assert app.screen.query_one("#delete", Button).disabled
        await pilot.press("escape")
        assert app.results == [False]


async def test_delete_exact_name_enables_delete() -> None:
    async with opened(delete()) as (app, pilot):
        await type_text(pilot, "api")
        assert not app.screen.query_one("#delete", Button).disabled
        assert error_text(app, "#phrase-error") == ""
        await pilot.press("enter")
        assert app.results == [True]


async def test_delete_batch_needs_the_count() -> None:
    async with opened(delete(THREE)) as (app, pilot):
        instruction = text_of(app.screen.query_one("#instruction"))
        assert instruction == "To confirm, type the number of pipelines: 3"
        await type_text(pilot, "ap")
        assert app.screen.query_one("#delete", Button).disabled
        await pilot.press("backspace", "backspace", "3")
        assert not app.screen.query_one("#delete", Button).disabled
        await pilot.click("#delete")
        assert app.results == [True]


async def test_dialogs_can_name_tasks() -> None:
    async with opened(lambda: DeleteDialog(targets=THREE, noun="task")) as (app, _pilot):
        assert text_of(app.screen.query_one(".dialog-title")) == "Delete 3 tasks?"
        assert text_of(app.screen.query_one(".dialog-line")) == "Delete the following 3 tasks:"
        instruction = text_of(app.screen.query_one("#instruction"))
        assert instruction == "To confirm, type the number of tasks: 3"


# -- EditPipelineDialog ---------------------------------------------------------------------


def edit(description: str = "Builds and deploys the API") -> DialogFactory:
    return lambda: EditPipelineDialog(target=ONE[0], description=description)


async def test_edit_unchanged_is_refused() -> None:
    async with opened(edit()) as (app, pilot):
        assert app.screen.query_one("#name", Input).value == "api"
        assert app.screen.query_one("#save", Button).disabled
        await pilot.press("ctrl+s")
        assert still_open(app, EditPipelineDialog)
        assert error_text(app, "#form-error") == NOTHING_CHANGED


async def test_edit_invalid_name_is_refused() -> None:
    async with opened(edit()) as (app, pilot):
        await pilot.press("ctrl+u", "space")  # delete what is left of the cursor (all of it)
        assert error_text(app, "#name-error") == "A name is required."
        assert app.screen.query_one("#save", Button).disabled
        await pilot.press("ctrl+s")
        assert still_open(app, EditPipelineDialog)
        await paste(app, pilot, "n" * 101)
        assert "at most 100 characters (this one has 101)" in error_text(app, "#name-error")
        await pilot.press("ctrl+s")
        assert still_open(app, EditPipelineDialog)
        await pilot.press("escape")
        assert app.results == [None]


async def test_edit_returns_only_the_new_name() -> None:
    async with opened(edit()) as (app, pilot):
        await type_text(pilot, "2 ")  # the cursor starts at the end, nothing selected
        assert not app.screen.query_one("#save", Button).disabled
        await pilot.press("ctrl+s")
        assert app.results == [PipelineEdit(name="api2", description=None)]


async def test_edit_returns_only_the_new_description() -> None:
    async with opened(edit()) as (app, pilot):
        await pilot.press("enter")
        assert app.screen.focused is app.screen.query_one("#description")
        await pilot.press("ctrl+u")
        await paste(app, pilot, " Deploys the API ")
        await pilot.press("enter")
        assert app.results == [PipelineEdit(name=None, description="Deploys the API")]


async def test_edit_multiline_description_is_unchanged_unless_edited() -> None:
    async with opened(edit("line one\nline two")) as (app, pilot):
        assert app.screen.query_one("#description", Input).value == "line one line two"
        await pilot.press("ctrl+s")
        assert still_open(app, EditPipelineDialog)


# -- CloneDialog ----------------------------------------------------------------------------


def clone() -> DialogFactory:
    return lambda: CloneDialog(target=ONE[0])


async def test_clone_default_name() -> None:
    async with opened(clone()) as (app, pilot):
        assert app.screen.query_one("#name", Input).value == "api copy"
        await pilot.press("enter")
        assert app.results == ["api copy"]


async def test_clone_typing_replaces_the_default() -> None:
    async with opened(clone()) as (app, pilot):
        await type_text(pilot, "web")
        await pilot.press("enter")
        assert app.results == ["web"]


async def test_clone_same_or_blank_name_is_refused() -> None:
    async with opened(clone()) as (app, pilot):
        await type_text(pilot, "api ")
        assert error_text(app, "#name-error") == SAME_NAME
        assert app.screen.query_one("#clone", Button).disabled
        await pilot.press("enter")
        assert still_open(app, CloneDialog)
        await pilot.press("ctrl+u")
        assert error_text(app, "#name-error") == "A name is required."
        await pilot.press("enter")
        assert still_open(app, CloneDialog)
        await pilot.press("escape")
        assert app.results == [None]


# -- HelpScreen -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["escape", "q", "question_mark"])
async def test_help_shows_keys_and_closes(key: str) -> None:
    async with opened(lambda: HelpScreen(sections=SECTIONS)) as (app, pilot):
        text = "\n".join(text_of(table) for table in app.screen.query("KeyTable"))
        assert "\n[       A key that looks like markup\n" in text  # keys in a 6-cell column
        assert "\nctrl+a  Mark every pipeline" in text
        await pilot.press(key)
        assert app.results == [None]


# -- snapshots ------------------------------------------------------------------------------

SNAPSHOT_DIALOGS: dict[str, DialogFactory] = {
    "confirm": confirm_run(THREE, detail="Running tasks are cancelled first."),
    "reject": reject(MANY),
    "delete": delete(),
    "edit": edit(),
    "clone": clone(),
    "help": lambda: HelpScreen(sections=SECTIONS * 2),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
@pytest.mark.parametrize("name", list(SNAPSHOT_DIALOGS))
def test_snapshot(name: str, size: tuple[int, int], snap_compare: Any) -> None:
    """Each dialog as it opens, at the smallest supported terminal and a roomier one."""
    assert snap_compare(HostApp(SNAPSHOT_DIALOGS[name]), terminal_size=size)


@pytest.mark.parametrize(
    ("make", "press"),
    [
        pytest.param(
            lambda: ConfirmDialog(
                action="Stop", targets=MANY, detail="Running tasks are cancelled.", danger=True
            ),
            [],
            id="confirm-many-danger",
        ),
        pytest.param(confirm_run(EVIL), [], id="confirm-untrusted-text"),
        pytest.param(delete(MANY), [], id="delete-many"),
        pytest.param(reject(), ["enter"], id="reject-blank-error"),
        pytest.param(delete(), list("api"), id="delete-matched"),
        pytest.param(edit(), ["ctrl+u", "tab", "x"], id="edit-invalid"),
    ],
)
def test_snapshot_states(make: DialogFactory, press: list[str], snap_compare: Any) -> None:
    """Variants and states after some keys, at 80x24."""
    assert snap_compare(HostApp(make), press=press, terminal_size=(80, 24))
