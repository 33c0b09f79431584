"""The open pipeline's details as the data service reads them: its activity log and how it went.

The pipeline itself lives in the store (every poll reads the open one: the changes read, or the
hot set in the fallback); what only the details screen needs, its activity log, is read after each
poll (:mod:`opstui.tui.data.open`) and published as a :class:`DetailsRead`. The screen holds no
client: it shows what comes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text

from opstui.api import ActivityEntry, OpseraError
from opstui.backoff import next_delay
from opstui.tui.format import duration, relative, safe_text, since

__all__ = ["NO_STATUS", "DetailsRead", "LiveStatus"]

NO_STATUS = "no status in the last answer"
"""What the details say when the server's answer did not carry the pipeline (a v1 shape)."""


@dataclass(frozen=True)
class DetailsRead:
    """One read of the open pipeline, done or failed. Published on ``DataService.details``."""

    pipeline_id: str
    entries: list[ActivityEntry] | None = None
    """Its activity log, newest first (None when this read did not bring one)."""
    note: str = ""
    """What the answer lacked although it came (:data:`NO_STATUS`)."""
    error: str = ""
    """Why the read failed, in the client's words ('' when it did not)."""
    retry_at: datetime | None = None
    """When the next try is due, after a failure."""
    deleted: bool = False
    """The server said this pipeline no longer exists (a 404 for it, or a complete list)."""


@dataclass
class LiveStatus:
    """The state of a live refresh, as a screen's status line tells it."""

    updated: datetime | None = None
    """When the last poll succeeded."""
    failures: int = 0
    """Polls failed in a row."""
    error: str = ""
    """The last failure, in the client's words."""
    retry_at: datetime | None = None
    """When the next try is due, while failing."""
    note: str = ""
    """What the last answer lacked although it came (``no status in the last answer``)."""

    def succeeded(self, now: datetime, note: str = "") -> None:
        """Record a successful poll (``note``: what it still lacked; the data shown is older)."""
        if not note:
            self.updated = now
        self.note = note
        self.failures = 0
        self.error = ""
        self.retry_at = None

    def failed(self, error: OpseraError, now: datetime, refresh: float) -> float:
        """Record a failed poll; return the seconds to wait before the next one (the one rule,
        :func:`opstui.backoff.next_delay`)."""
        delay = next_delay(self.failures + 1, error, refresh)
        self.failed_until(error.message, now + timedelta(seconds=delay))
        return delay

    def failed_until(self, error: str, retry_at: datetime | None) -> None:
        """Record a failed poll whose retry someone else scheduled (the data service)."""
        self.failures += 1
        self.error = error
        self.retry_at = retry_at

    @property
    def offline(self) -> bool:
        """True while the last poll failed."""
        return self.failures > 0

    def text(self, now: datetime) -> Text:
        """``updated just now``, or ``offline · retrying in 8s · <why>``."""
        if self.failures:
            wait = 0 if self.retry_at is None else (self.retry_at - now).total_seconds()
            line = Text(f"offline · retrying in {duration(max(0, math.ceil(wait)))}")
            if self.updated is not None:
                line.append(f" · last update {relative(self.updated, now)}")
            if self.error:
                line.append(" · ")
                line.append(safe_text(self.error, 80), style="dim")
            return line
        if self.note:
            line = Text(self.note)
            if self.updated is not None:
                line.append(f" · last update {relative(self.updated, now)}")
            return line
        if self.updated is None:
            return Text("loading…")
        return Text(f"updated {since(self.updated, now)}")
