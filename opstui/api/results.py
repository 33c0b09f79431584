"""What a read or an action brought back: a listing and its trust, and per-target outcomes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from opstui.api.models import Pipeline, Task

__all__ = ["ActionOutcome", "ActionResult", "Listing"]

ItemT = TypeVar("ItemT")


class Listing(list[ItemT]):
    """What a read brought back, and how far it can be trusted to be the whole truth.

    A plain list of the records, with two facts beside it:

    - ``skipped``: records the server sent that could not be read (each was left out, not the
      page; a person is told how many);
    - ``complete``: for a list read, True only when every page was read in a stable order and
      nothing moved between the pages, so that absence from it means the record is gone. For a
      ``status`` read, True when the answer carried the documents (a v1-shaped answer does not).
      Absence from an incomplete listing never means deletion.
    """

    def __init__(
        self, items: Iterable[ItemT] = (), *, skipped: int = 0, complete: bool = True
    ) -> None:
        super().__init__(items)
        self.skipped = skipped
        self.complete = complete

    def __repr__(self) -> str:
        return f"Listing({len(self)} items, skipped={self.skipped}, complete={self.complete})"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What happened to one target of an action."""

    target: str
    ok: bool
    status: str
    """The server's word: ``executed``, ``success``, ``failed``, ..."""
    message: str = ""
    run_count: int | None = None

    @property
    def unknown(self) -> bool:
        """True when the server did not say what happened to this target (it may have been)."""
        return self.status == "unknown"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of one action request, per target."""

    action: str
    type: str
    status: str
    """The server's overall word (``success``, ``partial``, ``failed``, ...)."""
    message: str
    outcomes: list[ActionOutcome]
    pipelines: list[Pipeline] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    documents: bool = False
    """True when the answer carried documents (``data``); the bare v1 shape carries none."""
    skipped: int = 0
    """Documents in the answer that could not be read (left out one by one)."""

    @property
    def ok(self) -> bool:
        """True when every target succeeded."""
        return all(outcome.ok for outcome in self.outcomes)

    @property
    def failed(self) -> list[ActionOutcome]:
        """The targets the action failed for."""
        return [outcome for outcome in self.outcomes if not outcome.ok]
