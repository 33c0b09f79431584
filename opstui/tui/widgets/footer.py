"""KeysFooter: Textual's footer, without the memory it leaks each time the keys change.

``Footer`` rebuilds its ``FooterKey`` widgets whenever a screen's bindings change (a selection
moved, a refresh landed), and each new key binds itself to the footer's ``compact`` reactive.
Textual forgets such a binding only when ``compact`` changes, which it never does: every key
ever shown stays referenced by the footer, with its styles and render caches (about 45 keys a
refresh-and-action cycle, a megabyte a minute under churn; Textualize/textual#6666). This footer
drops the bindings of removed keys, by Textual's own rule (the node is closing), after each
rebuild, so a screen left open all night holds one set of keys.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer

__all__ = ["KeysFooter", "forget_closed_watchers"]


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
