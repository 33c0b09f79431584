"""OpstuiApp: the Textual app. It owns the client, the store, the one poll and the action path.

Screens show what the store publishes and ask the app to act; only the app's workers talk to the
server. The one poll is the data service's (:mod:`opstui.tui.data.service`): the hot set by
status every interval, the full list rarely, failures backed off by one rule and announced once
per outage. After an action, the affected rows are read again in a worker of their own, so that a
full list in flight is not cancelled.

Quitting while an action is on its way asks first; if the app ends anyway (quit anyway, SIGTERM,
SIGHUP: :mod:`opstui.tui.ending`), each such action's audit line is still written, with the
outcome unknown. If a bug ends the app, it shows no local variables and no token: one line, and a
report file to attach (:class:`opstui.tui.crash.CrashReporting`). The profile picker and the
switch of server live in :mod:`opstui.tui.profile_switch`.
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

from opstui.api import OpseraClient, Pipeline, RetryPolicy, Task
from opstui.audit import AuditLog
from opstui.config import ProfileInfo, Settings
from opstui.connect import open_client
from opstui.tui.actions import ActionRunner, Performed
from opstui.tui.commands import PipelineCommands
from opstui.tui.crash import CrashReporting
from opstui.tui.data.service import DataService
from opstui.tui.data.tasks import TaskFeed
from opstui.tui.ending import EndingSignals, exit_code, signal_name
from opstui.tui.format import safe_text
from opstui.tui.keymap import normalize_keymap
from opstui.tui.memory import IdleCollector
from opstui.tui.navigation import Navigation
from opstui.tui.notify import NEWS_GAP_SECONDS, TOAST_SECONDS, Notifier
from opstui.tui.profile_switch import ProfileSwitching
from opstui.tui.screens._explain import READ_ONLY
from opstui.tui.screens.pipelines import PipelinesScreen
from opstui.tui.store import PipelineStore
from opstui.tui.timer_guard import install as guard_timers
from opstui.tui.widgets.status_bar import Tenant

# The other screens, the dialogs and the keymap check (which reads every screen's keys) are
# imported where they are first needed: the app's start pays only for the pipelines screen.

__all__ = ["APP_RETRY", "OpstuiApp", "Start"]

guard_timers()  # a toast re-shown as it expires must not stop the app (opstui/tui/timer_guard.py)

APP_RETRY = RetryPolicy(attempts=2)
"""Reads from the app: the live refresh retries on its own schedule."""

Start = Literal["pipelines", "approvals"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OpstuiApp(Navigation, ProfileSwitching, CrashReporting):
    """Opsera pipelines, live, in a terminal.

    Attributes:
        settings: What the user configured.
        client: The one API client (closed on exit).
        audit: Where every action is recorded.
        actions: The one path every mutating key follows.
        store: The pipelines as last seen, and the live-refresh state.
        data: The one poll, feeding the store and the open details.
        action_done: Published with each :class:`~opstui.tui.actions.Performed` action.
    """

    CSS_PATH = "app.tcss"
    TITLE = "opstui"
    COMMANDS = App.COMMANDS | {PipelineCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("question_mark", "help", "Keys", id="help"),
        Binding("L", "audit", "Audit log", id="audit", show=False),
        Binding("P", "profiles", "Profiles", id="profiles", show=False),
        # Textual's own palette key, as Textual declares it, but with an id (to be remapped).
        Binding(
            App.COMMAND_PALETTE_BINDING,
            "command_palette",
            "palette",
            id="command-palette",
            show=False,
            priority=True,
            tooltip="Open the command palette",
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        start: Start = "pipelines",
        now: Callable[[], datetime] | None = None,
        client: OpseraClient | None = None,
        profiles: Callable[[], list[ProfileInfo]] | None = None,
        load_profile: Callable[[str], Settings] | None = None,
        no_switch: str | None = None,
    ) -> None:
        """Build the app; ``client`` replaces the one built from ``settings`` (tests).

        ``profiles`` lists the config file's profiles and ``load_profile`` loads one (its token
        read): the profile picker (``P``) uses them, since the app never reads config files
        itself. Without them, ``no_switch`` says why the server cannot be switched.
        """
        super().__init__()
        self._profiles = profiles
        self._load_profile = load_profile
        self._no_switch = no_switch
        self.settings = settings
        self.start = start
        self._clock = now or _utc_now
        self._base_theme: str | None = None
        """The theme of a profile that names none (a switch must not keep the last one's)."""
        self.action_done: Signal[Performed] = Signal(self, "action-done")
        self._connect(settings, client)
        self._asking = False
        self._ending = EndingSignals(self._ended_by_signal)
        self.keymap = normalize_keymap(settings.keymap)
        """The user's ``[keymap]``, keys in Textual's long form."""
        self.keymap_problems: list[str] = []
        """What is wrong with the keymap (said at start-up and in the help), one line each."""
        if self.keymap:  # no keymap, no problem: the screens' keys are read only for one
            from opstui.tui.keyscopes import check_keymap

            self.keymap_problems = check_keymap(self.keymap, type(self))
        self.set_keymap(self.keymap)

    def _connect(self, settings: Settings, client: OpseraClient | None = None) -> None:
        """Build everything that belongs to one profile: client, audit, actions, store, the
        data service and the notifier (what it remembers is that tenant's).

        The one place per-profile state is made, so that switching profile makes all of it anew.
        """
        self.settings = settings
        previous: DataService | None = getattr(self, "data", None)
        if previous is not None:
            previous.stop()  # the last profile's poll ends with it
        # Two tries absorb a blip; the store's own back-off does the rest, so a hung server
        # shows as offline after two timeouts rather than three. (The token is never held in a
        # local variable here: a crash report must not find it in a frame.)
        self.client = client or open_client(settings, retry=APP_RETRY)
        self.audit = AuditLog(settings.audit_log)
        self.actions = ActionRunner(
            self,
            self.client,
            self.audit,
            settings.server_label,
            profile=settings.profile,
            base_url=settings.base_url,
        )
        self.store = PipelineStore(self, refresh=settings.refresh)
        self.task_feed = TaskFeed(self, self.client, refresh=settings.refresh, now=self.now)
        self.notifier = self._new_notifier(settings)
        self.data = DataService(self, self.client, self.store, now=self.now, notifier=self.notifier)
        # Full collections at idle moments, from the mount on (why: opstui/tui/memory.py).
        self.idle_collector = IdleCollector(
            self,
            # Not while a batch is on its way: its re-check, its answer and the refresh after it
            # each bring a new generation of records, and a pass between them walks each.
            ready=lambda: self.data.froze and not self.actions.batch_in_flight(),
            # Only the first screen: another, or a dialog, is a cycle soon let go.
            at_rest=lambda: len(self.screen_stack) == 1,
        )

    @property
    def tenant(self) -> Tenant:
        """The server as every screen's header names it: profile, read-only, TLS unverified."""
        return Tenant(
            self.settings.server_label,
            read_only=self.settings.read_only,
            tls_unverified=not self.settings.verify_tls,
        )

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
        self._base_theme = self.theme
        self._apply_theme()
        if self.keymap_problems:
            self.notify(
                "\n".join(self.keymap_problems) + "\n(? lists them; every other key works)",
                title="Keymap",
                severity="warning",
                markup=False,
                timeout=15,
            )
        self._ending.catch()
        self.data.start()
        self.idle_collector.start()

    def _apply_theme(self) -> None:
        """The configured theme; an unknown name is said in one line, and the default kept."""
        name = self.settings.theme
        if not name:
            if self._base_theme is not None:
                self.theme = self._base_theme
            return
        if name in self.available_themes:
            self.theme = name
            return
        known = ", ".join(sorted(self.available_themes))
        self.notify(
            f"unknown theme {safe_text(name, 40)!r}: the default is used (themes: {known})",
            title="Theme",
            severity="warning",
            markup=False,
            timeout=10,
        )

    async def on_unmount(self) -> None:
        self.idle_collector.stop()
        self.data.stop()
        self.actions.abandon()  # an action still on its way: audited as unknown, before the end
        self.workers.cancel_all()  # no poll may start a request on the client closed below
        self._ending.release()
        await self.client.aclose()

    def _ended_by_signal(self, number: int) -> None:
        name = signal_name(number)
        self.actions.abandon(f"the app was ended by {name} before the server answered")
        self.exit(return_code=exit_code(number))

    # -- the live refresh -----------------------------------------------------------------

    def refresh_pipelines(self, ids: Sequence[str] | None = None) -> None:
        """The full list now (``ctrl+r``), or, given ``ids``, just those rows (one status read).

        The two never cancel each other: a full list in flight still lands after the rows of an
        action were read, and the store keeps, of two documents, the one updated later.
        """
        if ids:
            self.data.refresh_rows(ids)
        else:
            self.data.refresh_all()

    def _toast(self, message: str, severity: Severity) -> None:
        self.notify(message, severity=severity, markup=False, timeout=TOAST_SECONDS)

    def _emit(self, sequence: str) -> None:
        """Write a bell or a desktop-notification escape straight to the terminal."""
        if sequence == "\x07":
            self.bell()
        elif sequence and self._driver is not None and not self.is_headless:
            self._driver.write(sequence)

    def toggle_pause(self) -> None:
        """Pause the live refresh, or resume it (refreshing at once)."""
        self.data.set_paused(not self.store.state.paused)

    # -- actions --------------------------------------------------------------------------

    def perform_action(self, action: str, items: Sequence[Pipeline | Task]) -> None:
        """Start ``action`` on ``items`` through the one path, in a worker; then refresh them.

        One dialog at a time: a second action key pressed before the first dialog opened
        (keys typed ahead) is refused, never stacked.
        """
        if self.settings.read_only:  # every screen refuses first; this is the last word
            self.notify(READ_ONLY, severity="warning", markup=False, timeout=4)
            return
        if self._asking:
            self.notify("Finish the open dialog first.", severity="warning", timeout=3)
            return
        self._asking = True
        self._perform(action, list(items))

    def _answered(self) -> None:
        self._asking = False

    # A description of our own: Textual's default is the repr of every argument, which for an
    # action on 10,000 pipelines is seconds of the event loop.
    @work(group="actions", description="an action")
    async def _perform(self, action: str, items: list[Pipeline | Task]) -> None:
        done = await self.actions.perform(action, items, on_answered=self._answered)
        self.action_done.publish(done)
        if not done.sent or done.kind != "pipeline":
            return
        if action == "delete" and done.succeeded:
            self.store.apply_gone(done.succeeded)  # the server said it deleted them
        if action in ("delete", "clone"):
            self.refresh_pipelines()
        else:
            self.refresh_pipelines(done.sent)

    # -- profiles (the picker and the switch: opstui.tui.profile_switch) --------------------

    def _new_notifier(self, settings: Settings) -> Notifier:
        return Notifier(
            toast=self._toast,
            emit=self._emit,
            bell=settings.bell,
            desktop=settings.desktop,
            tmux=bool(os.environ.get("TMUX")),
            gap=NEWS_GAP_SECONDS,
            now=self.now,
        )

    # -- app keys -------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; while an action is on its way, only after saying yes to the question."""
        self._quit_or_ask()

    def action_help_quit(self) -> None:
        """ctrl+c: while an action is on its way, the quit question; otherwise how to quit."""
        if self.actions.in_flight:
            self._quit_or_ask()
        else:
            super().action_help_quit()

    def _quit_or_ask(self) -> None:
        from opstui.tui.dialogs import QuitDialog, Target

        if isinstance(self.screen, QuitDialog):
            return  # the question is open: it decides
        flights = self.actions.in_flight
        if not flights:
            self.exit()
            return
        targets = [
            Target(name=target.name or target.id, id=target.id)
            for flight in flights
            for target in flight.targets
        ]
        actions = [flight.action for flight in flights]
        self.push_screen(QuitDialog(targets=targets, actions=actions), callback=self._quit_answered)

    def _quit_answered(self, quit_anyway: bool | None) -> None:
        if quit_anyway:
            self.exit()
