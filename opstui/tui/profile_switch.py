"""Switching server without a restart: the profile picker (``P``) and what a switch remakes.

Everything per-profile (client, audit, actions, store, data service, notifier) is made by the
app's ``_connect``; a switch stops the poll, remakes all of it, takes every screen down (marks,
the inbox, the details and their polls with them), shows a fresh pipelines screen, and only then
closes the old client: the old profile's token goes nowhere after that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import App

from opstui.api import OpseraClient, OpseraError
from opstui.config import ConfigError, ProfileInfo, Settings
from opstui.tui.format import safe_text

if TYPE_CHECKING:
    from opstui.tui.actions import ActionRunner
    from opstui.tui.data.service import DataService
    from opstui.tui.store import PipelineStore

__all__ = ["ProfileSwitching"]

_BUSY = "An action is on its way: its outcome belongs to this profile. Switch once it has landed."


class ProfileSwitching(App[None]):
    """The app's profile picker and :meth:`switch_profile`."""

    settings: Settings
    client: OpseraClient
    actions: ActionRunner
    store: PipelineStore
    data: DataService
    _asking: bool
    _profiles: Callable[[], list[ProfileInfo]] | None
    _load_profile: Callable[[str], Settings] | None
    _no_switch: str | None

    if TYPE_CHECKING:

        def _connect(self, settings: Settings, client: OpseraClient | None = None) -> None: ...

        def _apply_theme(self) -> None: ...

    def action_profiles(self) -> None:
        """The profile picker: switch server without a restart (or say why not)."""
        from opstui.tui.dialogs.profiles import ProfilePicker

        if isinstance(self.screen, ProfilePicker):
            return
        refused = self._switch_refused()
        if refused is None and (self._profiles is None or self._load_profile is None):
            refused = self._no_switch or "No profiles to switch between."
        if refused is not None:
            self.notify(refused, title="Profiles", severity="warning", markup=False, timeout=6)
            return
        assert self._profiles is not None and self._load_profile is not None
        picker = ProfilePicker(self._profiles, self._load_profile, current=self.settings.profile)
        self.push_screen(picker, callback=self._profile_chosen)

    def _switch_refused(self) -> str | None:
        """Why the profile cannot be switched now (an action on its way), or None."""
        if self.actions.in_flight or self._asking:
            return _BUSY
        return None

    def _profile_chosen(self, settings: Settings | None) -> None:
        if settings is not None:
            # On the app's own queue: the screen that asked is about to be replaced.
            self.call_next(self.switch_profile, settings)

    async def switch_profile(self, settings: Settings) -> bool:
        """Move to another server: everything per-profile is made anew; False when refused.

        Refused (and said) while an action is on its way. Otherwise the poll stops (its answer
        from the old server never lands), ``_connect`` builds client, audit, actions and
        store for ``settings``, every screen goes (marks, the inbox, the details and their polls
        with them), a fresh pipelines screen shows the new server, its header naming it, and
        the old client is closed: the old profile's token goes nowhere after this. If the new
        client cannot be made, the app stays on the old profile (afresh) and says why.
        """
        from opstui.tui.screens.pipelines import PipelinesScreen

        refused = self._switch_refused()
        if refused is not None:
            self.notify(refused, title="Profiles", severity="warning", markup=False, timeout=6)
            return False
        old_settings, old_client = self.settings, self.client
        self.data.stop()
        for worker in list(self.workers):
            if worker.node is self and not worker.is_finished:
                worker.cancel()  # an answer from the old server must not land in the new store
        try:
            self._connect(settings)
        except (ConfigError, OpseraError) as error:
            self._connect(old_settings, old_client)
            self.notify(
                f"Cannot switch to {safe_text(settings.server_label, 40)}: "
                f"{safe_text(str(error), 200)}",
                title="Profiles",
                severity="error",
                markup=False,
                timeout=10,
            )
            settings = old_settings
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        bottom = self.screen_stack[0]
        if not bottom._result_callbacks:
            # The app's first screen was never pushed, so it has no result callback, which
            # ``switch_screen`` pops (Textual 8.2: IndexError). Give it the one push gives.
            bottom._push_result_callback(self, None)
        await self.switch_screen(PipelinesScreen(self.store))
        if settings is not old_settings:
            # Only now: the screens that polled with it (details, tasks) are gone.
            await old_client.aclose()
        self._apply_theme()
        if settings is not old_settings:
            self.notify(
                f"Now on {safe_text(settings.server_label, 40)}",
                title="Profiles",
                markup=False,
                timeout=4,
            )
        self.data.start()
        return settings is not old_settings
