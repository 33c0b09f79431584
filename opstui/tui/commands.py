"""The command palette (``ctrl+p``): every action of the pipelines screen, searchable by name.

A command does exactly what its key does, through the same screen action: one that does not
apply to the selection says why instead of acting.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from opstui.tui.screens.pipelines import PipelinesScreen

__all__ = ["COMMANDS", "PipelineCommands"]

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Run", "run", "Start a run of the selected pipelines (r)"),
    ("Stop", "stop", "Stop the selected pipelines' runs (s)"),
    ("Reset", "reset", "Reset the selected pipelines (R)"),
    ("Approve", "approve", "Approve the gate the selected pipelines wait at (a)"),
    ("Reject", "reject", "Reject the gate, with a reason (x)"),
    ("Edit", "edit", "Change the pipeline's name and description (e)"),
    ("Clone", "clone", "Copy the pipeline under a new name (c)"),
    ("Delete", "delete", "Delete the selected pipelines (D)"),
    ("Details", "details", "Open the highlighted pipeline (enter)"),
    ("Mark or unmark", "toggle_mark", "Mark the highlighted pipeline (space)"),
    ("Mark all shown", "mark_shown", "Mark every pipeline the view shows (*)"),
    ("Unmark all", "clear_marks", "Unmark every pipeline (u)"),
    ("Filter", "filter", "Filter by name, id, owner or tag (/)"),
    ("Clear the filter", "clear_filter", "Show every pipeline of the view again (escape)"),
    ("Show all pipelines", "quick_view('all')", "Quick view (1)"),
    ("Show awaiting approval", "quick_view('awaiting')", "Quick view (2)"),
    ("Show running", "quick_view('running')", "Quick view (3)"),
    ("Show failed", "quick_view('failed')", "Quick view (4)"),
    ("Sort by the next column", "next_sort", "Name, state, last run, run number (o)"),
    ("Reverse the sort", "reverse_sort", "(O)"),
    ("Pause or resume the refresh", "toggle_pause", "Live refresh (p)"),
    ("Refresh now", "refresh_now", "(ctrl+r)"),
    ("Tasks", "tasks", "Switch to the tasks (t)"),
    ("Keys", "app.help", "Every key (?)"),
)
"""(title, screen action, help) of every command."""


class PipelineCommands(Provider):
    """Every action of the pipelines screen."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        from opstui.tui.screens.pipelines import PipelinesScreen

        screen = self.screen
        if not isinstance(screen, PipelinesScreen):
            return []
        return [(title, help, partial(_run, screen, action)) for title, action, help in COMMANDS]

    async def discover(self) -> Hits:
        for title, help, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help)


async def _run(screen: PipelinesScreen, action: str) -> None:
    from opstui.tui.screens.pipelines import ACTION_KEYS

    if action == "details":
        screen.open_highlighted()
    elif action in ACTION_KEYS:
        screen.perform(action)  # explains, where Textual would silently skip a greyed action
    else:
        await screen.run_action(action)
