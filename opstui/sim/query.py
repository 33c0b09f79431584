"""Listing the simulated tenant: the filters, sorts and pages the list endpoints take."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, TypedDict

from opstui.sim.common import Doc, derive_status
from opstui.sim.documents import clone
from opstui.sim.errors import BadRequest

__all__ = ["SORT_OPTIONS", "STATUS_FILTERS", "Page", "Query", "select"]

SORT_OPTIONS: Final = (
    "newest",
    "oldest",
    "name",
    "name-descending",
    "lastupdated",
    "earliest-updated",
)
"""Accepted values of ``sortOption``."""

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
) -> Page:
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
    matches = [doc for doc in docs if all(check(doc) for check in checks)]
    matches.sort(key=lambda d: str(d.get("_id", "")))
    if sort in ("name", "name-descending"):
        matches.sort(
            key=lambda d: str(d.get("name", "")).casefold(), reverse=sort == "name-descending"
        )
    else:
        stamp = "createdAt" if sort in ("newest", "oldest") else "updatedAt"
        matches.sort(key=lambda d: str(d.get(stamp, "")), reverse=sort in ("newest", "lastupdated"))
    total = len(matches)
    if page_size is not None:
        start = (page - 1) * page_size
        matches = matches[start : start + page_size]
    return Page(matches if live else [clone(doc) for doc in matches], total)


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
