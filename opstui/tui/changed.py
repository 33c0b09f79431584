"""What a refresh changed (:class:`PipelinesChanged`, what the store publishes), and the sum of
changes one after another (:class:`ChangeSum`: the pages of a full list, reaching the screens as
one change).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from opstui.api import Pipeline, PipelineStatus

__all__ = ["ChangeSum", "PipelinesChanged"]


@dataclass(frozen=True)
class PipelinesChanged:
    """What one refresh changed. Published on :attr:`PipelineStore.changed`."""

    pipelines: Mapping[str, Pipeline]
    """Every pipeline known now, by id, in the server's order (the store's own mapping)."""
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    status_changed: Mapping[str, tuple[PipelineStatus, PipelineStatus]] = field(
        default_factory=dict
    )
    """Pipelines whose status moved, ``id -> (before, after)``."""
    first: bool = False
    """True for the first answer ever (nothing "changed" then: everything is new)."""
    updated: frozenset[str] = frozenset()
    """Pipelines whose document was replaced by a newer one, or added (a table redraws these)."""

    @property
    def empty(self) -> bool:
        """Nothing was added, removed or replaced."""
        return not (self.added or self.removed or self.updated)

    def then(self, later: PipelinesChanged) -> PipelinesChanged:
        """This change and ``later`` (the next one), as one (:class:`ChangeSum`'s rule)."""
        return ChangeSum().add(self).add(later).result()


class ChangeSum:
    """Changes one after another, summed into one as they come: what the pages of a full list
    make before they reach the screens together. Each :meth:`add` costs the size of the change
    it adds, not of the sum so far (a fold of :meth:`PipelinesChanged.then` copied every id
    seen at every page: quadratic, 0.2 s of the event loop over a first load of 50,000).

    The rule: what a later change removes is removed unless a still later one adds it back;
    added and updated are what any change added or updated and is not removed at the end; a
    status move keeps its first ``before`` and its last ``after``, and goes when they are equal
    or the pipeline is removed.
    """

    __slots__ = ("_added", "_first", "_moved", "_pipelines", "_removed", "_updated")

    def __init__(self) -> None:
        self._added: set[str] = set()
        self._removed: set[str] = set()
        self._updated: set[str] = set()
        self._moved: dict[str, tuple[PipelineStatus, PipelineStatus]] = {}
        self._first = False
        self._pipelines: Mapping[str, Pipeline] = {}

    def add(self, later: PipelinesChanged) -> ChangeSum:
        """Sum ``later`` in (after everything added so far); returns this sum."""
        added, removed, updated = self._added, self._removed, self._updated
        # Invariant between calls: neither added nor updated nor moved holds a removed id.
        gone = later.removed - later.added
        removed.update(later.removed)
        removed.difference_update(later.added)
        added.difference_update(later.removed)
        added.update(later.added)
        updated.difference_update(gone)
        updated.update(later.updated - removed if removed else later.updated)
        moved = self._moved
        for key, (before, after) in later.status_changed.items():
            moved[key] = (moved[key][0] if key in moved else before, after)
        for key in (*later.status_changed, *gone):
            change = moved.get(key)
            if change is not None and (change[0] == change[1] or key in removed):
                del moved[key]
        self._first = self._first or later.first
        self._pipelines = later.pipelines
        return self

    def result(self) -> PipelinesChanged:
        """The sum, as one change (over the last change's pipelines)."""
        return PipelinesChanged(
            self._pipelines,
            frozenset(self._added),
            frozenset(self._removed),
            dict(self._moved),
            self._first,
            frozenset(self._updated),
        )
