"""Key-help sections every screen shows the same way (``?``).

A row's keys are read from the bindings (:class:`~opstui.tui.keymap.Bound`, by binding id), so a
key remapped in ``[keymap]`` shows where it really is; literal text only for keys no binding
holds (the table's own arrows and ``enter``).
"""

from __future__ import annotations

from textual.binding import Binding

from opstui.tui.keymap import Bound, KeySpec

__all__ = ["ACTION_BINDINGS", "ACTION_HELP", "ACTION_KEYS", "APP_HELP", "LIVE_HELP", "HelpSection"]

HelpSection = tuple[str, list[tuple[KeySpec, str]]]

LIVE_HELP: HelpSection = (
    "Live refresh",
    [
        (Bound(("pause",)), "Pause or resume"),
        (Bound(("refresh",)), "Refresh now"),
    ],
)
"""The app-wide live refresh's keys."""

APP_HELP: HelpSection = (
    "App",
    [
        (Bound(("help",)), "These keys"),
        (Bound(("command-palette",)), "Every command, searchable"),
        (Bound(("audit",)), "The audit log: what was done, newest first"),
        (Bound(("profiles",)), "Switch profile: another server"),
        (Bound(("quit",)), "Quit"),
    ],
)
"""Keys that work on every screen."""

ACTION_HELP: list[tuple[KeySpec, str]] = [
    (Bound(("run",)), "Run"),
    (Bound(("stop",)), "Stop"),
    (Bound(("reset",)), "Reset"),
    (Bound(("approve",)), "Approve the gate it waits at"),
    (Bound(("reject",)), "Reject the gate, with a reason"),
    (Bound(("edit",)), "Edit name and description"),
    (Bound(("clone",)), "Clone under a new name"),
    (Bound(("delete",)), "Delete (type the name to confirm)"),
]
"""The pipeline actions' keys, as every screen that acts on pipelines lists them."""

ACTION_BINDINGS: list[Binding] = [
    Binding("r", "run", "Run", id="run"),
    Binding("s", "stop", "Stop", id="stop"),
    Binding("R", "reset", "Reset", id="reset", show=False),
    Binding("a", "approve", "Approve", id="approve"),
    Binding("x", "reject", "Reject", id="reject"),
    Binding("e", "edit", "Edit", id="edit", show=False),
    Binding("c", "clone", "Clone", id="clone", show=False),
    Binding("D", "delete", "Delete", id="delete", show=False),
]
"""The pipeline actions' bindings, the same ids and footer on every screen that acts on
pipelines: one keymap entry remaps them everywhere."""

ACTION_KEYS: dict[str, str] = {
    "run": "run",
    "stop": "stop",
    "reset": "reset",
    "approve": "approve",
    "reject": "reject",
    "edit": "update",
    "clone": "clone",
    "delete": "delete",
}
"""Each screen action of :data:`ACTION_BINDINGS` -> the Opsera action it asks the app for
(``e``: ``update``), through the one path."""
