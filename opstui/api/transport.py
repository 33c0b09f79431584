"""One request over HTTP, and every way it can fail mapped into the client's error tree.

Nothing from httpx (or h11 under it) leaves this module: a failure becomes the closest
:class:`~opstui.api.errors.OpseraError`. What matters most is whether a request that changes
something may have reached the server. A request that never left (no connection, the pool was
full) is a :class:`TransportError`: nothing was applied. Once it may have been sent (a timeout
while writing or waiting, a connection closed or reset, a protocol error, an answer that cannot
be read), a mutating request is an :class:`OutcomeUnknownError`, and it is never sent again.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Awaitable, Callable, Generator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from opstui.api.errors import (
    ApiError,
    ConnectionFailedError,
    InvalidResponseError,
    OpseraError,
    OutcomeUnknownError,
    RateLimitedError,
    RequestRefusedError,
    RequestTimeoutError,
    error_for_status,
)
from opstui.api.text import one_line

__all__ = [
    "NO_RETRY",
    "Answer",
    "BearerAuth",
    "Mutation",
    "RetryPolicy",
    "Transport",
    "batch_timeout",
]

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})

# Raised before a byte of the request went out: nothing can have been applied.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How reads are retried: bounded, exponential with full jitter, honouring Retry-After."""

    attempts: int = 3
    """Tries in all, the first included."""
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    """A server that asks for a longer wait than this gets the error instead."""

    def delay(self, attempt: int, error: OpseraError) -> float | None:
        """Seconds to wait before the next try, or None not to try again."""
        if attempt >= self.attempts:
            return None
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= self.max_retry_after else None
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(0, backoff)


NO_RETRY = RetryPolicy(attempts=1)


class BearerAuth(httpx.Auth):
    """Adds the token to each request; never shows it in a repr."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


@dataclass(frozen=True, slots=True)
class Mutation:
    """What a request that changes something does, to say so if its outcome is unknown."""

    action: str
    """``run``, ``reject``, ``create``, ``clone``, ..."""
    targets: tuple[str, ...] = ()
    applied: str = ""
    """How "it may have ..." ends: ``applied the run``, ``created the pipeline``."""

    def unknown(self, host: str, reason: str) -> OutcomeUnknownError:
        """The error for this request when it may have been applied."""
        done = self.applied or f"applied the {self.action}"
        # No "outcome unknown:" here: that is the error's title, which callers put in front.
        return OutcomeUnknownError(
            f"{host} may have {done} ({reason}); check its status before trying again",
            action=self.action,
            targets=self.targets,
        )


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful (2xx) answer, read whole."""

    status_code: int
    content: bytes


def retry_after(value: str | None) -> float | None:
    """The ``Retry-After`` header in seconds (a number or an HTTP date); None if unusable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def server_message(content: bytes) -> str:
    """The server's own explanation in an error body, if it has one (raw text)."""
    if not content.strip() or len(content) > 64 * 1024:
        return ""
    try:
        body = json.loads(content.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return ""
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "errorMessage"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return ""


def encode_body(body: Any) -> bytes:
    """A request body as JSON, or RequestRefusedError (nothing is sent) if it cannot be."""
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        # UnicodeEncodeError (a lone surrogate) is a ValueError too.
        reason = "text that is not valid Unicode" if isinstance(exc, UnicodeError) else "values"
        raise RequestRefusedError(f"the request holds {reason} that JSON cannot carry") from None


def _retryable(error: OpseraError) -> bool:
    if isinstance(error, ApiError):
        return error.status_code in RETRYABLE_STATUS
    return isinstance(error, ConnectionFailedError | RequestTimeoutError)


BATCH_FREE_TARGETS = 1000
"""A request acting on this many ids or fewer waits the usual timeout."""
SECONDS_PER_TARGET = 0.001
"""Beyond them, one more second of wait per thousand ids: a server applies a batch id by id."""
BATCH_TIMEOUT_CAP = 120.0
"""The longest a batch waits, however large (unless the configured timeout is longer)."""


def batch_timeout(base: float, targets: int) -> float:
    """How long a request acting on ``targets`` ids waits for its answer.

    A run on 40,000 pipelines is one request that a server applies one pipeline at a time:
    with the usual 10 s it would end as "outcome unknown" although nothing went wrong, and a
    mutation is never retried. So the wait grows with the batch, within a cap.
    """
    extra = max(0, targets - BATCH_FREE_TARGETS) * SECONDS_PER_TARGET
    return max(base, min(base + extra, BATCH_TIMEOUT_CAP))


class Transport:
    """Sends requests for the client: reads retried by the policy, mutations exactly once."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        host: str,
        timeout: float,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]],
        redact: Callable[[str], str],
    ) -> None:
        self.http = http
        self.host = host
        self.timeout = timeout
        self.retry = retry
        self._sleep = sleep
        self._redact = redact

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        mutation: Mutation | None = None,
        targets: int = 1,
    ) -> Answer:
        """Send one request and read its answer whole; any failure is an OpseraError.

        ``mutation`` marks a request that changes something: it is sent once, and once it may
        have reached the server every failure is an :class:`OutcomeUnknownError`. ``targets``
        is how many ids the request acts on: a large batch is given longer to answer
        (:func:`batch_timeout`).
        """
        wait = batch_timeout(self.timeout, targets)
        content = None if body is None else encode_body(body)
        headers = {"Content-Type": "application/json"} if content is not None else None
        policy = NO_RETRY if mutation is not None else self.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(method, path, content, headers, params, mutation, wait)
            except OpseraError as exc:
                if not _retryable(exc):
                    raise
                error = exc
            delay = policy.delay(attempt, error)
            if delay is None:
                raise error
            await self._sleep(delay)

    async def _once(
        self,
        method: str,
        path: str,
        content: bytes | None,
        headers: dict[str, str] | None,
        params: dict[str, str] | None,
        mutation: Mutation | None,
        wait: float,
    ) -> Answer:
        if self.http.is_closed:
            # The app is ending (or the profile changed): nothing leaves, so nothing was applied.
            raise ConnectionFailedError(f"not sent to {self.host}: the client was closed")
        try:
            request = self.http.build_request(
                method, path, content=content, headers=headers, params=params, timeout=wait
            )
        except (httpx.InvalidURL, httpx.HTTPError, httpx.StreamError, ValueError) as exc:
            raise RequestRefusedError(
                f"the request could not be built: {self._reason(exc)}"
            ) from None
        try:
            response = await self.http.send(request, stream=True)
        except (httpx.HTTPError, httpx.StreamError, httpx.InvalidURL) as exc:
            raise self._failure(exc, mutation, wait, reading=False) from None
        try:
            try:
                await response.aread()
                raw = response.content
            except (httpx.HTTPError, httpx.StreamError) as exc:
                if not response.is_success:
                    raw = b""  # the status says enough; the body was only an explanation
                else:
                    raise self._failure(exc, mutation, wait, reading=True) from None
        finally:
            with suppress(httpx.HTTPError, httpx.StreamError):
                await response.aclose()
        if response.is_success:
            return Answer(response.status_code, raw)
        raise self._status_error(response, raw)

    def _status_error(self, response: httpx.Response, content: bytes) -> ApiError:
        message = self._redact(server_message(content))
        code = response.status_code
        reason = one_line(response.reason_phrase, 60) or "error"
        text = f"{message} (HTTP {code})" if message.strip() else f"HTTP {code} {reason}"
        return error_for_status(code, text, retry_after(response.headers.get("Retry-After")))

    def _reason(self, exc: BaseException) -> str:
        return one_line(self._redact(str(exc)), 120) or type(exc).__name__

    def _failure(
        self, exc: BaseException, mutation: Mutation | None, timeout: float, *, reading: bool
    ) -> OpseraError:
        """The client's error for an httpx failure, sending (``reading`` False) or reading."""
        host = self.host
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return RequestTimeoutError(f"could not connect to {host} within {timeout:g} s")
        if isinstance(exc, _NOT_SENT) and not reading:
            return ConnectionFailedError(f"cannot reach {host}: {self._reason(exc)}")
        if isinstance(exc, httpx.InvalidURL):
            return RequestRefusedError(f"the request could not be built: {self._reason(exc)}")
        if isinstance(exc, httpx.TimeoutException):
            reason = f"no answer within {timeout:g} s"
            if mutation is not None:
                return mutation.unknown(host, reason)
            return RequestTimeoutError(f"{host} did not answer within {timeout:g} s")
        if isinstance(exc, httpx.DecodingError):
            reason = "its answer could not be decoded"
            if mutation is not None:
                return mutation.unknown(host, reason)
            return InvalidResponseError(
                f"{host} sent an answer that could not be decoded"
                " (its Content-Encoding does not match its body)"
            )
        if isinstance(exc, httpx.TransportError):
            # Closed, reset or garbled after the request went out: it may have arrived.
            if mutation is not None:
                return mutation.unknown(host, f"the connection failed: {self._reason(exc)}")
            return ConnectionFailedError(f"lost the connection to {host}: {self._reason(exc)}")
        if mutation is not None:
            return mutation.unknown(host, f"its answer could not be read: {self._reason(exc)}")
        return InvalidResponseError(f"{host} sent an answer that could not be read")
