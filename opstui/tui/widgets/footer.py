"""KeysFooter, and the three places where Textual 8.2.8 keeps what the app let go.

Textual's ``Footer`` rebuilds every key widget whenever a screen says its bindings changed, and
a screen says so on every cursor move that changes which action keys apply (and on focus moves,
reactives with ``bindings=True``...): a recompose of some twenty widgets, their styles and a
layout of the screen, 20-30 ms a key. :class:`KeysFooter` compares what it would show with what
it shows: the same keys, nothing happens; the same keys with others greyed, the keys that
changed take or drop ``-disabled`` in place (a repaint, no layout); other keys (another focus,
the filter field, a keymap change, a screen that came back), a rebuild as Textual's.

``Footer`` rebuilds its ``FooterKey`` widgets whenever a screen's bindings change (a selection
moved, a refresh landed), and each new key binds itself to the footer's ``compact`` reactive.
Textual forgets such a binding only when ``compact`` changes, which it never does: every key
ever shown stays referenced by the footer, with its styles and render caches (about 45 keys a
refresh-and-action cycle, a megabyte a minute under churn; Textualize/textual#6666). This footer
drops the bindings of removed keys, by Textual's own rule (the node is closing), after each
rebuild, so a screen left open all night holds one set of keys.

Every widget renders through its own ``StylesCache``, which keeps the widget's rendered lines.
``StylesCache.get_inner_outer`` is an ``lru_cache`` on an instance method: its 1,024 keys hold
the ``StylesCache`` of each widget that ever rendered, long after the widget is gone, and with it
every line it drew (toasts, footer keys, dialogs, closed screens: about 2 MiB a minute under the
soak, the soak's largest growth; Textualize/textual#6665). Importing this module (every screen
does, for its footer) replaces that method with one cached on the colours alone: the same
answers, nothing held per widget. :func:`release_styles_caches` applies it (once).

``LRUCache`` (a ``DataTable``'s cells, rows and lines) links its entries in a ring. Its
``clear()`` drops the index and keeps the ring: every entry, with its rendered lines, becomes a
reference cycle that only a full collection frees. A table clears its caches on every change,
and the entries had lived long enough to be in the oldest generation, collected seldom: under
the soak tens of thousands of objects (8 MiB) waited at a time, and each wave left Python's
arenas larger (its RSS never shrinks back). :func:`unlink_cleared_lru_entries` makes ``clear()``
break the ring first, so that the entries are freed at once.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from itertools import groupby
from typing import Any

from textual._styles_cache import StylesCache
from textual.binding import Binding
from textual.cache import LRUCache
from textual.color import Color
from textual.screen import Screen
from textual.style import Style
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = [
    "KeysFooter",
    "forget_closed_watchers",
    "inner_outer",
    "release_styles_caches",
    "unlink_cleared_lru_entries",
]


def forget_closed_watchers(node: Any) -> int:
    """Drop the watchers that closed nodes left on ``node``'s reactives; how many were dropped."""
    watchers: dict[str, list[tuple[Any, Any]]] | None = getattr(node, "__watchers", None)
    dropped = 0
    for entries in (watchers or {}).values():
        kept = [(watcher, callback) for watcher, callback in entries if not watcher._closing]
        dropped += len(entries) - len(kept)
        entries[:] = kept
    return dropped


_Shown = tuple[tuple[object, ...], ...]
"""What the footer shows: one entry per key widget, in the order ``Footer.compose`` yields
them, each ``(key, display, description, action, group, classes, disabled, tooltip)``,
after ``(compact,)``."""

_SAME_KEYS = slice(0, 6)
"""The part of an entry that a key widget keeps for its life (the rest is patched in place)."""


class KeysFooter(Footer):
    """The footer of every screen: Textual's, rebuilt only when other keys show, and minus the
    bindings of keys it removed."""

    def __init__(self, *, show_command_palette: bool = True, compact: bool = False) -> None:
        super().__init__(show_command_palette=show_command_palette, compact=compact)
        self._shown: _Shown | None = None
        """What the key widgets show now (None: nothing built yet, or a rebuild is due)."""
        self._stack_updates = -1
        self._update_pending = False
        self.rebuilds = 0
        """How many times the key widgets were built (for tests: a key press builds none)."""

    def bindings_changed(self, screen: Screen[object]) -> None:
        """The screen's bindings may have changed: compare once the screen has been painted."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._update_pending:
            # Many changes in one frame (a held key) are compared once.
            self._update_pending = True
            self.call_after_refresh(self._update_keys)

    async def _update_keys(self) -> None:
        self._update_pending = False
        if not self.is_attached:
            return
        screen = self.screen
        if screen.stack_updates != self._stack_updates:
            # The screen came back (a dialog closed, a screen popped): built again, as Textual
            # does, for whatever changed while it was covered.
            self._stack_updates = screen.stack_updates
            self._shown = None
        shown = self._what_shows()
        if shown == self._shown:
            return
        if self._shown is not None and self._patch(shown):
            self._shown = shown
            return
        await self.recompose()

    async def recompose(self) -> None:
        self._shown = self._what_shows() if self._bindings_ready else None
        self.rebuilds += 1
        await super().recompose()
        forget_closed_watchers(self)

    def _what_shows(self) -> _Shown:
        """The entries ``Footer.compose`` would make key widgets of now (the same rules)."""
        app = self.app
        active = self.screen.active_bindings
        by_action: dict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _, binding, enabled, tooltip in active.values():
            if binding.show:
                by_action[binding.action].append((binding, enabled, tooltip))
        shown: list[tuple[object, ...]] = []
        for group, same_group in groupby(by_action.values(), lambda entries: entries[0][0].group):
            runs = list(same_group)
            grouped = group is not None and len(runs) > 1
            for binding, enabled, tooltip in (entries[0] for entries in runs):
                description = "" if grouped else binding.description
                tip = (tooltip or binding.description) if grouped else tooltip
                shown.append(
                    (
                        *(binding.key, app.get_key_display(binding), description, binding.action),
                        *(group if grouped else None, "-grouped" if grouped else ""),
                        not enabled,
                        tip,
                    )
                )
        if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
            palette = active.get(app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _, binding, enabled, _ = palette
                shown.append(
                    (
                        *(binding.key, app.get_key_display(binding), binding.description),
                        *(binding.action, None, "-command-palette"),
                        not enabled,
                        binding.tooltip or binding.description,
                    )
                )
        return ((self.compact,), *shown)

    def _patch(self, shown: _Shown) -> bool:
        """Grey or ungrey the key widgets in place; False when other keys show (a rebuild)."""
        old = self._shown
        keys = list(self.query(FooterKey))
        if (
            old is None
            or len(old) != len(shown)
            or old[0] != shown[0]
            or len(keys) != len(shown) - 1
            or any(
                before[_SAME_KEYS] != after[_SAME_KEYS]
                for before, after in zip(old[1:], shown[1:], strict=True)
            )
        ):
            return False
        pairs = list(zip(keys, shown[1:], strict=True))
        if any((widget.key, widget.action) != (entry[0], entry[3]) for widget, entry in pairs):
            return False
        for widget, entry in pairs:
            disabled, tooltip = bool(entry[6]), str(entry[7])
            if widget._disabled != disabled:
                # What FooterKey.__init__ does with ``disabled`` (its click rings the bell).
                widget._disabled = disabled
                widget.set_class(disabled, "-disabled")
            if (widget.tooltip or "") != tooltip:
                widget.tooltip = tooltip or None
        return True


@lru_cache(1024)
def inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """The styles inside and outside a widget's border (``StylesCache.get_inner_outer``'s
    answer, which depends on the two colours only)."""
    return Style(background=base_background + background), Style(background=base_background)


def _get_inner_outer(
    _cache: StylesCache, base_background: Color, background: Color
) -> tuple[Style, Style]:
    return inner_outer(base_background, background)


def release_styles_caches() -> None:
    """Make ``StylesCache.get_inner_outer`` cache by colours, not by ``StylesCache`` (#6665)."""
    textuals = StylesCache.__dict__["get_inner_outer"]
    if textuals is not _get_inner_outer:
        StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign,assignment]
        textuals.cache_clear()  # what it held already (anything rendered before the import)


def _clear_unlinked(cache: LRUCache[Any, Any]) -> None:
    """``LRUCache.clear``, emptying each entry (``[prev, next, key, value]``) on the way."""
    for link in cache._cache.values():
        link.clear()
    cache._cache.clear()
    cache._full = False
    cache._head = []


def unlink_cleared_lru_entries() -> None:
    """Make ``LRUCache.clear`` free its entries at once, not leave them to the cycle collector."""
    LRUCache.clear = _clear_unlinked  # type: ignore[method-assign,assignment]


release_styles_caches()
unlink_cleared_lru_entries()
