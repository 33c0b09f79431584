"""The one back-off rule every poll follows (app, screens, ``approvals --watch``)."""

from __future__ import annotations

import pytest

from opstui.api import AuthenticationError, PermissionDeniedError, RateLimitedError, ServerError
from opstui.backoff import MAX_BACKOFF, REFUSED_RETRY, next_delay


def test_all_well_keeps_the_interval() -> None:
    assert next_delay(0, None, 5.0) == 5.0
    assert next_delay(0, ServerError("boom", status_code=500), 30.0) == 30.0


@pytest.mark.parametrize(
    ("failures", "delay"), [(1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (9, 60)]
)
def test_failures_double_the_wait_up_to_a_minute(failures: int, delay: float) -> None:
    assert next_delay(failures, ServerError("boom", status_code=503), 5.0) == delay


def test_a_short_interval_starts_the_back_off_lower() -> None:
    assert next_delay(1, ServerError("boom", status_code=503), 2.0) == 2.0
    assert next_delay(2, ServerError("boom", status_code=503), 2.0) == 4.0


@pytest.mark.parametrize(
    "error",
    [AuthenticationError("no", status_code=401), PermissionDeniedError("no", status_code=403)],
)
def test_a_refused_token_is_retried_once_a_minute(error: Exception) -> None:
    assert next_delay(1, error, 5.0) == REFUSED_RETRY  # type: ignore[arg-type]
    assert next_delay(1, error, 120.0) == 120.0  # type: ignore[arg-type]


def test_a_429_waits_as_long_as_asked_but_never_past_the_cap() -> None:
    assert next_delay(1, RateLimitedError("slow down", status_code=429, retry_after=17), 5.0) == 17
    assert (
        next_delay(1, RateLimitedError("slow down", status_code=429, retry_after=600), 5.0)
        == MAX_BACKOFF
    )
