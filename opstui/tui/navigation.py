"""The screens the app opens over the pipelines: details, the approvals inbox, tasks, the audit
log and the keys' help (each imported where it is first opened: the app's start pays only for
the pipelines screen).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from opstui.api import Pipeline
from opstui.config import Settings
from opstui.tui.screens.pipelines import PipelinesScreen

if TYPE_CHECKING:
    from opstui.tui.data.service import DataService
    from opstui.tui.data.tasks import TaskFeed
    from opstui.tui.store import PipelineStore
    from opstui.tui.widgets.status_bar import Tenant

__all__ = ["Navigation"]


class Navigation(App[None]):
    """Opening (and leaving) the app's other screens."""

    settings: Settings
    store: PipelineStore
    data: DataService
    task_feed: TaskFeed
    keymap: dict[str, str]
    keymap_problems: list[str]
    if TYPE_CHECKING:  # the app's own

        @property
        def tenant(self) -> Tenant: ...

        def now(self) -> datetime: ...

    def open_details(self, pipeline: Pipeline) -> None:
        """Push the details of ``pipeline``."""
        from opstui.tui.screens.details import DetailsScreen

        self.push_screen(DetailsScreen(pipeline, data=self.data, now=self.now, tenant=self.tenant))

    def open_approvals(self) -> None:
        """Show the approvals inbox over the pipelines (``A`` or escape comes back)."""
        from opstui.tui.screens.approvals import ApprovalsScreen

        if not isinstance(self.screen, ApprovalsScreen):
            self.push_screen(ApprovalsScreen(self.store))

    def close_approvals(self) -> None:
        """Leave the approvals inbox for the pipelines screen under it."""
        from opstui.tui.screens.approvals import ApprovalsScreen

        if isinstance(self.screen, ApprovalsScreen) and len(self.screen_stack) > 1:
            self.pop_screen()

    def open_tasks(self) -> None:
        """Show the tasks (their screen returns here with escape or ``t``)."""
        from opstui.tui.screens.tasks import TasksScreen

        self.push_screen(TasksScreen(self.task_feed, now=self.now, tenant=self.tenant))

    def open_audit(self) -> None:
        """Show the audit log, newest first (escape comes back)."""
        from opstui.tui.screens.audit import AuditScreen

        if not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen(self.settings.audit_log, tenant=self.tenant))

    def action_audit(self) -> None:
        """The audit log: open it, or, from it, go back."""
        from opstui.tui.screens.audit import AuditScreen

        if isinstance(self.screen, AuditScreen):
            self.screen.action_back()
        else:
            self.open_audit()

    def active_keys(self, screen: Screen[Any] | None = None) -> list[Binding]:
        """The keys of ``screen`` (the current one) and of the app, as the keymap left them."""
        from opstui.tui.keyscopes import bindings_on

        return bindings_on(screen or self.screen, type(self), self.keymap)

    def action_help(self) -> None:
        """Show every key of the current screen, where the keymap put it."""
        from opstui.tui.dialogs import HelpScreen
        from opstui.tui.keyscopes import help_sections

        screen = self.screen
        sections = getattr(screen, "KEY_HELP", None) or PipelinesScreen.KEY_HELP
        resolved = help_sections(sections, self.active_keys(screen), self.keymap_problems)
        self.push_screen(HelpScreen(sections=resolved))
