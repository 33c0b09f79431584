"""Work on every one of ten thousand items, without holding the event loop for all of them.

A pass over 10,000 pipelines (a rule per pipeline, a name per target) costs tens of milliseconds
on its own and more on a busy machine: done in one go, a key pressed meanwhile waits. In slices,
the loop takes its keys and repaints between two slices.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Generic, TypeVar, overload

__all__ = ["SLICE", "Mapped", "in_slices"]

T = TypeVar("T")
U = TypeVar("U")

SLICE = 1000
"""Items handled between two turns of the event loop (a few milliseconds of work each)."""


async def in_slices(items: Sequence[T], size: int = SLICE) -> AsyncIterator[Sequence[T]]:
    """``items`` in consecutive slices of ``size``, giving the loop a turn before each but the
    first (a short sequence is one slice, with no turn given)."""
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(0)
        yield items[start : start + size]


class Mapped(Sequence[U], Generic[T, U]):
    """``make`` of each of ``items``, made when it is read, not before.

    For what is counted in full and read in part: a dialog over 10,000 pipelines lists 200 of
    its targets, a toast names three; only those are made.
    """

    def __init__(self, items: Sequence[T], make: Callable[[T], U]) -> None:
        self._items = items
        self._make = make

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> U: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[U]: ...

    def __getitem__(self, index: int | slice) -> U | Sequence[U]:
        if isinstance(index, slice):
            return [self._make(item) for item in self._items[index]]
        return self._make(self._items[index])
