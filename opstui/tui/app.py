"""OpstuiApp: the Textual app. It owns the client, the store, the one poll and the action path.

Screens show what the store publishes and ask the app to act; only the app's workers talk to the
server. The poll is a one-shot timer re-armed when a poll ends, so polls never overlap; failures
back off (5, 10, 20, 40, 60 s) and are announced once per outage.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel as Severity
from textual.screen import Screen
from textual.signal import Signal
from textual.timer import Timer

from opstui.api import (
    AuthenticationError,
    OpseraClient,
    OpseraError,
    PermissionDeniedError,
    Pipeline,
    RetryPolicy,
    Task,
)
from opstui.audit import AuditLog
from opstui.config import Settings
from opstui.tui.actions import ActionRunner, Performed
from opstui.tui.commands import PipelineCommands
from opstui.tui.dialogs import HelpScreen
from opstui.tui.notify import Notifier
from opstui.tui.screens.approvals import ApprovalsScreen
from opstui.tui.screens.details import DetailsScreen
from opstui.tui.screens.pipelines import PipelinesScreen
from opstui.tui.screens.tasks import TasksScreen
from opstui.tui.store import PipelineStore, describe_error

__all__ = ["APP_RETRY", "OpstuiApp", "Start"]

APP_RETRY = RetryPolicy(attempts=2)
"""Reads from the app: the live refresh retries on its own schedule."""

Start = Literal["pipelines", "approvals"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OpstuiApp(App[None]):
    """Opsera pipelines, live, in a terminal.

    Attributes:
        settings: What the user configured.
        client: The one API client (closed on exit).
        audit: Where every action is recorded.
        actions: The one path every mutating key follows.
        store: The pipelines as last seen, and the live-refresh state.
        action_done: Published with each :class:`~opstui.tui.actions.Performed` action.
    """

    CSS_PATH = "app.tcss"
    TITLE = "opstui"
    COMMANDS = App.COMMANDS | {PipelineCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Keys", id="help"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        start: Start = "pipelines",
        now: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        base_url, token = settings.require_server()
        self.settings = settings
        self.start = start
        self._clock = now or _utc_now
        # Two tries absorb a blip; the store's own back-off does the rest, so a hung server
        # shows as offline after two timeouts rather than three.
        self.client = OpseraClient(base_url, token, timeout=settings.timeout, retry=APP_RETRY)
        self.audit = AuditLog(settings.audit_log)
        self.actions = ActionRunner(self, self.client, self.audit, settings.server_label)
        self.store = PipelineStore(self, refresh=settings.refresh)
        self.action_done: Signal[Performed] = Signal(self, "action-done")
        self.notifier = Notifier(
            toast=self._toast,
            emit=self._emit,
            bell=settings.bell,
            desktop=settings.desktop,
            tmux=bool(os.environ.get("TMUX")),
        )
        self._poll_timer: Timer | None = None
        self._asking = False
        self._quit_asked = False

    def now(self) -> datetime:
        """The time every relative time on screen is measured from."""
        return self._clock()

    # -- life cycle -----------------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        # Under the inbox (``--approvals``), the pipelines screen waits on its own quick view of
        # the gates: escape or ``A`` lands there, one key (1) from every pipeline.
        return PipelinesScreen(self.store, quick="awaiting" if self.start == "approvals" else "all")

    def on_mount(self) -> None:
        if self.start == "approvals":
            self.open_approvals()
        if (
            not self.is_headless
            and not self.no_color
            and self.console.color_system in ("standard", "windows")
        ):
            # In 16 colours the default theme's shades collapse (yellow turns red): use the
            # terminal's own palette, which its user chose to be readable.
            self.theme = "ansi-dark"
        self.refresh_pipelines()

    async def on_unmount(self) -> None:
        self._stop_timer()
        await self.client.aclose()

    # -- the live refresh -----------------------------------------------------------------

    def _stop_timer(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None

    def _arm_timer(self) -> None:
        self._stop_timer()
        if not self.store.state.paused:
            self._poll_timer = self.set_timer(self.store.next_delay(), self._poll_due)

    def _poll_due(self) -> None:
        self._poll_timer = None
        self.refresh_pipelines()

    @work(exclusive=True, group="refresh")
    async def refresh_pipelines(self, ids: Sequence[str] | None = None) -> None:
        """Refresh every pipeline (or, given ``ids``, just those, with one status request).

        Exclusive: a new refresh cancels the one in flight, whose answer then never lands.
        The next poll is armed when this one ends (not when it is cancelled).
        """
        self._stop_timer()
        if ids:
            try:
                fresh = await self.client.pipeline_status(ids)
            except OpseraError:
                pass  # the next full poll tells the story (and backs off) if the server is down
            else:
                self.store.apply_status(ids, fresh)
        else:
            try:
                pipelines = await self.client.list_pipelines()
            except OpseraError as error:
                self._refresh_failed(error)
            else:
                self.store.apply_list(pipelines)
                if self.store.succeeded(self.now()):
                    self.notify("Back online: the pipelines are live again.", timeout=5)
                self.notifier.observe(self.store.pipelines.values())
        self._arm_timer()

    def _refresh_failed(self, error: OpseraError) -> None:
        if not self.store.failed(error, self.now()):
            return  # still the same outage: it was announced once already
        refused = isinstance(error, AuthenticationError | PermissionDeniedError)
        self.notify(
            describe_error(error),
            title="Token refused" if refused else "Offline",
            severity="error" if refused else "warning",
            markup=False,
            timeout=12,
        )

    def _toast(self, message: str, severity: Severity) -> None:
        self.notify(message, severity=severity, markup=False, timeout=8)

    def _emit(self, sequence: str) -> None:
        """Write a bell or a desktop-notification escape straight to the terminal."""
        if sequence == "\x07":
            self.bell()
        elif sequence and self._driver is not None and not self.is_headless:
            self._driver.write(sequence)

    def toggle_pause(self) -> None:
        """Pause the live refresh, or resume it (refreshing at once)."""
        paused = not self.store.state.paused
        self.store.set_paused(paused)
        if paused:
            self._stop_timer()
        else:
            self.refresh_pipelines()

    # -- actions --------------------------------------------------------------------------

    def perform_action(self, action: str, items: Sequence[Pipeline | Task]) -> None:
        """Start ``action`` on ``items`` through the one path, in a worker; then refresh them.

        One dialog at a time: a second action key pressed before the first dialog opened
        (keys typed ahead) is refused, never stacked.
        """
        if self._asking:
            self.notify("Finish the open dialog first.", severity="warning", timeout=3)
            return
        self._asking = True
        self._perform(action, list(items))

    def _answered(self) -> None:
        self._asking = False

    @work(group="actions")
    async def _perform(self, action: str, items: list[Pipeline | Task]) -> None:
        done = await self.actions.perform(action, items, on_answered=self._answered)
        self._quit_asked = False
        self.action_done.publish(done)
        if not done.sent or done.kind != "pipeline":
            return
        if action in ("delete", "clone"):
            self.refresh_pipelines()
        else:
            self.refresh_pipelines(done.sent)

    # -- other screens --------------------------------------------------------------------

    def open_details(self, pipeline: Pipeline) -> None:
        """Push the details of ``pipeline``."""
        self.push_screen(
            DetailsScreen(pipeline, client=self.client, now=self.now, refresh=self.settings.refresh)
        )

    def open_approvals(self) -> None:
        """Show the approvals inbox over the pipelines (``A`` or escape comes back)."""
        if not isinstance(self.screen, ApprovalsScreen):
            self.push_screen(ApprovalsScreen(self.store))

    def close_approvals(self) -> None:
        """Leave the approvals inbox for the pipelines screen under it."""
        if isinstance(self.screen, ApprovalsScreen) and len(self.screen_stack) > 1:
            self.pop_screen()

    def open_tasks(self) -> None:
        """Show the tasks (their screen returns here with escape or ``t``)."""
        self.push_screen(
            TasksScreen(client=self.client, now=self.now, refresh=self.settings.refresh)
        )

    # -- app keys -------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key of the current screen."""
        sections = getattr(self.screen, "KEY_HELP", None) or PipelinesScreen.KEY_HELP
        self.push_screen(HelpScreen(sections=sections))

    async def action_quit(self) -> None:
        """Quit; while an action is being sent, only on a second press (its outcome is lost)."""
        sending = any(worker.group == "actions" and worker.is_running for worker in self.workers)
        if sending and not self._quit_asked:
            self._quit_asked = True
            self.notify(
                "An action is still being sent: its outcome would not be shown or recorded. "
                "Press q again to quit anyway.",
                severity="warning",
                timeout=5,
            )
            return
        self.exit()
