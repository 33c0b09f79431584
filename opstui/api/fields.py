"""Tolerant readers of one JSON value: ids, numbers, times, tags, types and shared words.

What every document kind reads the same way, one rule each (:mod:`~opstui.api.models` builds
the documents from them). A value that cannot be read is empty, zero or None, never an error.
Repeated words (owners, states, tags, types, tools) are interned, and distinct tag sets and
type lists are shared between documents, within a bound.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from opstui.api.workflow import as_str

__all__ = [
    "Tag",
    "as_int",
    "is_valid_id",
    "parse_time",
    "read_field",
    "read_tags",
    "read_types",
    "word",
]


def is_valid_id(value: str) -> bool:
    """An id a person can read and type: printable, no spaces (Opsera's are 24 hex digits)."""
    # Every whitespace but the ASCII space is unprintable already: one scan in C, not one a char.
    return bool(value) and value.isprintable() and " " not in value


def as_int(value: Any) -> int | None:
    """A whole number, or digits as text, as an int; anything else (booleans too) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 string or epoch number as an aware UTC datetime; anything else is None."""
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, bool):
            return None
        elif isinstance(value, int | float):
            seconds = value / 1000 if value > 1e11 else value  # milliseconds, as JavaScript sends
            moment = datetime.fromtimestamp(seconds, UTC)
        elif isinstance(value, str) and value.strip():
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_SHARED_MAX = 4096
"""Distinct tag sets and type lists shared between documents (past it, each keeps its own)."""
SharedT = TypeVar("SharedT")


def _shared(cache: dict[Hashable, Any], key: Hashable, make: Callable[[], SharedT]) -> SharedT:
    found: SharedT | None = cache.get(key)
    if found is None:
        found = make()
        if len(cache) < _SHARED_MAX:  # server data: never an unbounded cache
            cache[key] = found
    return found


def word(value: Any) -> str:
    """Text as :func:`as_str` reads it, one copy shared by every document that says it."""
    return sys.intern(as_str(value))


@dataclass(frozen=True, slots=True)
class Tag:
    """A ``{type, value}`` tag; a bare string is read as a tag with no type."""

    type: str = ""
    value: str = ""

    def __str__(self) -> str:
        return f"{self.type}:{self.value}" if self.type else self.value


_TAG_SETS: dict[Hashable, tuple[Tag, ...]] = {}
_TYPE_LISTS: dict[Hashable, tuple[str, ...]] = {}


def read_tags(value: Any) -> tuple[Tag, ...]:
    """A ``tags`` list as tags (strings and ``{type, value}`` objects; other items left out)."""
    if not isinstance(value, list) or not value:
        return ()
    pairs: list[tuple[str, str]] = []
    for item in value:
        if isinstance(item, str):
            pairs.append(("", item))
        elif isinstance(item, dict):
            pairs.append((as_str(item.get("type")), as_str(item.get("value"))))
    key = tuple(pairs)
    return _shared(_TAG_SETS, key, lambda: tuple(Tag(word(t), word(v)) for t, v in pairs))


def read_types(value: Any) -> tuple[str, ...]:
    """A ``type`` word or list of words, blanks left out; anything else is empty."""
    if isinstance(value, str):
        words = [value] if value else []
    elif isinstance(value, list):
        words = [item for item in (as_str(v) for v in value) if item]
    else:
        return ()
    key = tuple(words)
    return _shared(_TYPE_LISTS, key, lambda: tuple(word(w) for w in words))


def read_field(data: dict[str, Any], alias: str, name: str) -> Any:
    """A field sent under its wire name (``_id``, ``createdAt``) or its Python name."""
    return data[alias] if alias in data else data.get(name)
