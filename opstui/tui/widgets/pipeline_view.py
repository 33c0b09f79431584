"""PipelineView: which pipelines a view shows (quick view, filter) and in what order (sort).

No Textual here. What a view needs of each pipeline (its sort keys, the text a filter searches)
is worked out when the pipeline is decoded (:attr:`~opstui.api.Pipeline.search_text`,
:attr:`~opstui.api.Pipeline.sort_name`, :attr:`~opstui.api.Pipeline.last_run_time`), off the
event loop for a large answer; the view holds the store's pipeline objects themselves (the store
hands back the same object when a pipeline did not change), so at ten thousand pipelines:

- a filter keystroke or a quick view is one pass over the pipelines, already in sorted order
  (no sort, nothing derived again);
- a sort is one ``sorted`` over keys worked out before;
- a refresh takes out and puts back only the pipelines it says it touched (``bisect``), then
  one pass to filter.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Literal

from opstui.api import Pipeline, PipelineStatus
from opstui.tui.format import STATUS_ORDER

__all__ = [
    "NATURAL_DESCENDING",
    "QUICK_VIEWS",
    "SORT_KEYS",
    "SORT_NAMES",
    "PipelineView",
    "QuickView",
    "QuickViewSpec",
    "SortKey",
    "sort_key",
    "sort_pipelines",
]

SortKey = Literal["name", "state", "last", "run"]

QuickView = Literal["all", "awaiting", "running", "failed"]


@dataclass(frozen=True)
class QuickViewSpec:
    """One quick view: its title, the state it shows (None: all) and what it says empty."""

    title: str
    status: PipelineStatus | None
    empty: str


QUICK_VIEWS: dict[QuickView, QuickViewSpec] = {
    "all": QuickViewSpec("All pipelines", None, "No pipelines on this server."),
    "awaiting": QuickViewSpec(
        "Awaiting approval", PipelineStatus.AWAITING_APPROVAL, "No pipeline is awaiting approval."
    ),
    "running": QuickViewSpec("Running", PipelineStatus.RUNNING, "No pipeline is running."),
    "failed": QuickViewSpec("Failed", PipelineStatus.FAILED, "No pipeline has failed."),
}
"""The quick views by state, keys 1 to 4."""

SORT_KEYS: tuple[SortKey, ...] = ("name", "state", "last", "run")
"""The sorts ``o`` cycles through."""

SORT_NAMES: dict[SortKey, str] = {
    "name": "name",
    "state": "state",
    "last": "last run",
    "run": "run number",
}

NATURAL_DESCENDING: dict[SortKey, bool] = {
    "name": False,
    "state": False,
    "last": True,
    "run": True,
}
"""Each sort's first direction: A to Z, most urgent first, newest first, highest first."""


REBUILD_SHARE = 8
"""A refresh that changed more than one pipeline in this many sorts them all again (cheaper
than that many single insertions)."""

OrderKey = tuple[object, ...]


def _urgency(pipeline: Pipeline) -> int:
    return STATUS_ORDER[pipeline.status]


_PRIMARY: dict[SortKey, Callable[[Pipeline], float]] = {
    "state": _urgency,
    "last": attrgetter("last_run_time"),
    "run": attrgetter("run_count"),
}
_BY_NAME = attrgetter("sort_name", "id")
_ID = attrgetter("id")


def sort_key(pipeline: Pipeline, key: SortKey, descending: bool) -> OrderKey:
    """The ascending key of ``pipeline`` in the sort ``key``; ties by name then id (A to Z).

    A sort by name descending is the ascending order read backwards (names cannot be negated),
    so its key is the ascending one.
    """
    if key == "name":
        return (pipeline.sort_name, pipeline.id)
    sign = -1 if descending else 1
    return (sign * _PRIMARY[key](pipeline), pipeline.sort_name, pipeline.id)


def sort_pipelines(pipelines: Iterable[Pipeline], key: SortKey, descending: bool) -> list[Pipeline]:
    """``pipelines`` in the order of ``key`` (the order a view shows them in)."""
    ordered = sorted(pipelines, key=lambda p: sort_key(p, key, descending))
    if key == "name" and descending:
        ordered.reverse()
    return ordered


class PipelineView:
    """The ids one view shows, in order, over a store's pipelines."""

    def __init__(self) -> None:
        self._entries: dict[str, Pipeline] = {}
        """The pipelines, by id, as the view last took them from the store."""
        self.status: PipelineStatus | None = None
        """The quick view's state (None: every state)."""
        self.words: tuple[str, ...] = ()
        """The filter's words, casefolded: a pipeline shows when its text holds every one."""
        self.sort: SortKey = "name"
        self.descending = False
        self._sorted: list[str] = []
        """Every id, ascending by the current sort's key."""
        self._by_name: list[str] | None = None
        """Every id by name (every sort's tie-break), kept while no pipeline comes, goes or is
        renamed (a live refresh changes states, not names): a new sort sorts numbers only."""
        self._order: list[str] = []
        self._shown: frozenset[str] | None = None

    # -- what is shown --------------------------------------------------------------------

    @property
    def order(self) -> list[str]:
        """The ids shown, top to bottom (a new list after each change: do not change it)."""
        return self._order

    @property
    def shown(self) -> frozenset[str]:
        """The ids shown, as a set (made once per change of the view)."""
        if self._shown is None:
            self._shown = frozenset(self._order)
        return self._shown

    def __len__(self) -> int:
        return len(self._order)

    # -- the pipelines --------------------------------------------------------------------

    def sync(self, pipelines: Mapping[str, Pipeline]) -> set[str]:
        """Take the store's pipelines now; returns the ids added, changed (another object) or
        removed, and brings the order up to date.

        Cost: one identity check per pipeline, plus the work of the ids returned.
        """
        entries = self._entries
        touched: set[str] = set()
        for key, pipeline in pipelines.items():
            entry = entries.get(key)
            if entry is not pipeline:
                self._replaced(entry, pipeline)
                touched.add(key)
        fresh = dict(pipelines)
        if len(fresh) != len(entries) or touched:
            gone = [key for key in entries if key not in fresh]
            if gone:
                self._by_name = None
            touched.update(gone)
        self._entries = fresh
        if touched:
            self._resort(touched)
            self._refilter()
        return touched

    def update(self, pipelines: Mapping[str, Pipeline], keys: Iterable[str]) -> set[str]:
        """Take the store's pipelines when only ``keys`` may have changed (added, replaced or
        removed: what a refresh says it touched); returns the ids that did.

        Cost: the ids given, plus one pass to filter when any changed (a refresh that moved
        three pipelines of ten thousand looks at three). Should the pipelines not add up to
        the view's afterwards, a full :meth:`sync` is made instead.
        """
        entries = self._entries
        touched: set[str] = set()
        for key in keys:
            pipeline = pipelines.get(key)
            entry = entries.get(key)
            if pipeline is None:
                if entry is not None:
                    del entries[key]
                    touched.add(key)
                    self._by_name = None
            elif entry is not pipeline:
                self._replaced(entry, pipeline)
                entries[key] = pipeline
                touched.add(key)
        if len(entries) != len(pipelines):
            return touched | self.sync(pipelines)
        if touched:
            self._resort(touched)
            self._refilter()
        return touched

    def _replaced(self, old: Pipeline | None, pipeline: Pipeline) -> None:
        """``pipeline`` is new or replaces ``old``: the order by name is dropped when it is new
        or renamed (a changed state keeps it)."""
        if old is None or old.sort_name != pipeline.sort_name:
            self._by_name = None

    # -- the view's parameters ------------------------------------------------------------

    def set_view(
        self,
        *,
        status: PipelineStatus | None = None,
        words: Iterable[str] = (),
        sort: SortKey = "name",
        descending: bool = False,
    ) -> bool:
        """Show another quick view, filter or sort; True when the order may have changed."""
        words = tuple(words)
        resort = (sort, descending) != (self.sort, self.descending)
        refilter = resort or (status, words) != (self.status, self.words)
        self.status, self.words, self.sort, self.descending = status, words, sort, descending
        if resort:
            self._resort(None)
        if refilter:
            self._refilter()
        return refilter

    # -- the work -------------------------------------------------------------------------

    def _resort(self, touched: set[str] | None) -> None:
        """Bring :attr:`_sorted` up to date: every id (``touched`` None), or only ``touched``.

        A full sort is the order by name (kept, or sorted again when pipelines came, went or
        were renamed), then, stably, by the sort's own value: numbers, compared in C, several
        times cheaper than names (still about 30 ms at fifty thousand). Only a few ids
        re-placed by ``bisect`` get a key each, for a moment.
        """
        entries = self._entries
        sort, descending = self.sort, self.descending
        if touched is None or len(touched) * REBUILD_SHARE > len(entries):
            by_name = self._name_order()
            if sort == "name":
                self._sorted = list(by_name)
                return
            values = list(map(_PRIMARY[sort], map(entries.__getitem__, by_name)))
            places = sorted(range(len(by_name)), key=values.__getitem__, reverse=descending)
            self._sorted = list(map(by_name.__getitem__, places))
            return

        def key_of(key: str) -> OrderKey:
            return sort_key(entries[key], sort, descending)

        kept = [key for key in self._sorted if key not in touched]
        for key in touched:
            if key in entries:
                bisect.insort(kept, key, key=key_of)
        self._sorted = kept

    def _name_order(self) -> list[str]:
        """Every id by name, then id (sorted again only when it may have moved)."""
        if self._by_name is None or len(self._by_name) != len(self._entries):
            self._by_name = list(map(_ID, sorted(self._entries.values(), key=_BY_NAME)))
        return self._by_name

    def _refilter(self) -> None:
        entries, status, words = self._entries, self.status, self.words
        ordered = self._sorted
        if status is None and not words:
            shown = list(ordered)
        elif not words:
            shown = [key for key in ordered if entries[key].status is status]
        elif len(words) == 1:
            word = words[0]
            shown = [
                key
                for key in ordered
                if word in (entry := entries[key]).search_text
                and (status is None or entry.status is status)
            ]
        else:
            shown = [
                key
                for key in ordered
                if (status is None or entries[key].status is status)
                and all(word in entries[key].search_text for word in words)
            ]
        if self.sort == "name" and self.descending:
            shown.reverse()
        self._order = shown
        self._shown = None
