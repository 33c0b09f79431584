"""The command palette (``ctrl+p``): every action of the screen shown, searchable by name.

The pipelines screen and the approvals inbox each have their list. A command does exactly what
its key does, through the same screen action: one that does not apply to the selection says why
instead of acting.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from opstui.tui.screens._acting import ActingScreen

__all__ = ["APPROVALS_COMMANDS", "COMMANDS", "PipelineCommands"]

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
    ("Approvals inbox", "approvals", "Only the gates that wait, longest waiting first (A)"),
    ("Sort by the next column", "next_sort", "Name, state, last run, run number (o)"),
    ("Reverse the sort", "reverse_sort", "(O)"),
    ("Pause or resume the refresh", "toggle_pause", "Live refresh (p)"),
    ("Refresh now", "refresh_now", "(ctrl+r)"),
    ("Tasks", "tasks", "Switch to the tasks (t)"),
    ("Keys", "app.help", "Every key (?)"),
)
"""(title, screen action, help) of every command of the pipelines screen."""

APPROVALS_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Approve", "approve", "Approve the gate the selected pipelines wait at (a)"),
    ("Reject", "reject", "Reject the gate, with a reason (x)"),
    ("Details", "details", "Open the highlighted pipeline (enter)"),
    ("Mark or unmark", "toggle_mark", "Mark the highlighted pipeline (space)"),
    ("Mark all shown", "mark_shown", "Mark every gate of the inbox (*)"),
    ("Unmark all", "clear_marks", "Unmark every pipeline (u)"),
    ("Back to the pipelines", "back", "Leave the approvals inbox (A, escape)"),
    ("Pause or resume the refresh", "toggle_pause", "Live refresh (p)"),
    ("Refresh now", "refresh_now", "(ctrl+r)"),
    ("Keys", "app.help", "Every key (?)"),
)
"""(title, screen action, help) of every command of the approvals inbox."""


class PipelineCommands(Provider):
    """Every action of the pipelines screen, or of the approvals inbox."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        from opstui.tui.screens.approvals import ApprovalsScreen
        from opstui.tui.screens.pipelines import PipelinesScreen

        screen = self.screen
        if isinstance(screen, ApprovalsScreen):
            commands = APPROVALS_COMMANDS
        elif isinstance(screen, PipelinesScreen):
            commands = COMMANDS
        else:
            return []
        return [(title, help, partial(_run, screen, action)) for title, action, help in commands]

    async def discover(self) -> Hits:
        for title, help, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help)


async def _run(screen: ActingScreen, action: str) -> None:
    if action == "details":
        screen.open_highlighted()
    elif action in screen.ACTIONS:
        screen.perform(action)  # explains, where Textual would silently skip a greyed action
    else:
        await screen.run_action(action)
