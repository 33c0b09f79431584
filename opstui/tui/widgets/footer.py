"""KeysFooter, and the three places where Textual 8.2.8 keeps what the app let go.

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

from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache
from textual.cache import LRUCache
from textual.color import Color
from textual.style import Style
from textual.widgets import Footer

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


class KeysFooter(Footer):
    """The footer of every screen: Textual's, minus the bindings of keys it removed."""

    async def recompose(self) -> None:
        await super().recompose()
        forget_closed_watchers(self)


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
