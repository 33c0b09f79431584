"""Every screen's keys, as the keymap left them: for the start-up check, the help and the palette.

A key is read where Textual reads it: the screen's bindings, then the app's. A dialog is a screen
of its own (modal: the app's keys under it do not apply), so it is checked on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.binding import Binding
from textual.screen import Screen

from opstui.tui.dialogs import (
    CloneDialog,
    ConfirmDialog,
    DeleteDialog,
    EditPipelineDialog,
    HelpScreen,
    QuitDialog,
    RejectDialog,
)
from opstui.tui.dialogs.profiles import ProfilePicker
from opstui.tui.keymap import (
    KeyScope,
    KeySpec,
    class_bindings,
    conflicts,
    remapped,
    resolve,
    unknown_ids,
)
from opstui.tui.screens.approvals import ApprovalsScreen
from opstui.tui.screens.audit import AuditScreen
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.pipelines import PipelinesScreen
from opstui.tui.screens.tasks import TasksScreen

__all__ = ["DIALOGS", "SCREENS", "bindings_on", "check_keymap", "help_sections"]

SCREENS: tuple[tuple[str, type[Screen[Any]]], ...] = (
    ("pipelines", PipelinesScreen),
    ("approvals inbox", ApprovalsScreen),
    ("details", DetailsScreen),
    ("tasks", TasksScreen),
    ("audit log", AuditScreen),
)
"""The app's screens, by the name a problem calls them."""

DIALOGS: tuple[tuple[str, type[Screen[Any]]], ...] = (
    ("confirmation", ConfirmDialog),
    ("reject", RejectDialog),
    ("delete", DeleteDialog),
    ("edit", EditPipelineDialog),
    ("clone", CloneDialog),
    ("quit", QuitDialog),
    ("help", HelpScreen),
    ("profile picker", ProfilePicker),
)
"""The modal dialogs: their keys alone apply while they are open."""


def check_keymap(keymap: Mapping[str, str], app_class: type) -> list[str]:
    """What is wrong with ``keymap`` (normalized) for this app, one sentence each."""
    app_keys = class_bindings(app_class)
    scopes = [KeyScope(name, [*class_bindings(cls), *app_keys]) for name, cls in SCREENS]
    scopes += [KeyScope(name, class_bindings(cls)) for name, cls in DIALOGS]
    problems = unknown_ids(keymap, [binding for scope in scopes for binding in scope.bindings])
    for scope in scopes:
        problems += conflicts(keymap, scope)
    return problems


def bindings_on(screen: Screen[Any], app_class: type, keymap: Mapping[str, str]) -> list[Binding]:
    """The keys of ``screen`` (and of the app, unless the screen is modal), the keymap applied."""
    own = class_bindings(type(screen))
    return remapped([*own, *([] if screen.is_modal else class_bindings(app_class))], keymap)


def help_sections(
    sections: Sequence[tuple[str, Sequence[tuple[KeySpec, str]]]],
    bindings: Sequence[Binding],
    problems: Sequence[str] = (),
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The help's sections with every key read from ``bindings``; first, the keymap's problems.

    A row whose keys are all unbound (no binding with those ids on this screen) is left out.
    """
    resolved: list[tuple[str, list[tuple[str, str]]]] = []
    if problems:
        resolved.append(("Keymap problems (the config's [keymap])", [("!", p) for p in problems]))
    for title, rows in sections:
        shown = [
            (keys, text) for keys, text in ((resolve(s, bindings), t) for s, t in rows) if keys
        ]
        if shown:
            resolved.append((title, shown))
    return resolved
