"""One pipeline, in full and live: its facts, its gate, its plan and its activity log.

The screen holds no client and runs no poll: the app's data service reads the open pipeline with
every poll (it is in the hot set) and its activity log after it; the pipeline comes from the store,
the log from the service's :class:`~opstui.tui.data.details.DetailsRead`. A failed poll keeps the
last data on screen and says "offline · retrying" quietly; the service backs off by the one rule.
Only a 404 for this pipeline (or a complete list without it) says "deleted". Action keys hand the
pipeline to the app (``app.perform_action``), which asks, re-checks and sends; then the screen asks
the service to read it at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Static

from opstui.api import ActivityEntry, Pipeline
from opstui.api.rules import why_not
from opstui.tui.actions import Performed
from opstui.tui.data.details import DetailsRead, LiveStatus
from opstui.tui.format import safe_text
from opstui.tui.keymap import Bound
from opstui.tui.screens._details_render import render_gate, render_heading, render_summary
from opstui.tui.screens._explain import READ_ONLY, ExplainingScreen
from opstui.tui.screens._hosting import (
    ActionHost,
    hand_over,
    status_bar,
    subscribe_action_done,
    unsubscribe_action_done,
)
from opstui.tui.screens._keys import (
    ACTION_BINDINGS,
    ACTION_HELP,
    ACTION_KEYS,
    APP_HELP,
    HelpSection,
)
from opstui.tui.screens._pipeline_actions import PipelineActions
from opstui.tui.store import PipelinesChanged
from opstui.tui.widgets.activity_log import ActivityLog
from opstui.tui.widgets.footer import KeysFooter
from opstui.tui.widgets.plan_view import PlanView
from opstui.tui.widgets.status_bar import Tenant

if TYPE_CHECKING:
    from opstui.tui.data.service import DataService

__all__ = [
    "ActionHost",
    "DetailsScreen",
    "LiveStatus",
    "hand_over",
    "render_gate",
    "render_heading",
    "render_summary",
    "status_bar",
    "subscribe_action_done",
    "unsubscribe_action_done",
]


class DetailsScreen(PipelineActions, ExplainingScreen):
    """One pipeline in full, refreshed live, with its action keys (:class:`PipelineActions`,
    on this one pipeline)."""

    MUTATING = frozenset(ACTION_KEYS)

    DEFAULT_CSS = """
    DetailsScreen {
        layout: vertical;
    }
    DetailsScreen #details-heading {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    DetailsScreen #details-body {
        height: 1fr;
    }
    DetailsScreen #details-notice {
        display: none;
        margin: 1 1 0 1;
        padding: 0 1;
        color: $text-error;
        background: $error-muted;
        text-style: bold;
    }
    DetailsScreen #details-notice.-shown {
        display: block;
    }
    DetailsScreen #details-summary {
        height: auto;
        padding: 0 1;
    }
    DetailsScreen #details-gate {
        display: none;
        height: auto;
        margin: 0 1;
        padding: 0 1;
        border: round $warning;
        border-title-color: $warning;
        border-title-style: bold;
    }
    DetailsScreen #details-gate.-shown {
        display: block;
    }
    DetailsScreen .section {
        height: 1;
        margin: 1 0 0 0;
        padding: 0 1;
        color: $text-accent;
        text-style: bold;
    }
    DetailsScreen #details-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    DetailsScreen #details-status.-offline {
        color: $text-warning;
        text-style: bold;
    }
    DetailsScreen.-deleted #details-body {
        opacity: 70%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back", show=False),
        *ACTION_BINDINGS,
        Binding("ctrl+r", "refresh_now", "Refresh now", id="refresh", show=False),
    ]
    """Binding ids, and which keys the footer shows, match the pipelines screen's: one keymap
    entry remaps a key on both, and the footer fits 80 columns (``?`` lists every key)."""

    KEY_HELP: ClassVar[list[HelpSection]] = [
        (
            "Look",
            [
                ("up/down, pgup/pgdn", "Scroll"),
                ("home / end", "Top / bottom"),
                (Bound(("back",)), "Back to the pipelines"),
            ],
        ),
        (
            "Act on this pipeline (a greyed key says why when pressed)",
            [
                *ACTION_HELP,
            ],
        ),
        ("Live refresh", [(Bound(("refresh",)), "Refresh now")]),
        APP_HELP,
    ]
    """The key reference the app's help (``?``) shows on this screen."""

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        data: DataService,
        now: Callable[[], datetime],
        tenant: Tenant | None = None,
    ) -> None:
        super().__init__()
        self.tenant = tenant
        """The server, named in the heading."""
        self.pipeline = pipeline
        """The pipeline as last seen (the store's, replaced when a read brings a newer one)."""
        self.entries: list[ActivityEntry] = []
        """Its activity log as last seen, newest first."""
        self.deleted = False
        """True once the server said the pipeline no longer exists."""
        self.live = LiveStatus()
        """The live refresh's state, for the status line."""
        self.data = data
        """The app's data service: it reads this pipeline, and says what it read."""
        self.now = now

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="details-heading", markup=False)
        with VerticalScroll(id="details-body"):
            yield Static(id="details-notice", markup=False)
            yield Static(id="details-summary", markup=False)
            gate = Static(id="details-gate", markup=False)
            gate.border_title = "Awaiting approval"
            yield gate
            yield Static("Plan", classes="section", markup=False)
            yield PlanView(id="details-plan")
            yield Static("Activity · newest first", classes="section", markup=False)
            yield ActivityLog(id="details-activity")
        yield Static(id="details-status", markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self._safely(self._render_pipeline, self._render_status)
        self.set_interval(1.0, self._tick, name="details-tick")
        subscribe_action_done(self, self._action_done)
        self.data.store.changed.subscribe(self, self._store_changed)
        self.data.details.subscribe(self, self._details_read)
        self.data.open_details(self, self.pipeline.id)

    def _safely(self, *renders: Callable[[], None]) -> None:
        """Render these parts, unless the screen is being taken down.

        Keys typed ahead (``enter`` then ``escape``) can pop the screen while it mounts, or
        before its first poll answers: its parts may then be gone, and that is no error.
        """
        if not self.on_stack:
            return
        try:
            for render in renders:
                render()
        except NoMatches:
            return

    def on_unmount(self) -> None:
        unsubscribe_action_done(self)
        self.data.store.changed.unsubscribe(self)
        self.data.details.unsubscribe(self)
        self.data.close_details(self)

    # -- live refresh ---------------------------------------------------------------------

    def refresh_now(self) -> None:
        """Read the pipeline now (after an action, say), instead of waiting for the next poll."""
        if not self.deleted:
            self.data.refresh_details(self)

    def _store_changed(self, change: PipelinesChanged) -> None:
        """A read landed: a newer document of this pipeline, or the proof that it is gone."""
        if self.deleted:
            return
        if self.pipeline.id in change.removed:
            self._mark_deleted()
            return
        current = change.pipelines.get(self.pipeline.id)
        if current is not None and current is not self.pipeline:
            self.pipeline = current
            self._safely(self._render_pipeline)

    def _details_read(self, read: DetailsRead) -> None:
        """The service read this pipeline's details (or failed to)."""
        if read.pipeline_id != self.pipeline.id or self.deleted:
            return
        if read.deleted:
            self._mark_deleted()
            return
        if read.error:
            self.live.failed_until(read.error, read.retry_at)
            self._safely(self._render_status)
            return
        current = self.data.store.pipelines.get(self.pipeline.id)
        if current is not None:
            self.pipeline = current
        entries = read.entries
        if entries is not None:
            self.entries = entries
        self.live.succeeded(self.now(), read.note)
        self._safely(
            self._render_pipeline,
            lambda: self.query_one(ActivityLog).show(self.entries, self.now()),
            self._render_status,
        )

    def _mark_deleted(self) -> None:
        if not self.on_stack:
            return
        self.deleted = True
        self.data.close_details(self)  # nothing more to read
        self.add_class("-deleted")
        notice = self.query_one("#details-notice", Static)
        notice.update(
            Text(
                "This pipeline no longer exists on the server: it was deleted. "
                "What follows is how it last looked."
            )
        )
        notice.add_class("-shown")
        self.query_one("#details-status", Static).update(
            status_bar(Text("deleted · no longer refreshed"), "esc back")
        )
        self.query_one("#details-status", Static).remove_class("-offline")
        self.refresh_bindings()

    def _tick(self) -> None:
        """Keep the relative times (waiting for, last run, updated) current between polls."""
        if not self.deleted:
            self._safely(self._render_times, self._render_status)

    # -- rendering ------------------------------------------------------------------------

    def _render_pipeline(self) -> None:
        pipeline = self.pipeline
        self.query_one("#details-heading", Static).update(render_heading(pipeline, self.tenant))
        self._render_times()
        self.query_one(PlanView).show(pipeline)
        self.refresh_bindings()

    def _render_times(self) -> None:
        """The parts that show times relative to now: the summary and the gate."""
        now = self.now()
        self.query_one("#details-summary", Static).update(render_summary(self.pipeline, now))
        gate = self.query_one("#details-gate", Static)
        gate_view = render_gate(self.pipeline, now)
        gate.set_class(gate_view is not None, "-shown")
        if gate_view is not None:
            gate.update(gate_view)

    def _render_status(self) -> None:
        status = self.query_one("#details-status", Static)
        status.update(status_bar(self.live.text(self.now()), "esc back"))
        status.set_class(self.live.offline, "-offline")

    # -- actions --------------------------------------------------------------------------

    def why_not(self, action: str) -> str | None:
        """Why the Opsera ``action`` does not apply to this pipeline now; None when it does."""
        if self.deleted:
            return "was deleted"
        return why_not(action, self.pipeline)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out the action keys that do not apply to the pipeline as last seen."""
        if action in ACTION_KEYS:
            if self.refusal(action):
                return None
            return None if self.why_not(ACTION_KEYS[action]) else True
        return True

    def reason_for_key(self, action: str) -> str | None:
        """Why an action key does nothing here now, naming the pipeline; None if it applies."""
        refused = self.refusal(action)
        if refused is not None:
            return refused
        api_action = ACTION_KEYS.get(action)
        reason = self.why_not(api_action) if api_action is not None else None
        if reason is None:
            return None
        return f"{safe_text(self.pipeline.name or self.pipeline.id, 60)} {reason}."

    def _action_done(self, done: Performed) -> None:
        """The app finished an action (from any screen): read now if it touched pipelines."""
        if done.sent and done.kind == "pipeline" and not self.deleted:
            self.refresh_now()

    def perform(self, action: str) -> None:
        """Hand the screen action ``action`` for this pipeline to the app (the screen reads
        again when ``action_done`` says it was sent)."""
        if self.read_only:
            self.explain(READ_ONLY)
            return
        hand_over(self, ACTION_KEYS[action], [self.pipeline])

    def action_refresh_now(self) -> None:
        """Read the pipeline now."""
        self.refresh_now()

    def action_back(self) -> None:
        """Back to where the screen was opened from."""
        if self.app.screen is not self:
            return  # a second escape typed ahead: this screen is on its way out already
        # A read still on its way lands nowhere: the screen lets go of the service as it goes.
        self.data.close_details(self)
        self.app.pop_screen()
