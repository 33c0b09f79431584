"""The one back-off rule of every poll: the app's live refresh, its screens, ``approvals --watch``.

After ``failures`` failed polls in a row the next one waits 5, 10, 20, 40, then 60 s (starting
from the refresh interval, if that is shorter); a refused token (401/403) is retried once a
minute, since retrying will not heal it; a 429 waits at least as long as the server asked.
Knows nothing of Textual: the CLI uses it too.
"""

from __future__ import annotations

from opstui.api import AuthenticationError, OpseraError, PermissionDeniedError, RateLimitedError

__all__ = ["BACKOFF_BASE", "MAX_BACKOFF", "REFUSED_RETRY", "is_refusal", "next_delay"]

MAX_BACKOFF = 60.0
"""The longest wait between two polls while the server fails."""

BACKOFF_BASE = 5.0
"""The first wait after a failure (or the refresh interval, if that is shorter)."""

REFUSED_RETRY = 60.0
"""The wait after the token was refused: retrying will not help, so do it rarely."""


def is_refusal(error: OpseraError) -> bool:
    """True when the server refused the token (401) or its scope (403)."""
    return isinstance(error, AuthenticationError | PermissionDeniedError)


def next_delay(failures: int, error: OpseraError | None, interval: float) -> float:
    """Seconds until the next poll, after ``failures`` failed polls in a row (0: all is well).

    ``error`` is the last failure (None when the last poll succeeded); ``interval`` is the
    refresh interval the poll keeps when all is well.
    """
    if failures <= 0 or error is None:
        return interval
    if is_refusal(error):
        return max(REFUSED_RETRY, interval)
    base = min(BACKOFF_BASE, interval)
    delay: float = min(MAX_BACKOFF, base * 2.0 ** min(failures - 1, 16))
    if isinstance(error, RateLimitedError) and error.retry_after:
        delay = min(MAX_BACKOFF, max(delay, float(error.retry_after)))
    return delay
