"""The inbox holds what it shows, not everything it ever showed.

An inbox may stay open all night (``opstui --approvals``): whenever the keys that apply change
(a dialog came and went, the last gate left), Textual's footer rebuilds its keys. Each rebuilt key
binds itself to the footer, and Textual drops that binding only when the footer's ``compact``
changes (never): without :class:`~opstui.tui.widgets.footer.KeysFooter` every key ever shown
stays alive (Textualize/textual#6666).
"""

from __future__ import annotations

import gc
import weakref

from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.dialogs import ConfirmDialog
from opstui.tui.screens.approvals import ApprovalsScreen
from opstui.tui.widgets.footer import KeysFooter, forget_closed_watchers
from tests.tui.conftest import MakeApp, refresh, settle


def _bindings(footer: Footer) -> int:
    watchers: dict[str, list[object]] = getattr(footer, "__watchers", {})
    return sum(len(entries) for entries in watchers.values())


async def test_an_inbox_left_open_keeps_one_set_of_footer_keys(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(120, 36)) as pilot:
        await refresh(pilot)
        screen = app.screen
        assert isinstance(screen, ApprovalsScreen)
        footer = screen.query_one(KeysFooter)
        first_keys = [weakref.ref(key) for key in footer.query(FooterKey)]
        assert first_keys, "the footer shows keys"
        rebuilt = 0
        for round_ in range(12):
            for key in footer.query(FooterKey):
                key.set_class(True, "-seen")  # a key without it was built since
            await pilot.press("a")  # a dialog opens over the inbox, and closes
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("n")
            await settle(pilot)
            clock.advance(30)
            await refresh(pilot)
            rebuilt += any(not key.has_class("-seen") for key in footer.query(FooterKey))
            assert _bindings(footer) <= 2 * len(footer.query(FooterKey)), round_
        assert rebuilt >= 6, "the footer was rebuilt again and again"
        # The first footer was built before the first load froze what was alive then (out of
        # the collector's sight, by design: opstui/tui/data/full_list.py): unfreeze to see it go.
        gc.unfreeze()
        gc.collect()
        assert all(key() is None or key().is_attached for key in first_keys), (
            "the keys of the first footer are gone"
        )


def _bound_keys(footer: Footer) -> int:
    """The keys shown that bind to the footer (all but the command palette's)."""
    return sum(1 for key in footer.query(FooterKey) if not key.has_class("-command-palette"))


async def test_forget_closed_watchers_keeps_the_live_ones(make_app: MakeApp) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(120, 36)) as pilot:
        await refresh(pilot)
        footer = app.screen.query_one(KeysFooter)
        for _ in range(3):
            for key in footer.query(FooterKey):
                key.set_class(True, "-seen")
            footer.call_later(footer.recompose)  # the footer rebuilds its keys
            await pilot.pause()
            await pilot.pause()
            assert not any(key.has_class("-seen") for key in footer.query(FooterKey))
        assert _bindings(footer) == _bound_keys(footer) > 0, "one binding per key shown"
        assert forget_closed_watchers(footer) == 0, "nothing closed is left to forget"
