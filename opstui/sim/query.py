"""Listing the simulated tenant: the filters, sorts and pages the list endpoints take."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, TypedDict

from opstui.sim.common import Doc, derive_status
from opstui.sim.documents import clone
from opstui.sim.errors import BadRequest

__all__ = ["SORT_OPTIONS", "STATUS_FILTERS", "Orders", "Page", "Query", "select"]

_SORTED_BY: Final = {
    "newest": "createdAt",
    "oldest": "createdAt",
    "name": "name",
    "name-descending": "name",
    "lastupdated": "updatedAt",
    "earliest-updated": "updatedAt",
}
"""The field each sort orders by (ties by id)."""

SORT_OPTIONS: Final = tuple(_SORTED_BY)
"""Accepted values of ``sortOption``."""

_DESCENDING: Final = frozenset({"newest", "name-descending", "lastupdated"})
"""The sorts that put the greatest first."""

STATUS_FILTERS: Final = {
    "running": "running",
    "paused": "paused",
    "failed": "failed",
    "success": "success",
    "stopped": "stopped",
    "idle": "stopped",
    "awaiting-approval": "awaiting-approval",
    "awaiting_approval": "awaiting-approval",
    "approval": "awaiting-approval",
}
"""Accepted values of the ``status`` filter (comma-separated for several) and what each means."""


@dataclass
class Page:
    """One page of a listing, and how many documents matched in all."""

    items: list[Doc]
    total: int


class Query(TypedDict, total=False):
    """What a list read can be filtered, sorted and paged by (all optional)."""

    search: str | None
    status: str | None
    type: str | None
    owner: str | None
    tag: str | None
    active: bool | None
    sort: str
    page_size: int | None
    page: int
    live: bool


def select(
    docs: Iterable[Doc],
    *,
    search: str | None = None,
    status: str | None = None,
    type: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    active: bool | None = None,
    sort: str = "newest",
    page_size: int | None = None,
    page: int = 1,
    live: bool = False,
    orders: Orders | None = None,
) -> Page:
    """The documents that pass every filter, in ``sort`` order, one page of them (all if no
    ``page_size``); copies unless ``live``. ``orders`` keeps each sort's order from one page to
    the next (a listing of fifty thousand, page after page, would sort them all for each)."""
    if sort not in SORT_OPTIONS:
        raise BadRequest(f"unknown sortOption {sort!r}; use one of {', '.join(SORT_OPTIONS)}")
    if page < 1:
        raise BadRequest("currentPage must be 1 or more")
    checks: list[Callable[[Doc], bool]] = []
    if search:
        needle = search.casefold()
        checks.append(
            lambda d: (
                needle in str(d.get("name", "")).casefold()
                or needle in str(d.get("description", "")).casefold()
                or needle in str(d.get("_id", "")).casefold()
            )
        )
    if status:
        wanted: set[str] = set()
        for value in status.split(","):
            value = value.strip().casefold()
            if value not in STATUS_FILTERS:
                raise BadRequest(
                    f"unknown status {value!r}; use one of {', '.join(STATUS_FILTERS)}"
                )
            wanted.add(STATUS_FILTERS[value])
        checks.append(lambda d: _status_matches(d, wanted))
    if type:
        kinds = {value.strip().casefold() for value in type.split(",")}
        checks.append(lambda d: bool(kinds & _types_of(d)))
    if owner:
        who = owner.casefold()
        checks.append(
            lambda d: d.get("owner") == owner or who in str(d.get("owner_name", "")).casefold()
        )
    if tag:
        checks.append(_tag_check(tag))
    if active is not None:
        checks.append(lambda d: (d.get("active") is not False) == active)
    everything = list(docs)
    ordered = orders.sorted(everything, sort) if orders is not None else _sorted(everything, sort)
    # Sorting first, then filtering, gives the order filtering first gives (the sort is stable).
    matches = [doc for doc in ordered if all(check(doc) for check in checks)] if checks else ordered
    total = len(matches)
    if page_size is not None:
        start = (page - 1) * page_size
        matches = matches[start : start + page_size]
    elif matches is ordered:
        matches = list(matches)  # a kept order must not be handed out
    return Page(matches if live else [clone(doc) for doc in matches], total)


def _sorted(docs: list[Doc], sort: str) -> list[Doc]:
    """``docs`` in ``sort`` order; ties by id, in either direction."""
    ordered = sorted(docs, key=lambda d: str(d.get("_id", "")))
    field = _SORTED_BY[sort]
    if field == "name":
        ordered.sort(key=lambda d: str(d.get(field, "")).casefold(), reverse=sort in _DESCENDING)
    else:
        ordered.sort(key=lambda d: str(d.get(field, "")), reverse=sort in _DESCENDING)
    return ordered


def _sort_keys(docs: list[Doc], sort: str) -> list[Any]:
    """What ``sort`` orders ``docs`` by: while these and the documents are the same, so is the
    order (a document's id, the tie-break, never changes)."""
    field = _SORTED_BY[sort]
    return [d.get(field) for d in docs]


class Orders:
    """Each sort's last order, kept while the documents and what they sort by are the same.

    A full listing asks page after page; sorting every document for each page made a listing of
    fifty thousand quadratic (the app's first load of 50,000 took 17.4 s to all rows; 7.0 s
    without the sorts). Checking that nothing moved costs one pass over the documents instead
    of a sort. The documents are compared as the list of the same objects (a document changed
    in place keeps its place unless what it sorts by changed, and that is compared too).
    """

    def __init__(self) -> None:
        self._kept: dict[str, tuple[list[Doc], list[Any], list[Doc]]] = {}

    def sorted(self, docs: list[Doc], sort: str) -> list[Doc]:
        """``docs`` in ``sort`` order (do not change the list: it is kept)."""
        keys = _sort_keys(docs, sort)
        kept = self._kept.get(sort)
        if kept is not None and _same(kept[0], docs) and kept[1] == keys:
            return kept[2]
        ordered = _sorted(docs, sort)
        self._kept[sort] = (docs, keys, ordered)
        return ordered


def _same(kept: list[Doc], docs: list[Doc]) -> bool:
    """The same document objects, in the same order (by identity: equal copies are not the same
    document)."""
    return len(kept) == len(docs) and all(map(operator.is_, kept, docs))


def _status_matches(doc: Doc, wanted: set[str]) -> bool:
    if doc.get("state") in wanted:
        return True
    return (
        "awaiting-approval" in wanted
        and "workflow" in doc
        and derive_status(doc) == "awaiting-approval"
    )


def _types_of(doc: Doc) -> set[str]:
    kinds = doc.get("type")
    if isinstance(kinds, str):
        return {kinds.casefold()}
    if isinstance(kinds, list):
        return {kind.casefold() for kind in kinds if isinstance(kind, str)}
    return set()


def _tag_check(tag: str) -> Callable[[Doc], bool]:
    kind, sep, value = tag.partition(":")
    kind, value = kind.strip().casefold(), value.strip().casefold()

    def check(doc: Doc) -> bool:
        tags = doc.get("tags")
        if not isinstance(tags, list):
            return False
        for item in tags:
            if not isinstance(item, dict):
                continue
            item_type = str(item.get("type", "")).casefold()
            item_value = str(item.get("value", "")).casefold()
            if sep and item_type == kind and item_value == value:
                return True
            if not sep and item_value == kind:
                return True
        return False

    return check
