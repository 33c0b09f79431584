"""The command palette (``ctrl+p``): every action of the screen, searchable by name.

The commands are generated from the screen's bindings and the app's, as the keymap left them:
each command names the key it is on now (a key remapped in ``[keymap]`` shows where it really
is). A command does exactly what its key does, through the same screen action: one that does not
apply now (a greyed key; every mutating one under a read-only profile) says why instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from opstui.tui.keymap import class_bindings, key_label, remapped

if TYPE_CHECKING:
    from opstui.tui.app import OpstuiApp

__all__ = ["ACTION_TEXT", "Command", "PipelineCommands", "commands_for"]

ACTION_TEXT: dict[str, tuple[str, str]] = {
    "run": ("Run", "Start a run of the selection"),
    "stop": ("Stop", "Stop the selection's runs"),
    "reset": ("Reset", "Reset the selected pipelines"),
    "approve": ("Approve", "Approve the gate the selected pipelines wait at"),
    "reject": ("Reject", "Reject the gate, with a reason"),
    "edit": ("Edit", "Change the pipeline's name and description"),
    "clone": ("Clone", "Copy the pipeline under a new name"),
    "delete": ("Delete", "Delete the selected pipelines"),
    "details": ("Details", "Open the highlighted pipeline"),
    "toggle_mark": ("Mark or unmark", "Mark the highlighted row"),
    "mark_shown": ("Mark all shown", "Mark every row shown"),
    "clear_marks": ("Unmark all", "Unmark every row"),
    "filter": ("Filter", "Filter by name, id, owner or tag"),
    "clear_filter": ("Clear the filter", "Show every pipeline of the view again"),
    "quick_view('all')": ("Show all pipelines", "Quick view"),
    "quick_view('awaiting')": ("Show awaiting approval", "Quick view"),
    "quick_view('running')": ("Show running", "Quick view"),
    "quick_view('failed')": ("Show failed", "Quick view"),
    "approvals": ("Approvals inbox", "Only the gates that wait, longest waiting first"),
    "next_sort": ("Sort by the next column", "Name, state, last run, run number"),
    "reverse_sort": ("Reverse the sort", ""),
    "toggle_pause": ("Pause or resume the refresh", "Live refresh"),
    "refresh_now": ("Refresh now", ""),
    "tasks": ("Tasks", "Switch to the tasks"),
    "back": ("Back", "Leave this screen"),
    "audit": ("Audit log", "What was done, newest first"),
    "profiles": ("Switch profile", "Another server from the config's profiles"),
    "help": ("Keys", "Every key"),
    "quit": ("Quit", ""),
}
"""(title, help) of each action a command can run; an action not listed is no command."""

Command = tuple[str, str, Callable[[], object]]
"""A command: title, help (with its key), and what it runs."""


def _with_keys(help: str, keys: Sequence[str]) -> str:
    shown = ", ".join(keys)
    if not shown:
        return help
    return f"{help} ({shown})" if help else f"({shown})"


def commands_for(screen: Screen[object], app: OpstuiApp) -> list[Command]:
    """The commands of ``screen``: its own actions, then the app's, each with its keys now."""
    from opstui.tui.screens._acting import ActingScreen

    own = remapped(class_bindings(type(screen)), app.keymap)
    global_keys = remapped(class_bindings(type(app)), app.keymap)
    found: dict[tuple[bool, str], list[str]] = {}
    for is_app, bindings in ((False, own), (True, global_keys)):
        for binding in bindings:
            if binding.action in ACTION_TEXT:
                found.setdefault((is_app, binding.action), []).append(key_label(binding.key))
    if isinstance(screen, ActingScreen):
        found = {(False, "details"): ["enter"], **found}
    commands: list[Command] = []
    for (is_app, action), keys in found.items():
        title, help = ACTION_TEXT[action]
        run = partial(app.run_action, action) if is_app else partial(_run, screen, action)
        commands.append((title, _with_keys(help, list(dict.fromkeys(keys))), run))
    return commands


class PipelineCommands(Provider):
    """Every action of the screen under the palette, and the app's."""

    def _commands(self) -> list[Command]:
        app = cast("OpstuiApp", self.app)
        if not hasattr(app, "keymap"):
            return []
        return commands_for(self.screen, app)

    async def discover(self) -> Hits:
        for title, help, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help)


async def _run(screen: Screen[object], action: str) -> None:
    from opstui.tui.screens._acting import ActingScreen
    from opstui.tui.screens._explain import ExplainingScreen

    if isinstance(screen, ActingScreen) and action == "details":
        screen.open_highlighted()
    elif isinstance(screen, ActingScreen) and action in screen.ACTIONS:
        screen.perform(action)  # explains, where Textual would silently skip a greyed action
    elif isinstance(screen, ExplainingScreen):
        await screen.run_or_explain(action)
    else:
        await screen.run_action(action)
