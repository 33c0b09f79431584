"""What every screen shares with the app: one seam to hand an action over, the signal that says
when it was done, and the one-line status bar under a screen's title."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, cast

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.dom import DOMNode
from textual.signal import Signal

from opstui.api import Pipeline, Task
from opstui.tui.actions import Performed

__all__ = [
    "ActionHost",
    "hand_over",
    "status_bar",
    "subscribe_action_done",
    "unsubscribe_action_done",
]


class ActionHost(Protocol):
    """What the screens need from the app: one entry point for every action.

    ``perform_action`` shows the dialogs, re-checks and sends, in a worker of its own, and returns
    at once; the app's ``action_done`` signal says when the action was really sent.
    """

    def perform_action(self, action: str, items: Sequence[Pipeline | Task]) -> None:
        """Ask for, re-check and send ``action`` for ``items``."""
        ...


def hand_over(node: DOMNode, action: str, items: Sequence[Pipeline | Task]) -> None:
    """Give ``action`` for ``items`` to the app: the one seam between screens and actions."""
    cast(ActionHost, node.app).perform_action(action, list(items))


def subscribe_action_done(node: DOMNode, callback: Callable[[Performed], object]) -> None:
    """Call ``callback`` with each action the app completes, if the app publishes them.

    The app's ``perform_action`` may return before the action is sent (it runs the dialogs in a
    worker of its own); its ``action_done`` signal says when it is really done.
    """
    signal = getattr(node.app, "action_done", None)
    if isinstance(signal, Signal):
        signal.subscribe(node, callback)


def unsubscribe_action_done(node: DOMNode) -> None:
    """Undo :func:`subscribe_action_done` (on unmount).

    A Textual signal holds each subscriber strongly (its callback closes over the node) until the
    next publish finds it gone; actions can be rare, so a popped screen must let go itself.
    """
    signal = getattr(node.app, "action_done", None)
    if isinstance(signal, Signal):
        signal.unsubscribe(node)


def status_bar(left: Text, right: Text | str) -> RenderableType:
    """A one-line status bar; ``right`` always shows whole, ``left`` is cut when short of room.

    A plain-string ``right`` is a key hint, shown dim.
    """
    grid = Table.grid(padding=(0, 2), expand=True)
    grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    grid.add_row(left, Text(right, style="dim") if isinstance(right, str) else right)
    return grid
