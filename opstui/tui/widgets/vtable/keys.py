"""KeyedOrder: the keys a table shows, in order, and a cursor that stays on its key.

No Textual here: what happens to the cursor when the order changes (a sort, a filter, a row
that leaves) is plain list work, tested as such through the widget.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["KeyedOrder"]

NEAR = 64
"""How far from its last place a key is looked for before the whole order is."""


class KeyedOrder:
    """Ordered keys (kept by reference, never copied) and the cursor over them."""

    def __init__(self, keys: Sequence[str] = ()) -> None:
        self.keys: Sequence[str] = keys
        """The keys shown, top to bottom."""
        self.index = 0 if keys else -1
        """The cursor's place (-1 when there is no key)."""
        self.key: str | None = keys[0] if keys else None
        """The key under the cursor (None when there is no key)."""

    def __len__(self) -> int:
        return len(self.keys)

    def locate(self, key: str, hint: int | None = None) -> int:
        """The place of ``key`` (-1 if not shown), looked for near ``hint`` (the cursor) first.

        A key that did not move, or moved a little, costs a few comparisons; otherwise one scan
        of the order (``list.index``, in C).
        """
        keys = self.keys
        hint = self.index if hint is None else hint
        if 0 <= hint < len(keys) and keys[hint] == key:
            return hint
        try:
            return keys.index(key, max(0, hint - NEAR), min(len(keys), hint + NEAR + 1))
        except ValueError:
            pass
        try:
            return keys.index(key)
        except ValueError:
            return -1

    def move(self, index: int) -> None:
        """Put the cursor on place ``index``, clamped to the keys shown."""
        count = len(self.keys)
        self.index = min(max(index, 0), count - 1) if count else -1
        self.key = self.keys[self.index] if self.index >= 0 else None

    def reorder(self, keys: Sequence[str]) -> None:
        """Show ``keys`` instead; the cursor stays on its key, or goes to its nearest neighbour.

        The neighbour is the nearest key of the old order that is still shown, the one below
        first (the row that slides into the place of one that left); with none, the same place.
        """
        old_keys, old_index, key = self.keys, self.index, self.key
        self.keys = keys
        if key is None:
            self.move(0)
            return
        index = self.locate(key, old_index)
        if index < 0:
            index = self._neighbour(old_keys, old_index)
        self.move(index)

    def _neighbour(self, old_keys: Sequence[str], old_index: int) -> int:
        if not self.keys:
            return -1
        shown = set(self.keys)  # only when the cursor's row left
        size = len(old_keys)
        for distance in range(1, size + 1):
            below, above = old_index + distance, old_index - distance
            if below >= size and above < 0:
                break
            for place in (below, above):
                if 0 <= place < size and old_keys[place] in shown:
                    return self.locate(old_keys[place], old_index)
        return old_index
