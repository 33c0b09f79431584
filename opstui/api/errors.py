"""The client's one error tree.

Every error carries a short ``title`` and a one-line ``message`` meant for a person. None of them
ever contains the token: messages are built from status codes and the server's own ``message``
field, which is cleaned of control characters and cut short.
"""

from __future__ import annotations

from opstui.api.text import one_line

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConnectionFailedError",
    "InvalidResponseError",
    "InvalidStateError",
    "NotFoundError",
    "OpseraError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RequestRefusedError",
    "RequestTimeoutError",
    "ServerError",
    "TransportError",
]

MAX_MESSAGE = 300


class OpseraError(Exception):
    """Base of every error the client raises."""

    title = "Opsera error"

    def __init__(self, message: str) -> None:
        self.message = one_line(message) or self.title
        super().__init__(self.message)


class RequestRefusedError(OpseraError, ValueError):
    """The client refused to send a request that could not be right (nothing was sent)."""

    title = "Not sent"


class TransportError(OpseraError):
    """The server could not be reached or did not answer in time."""

    title = "Server unreachable"


class ConnectionFailedError(TransportError):
    """No connection could be made (refused, DNS, TLS, reset)."""


class RequestTimeoutError(TransportError):
    """The server did not answer within the timeout."""

    title = "Timed out"


class OutcomeUnknownError(OpseraError):
    """A request that changes something reached the server, but its outcome is unknown.

    Raised for a mutating request only, when it may have been applied: a timeout after it was
    sent, a connection closed or reset before the answer was read whole, or a 2xx answer that
    cannot be read. It is never re-sent; the caller re-checks the status (a read) to learn what
    happened. A request that never left (no connection could be made) is a
    :class:`TransportError` instead: nothing was applied.
    """

    title = "Outcome unknown"

    def __init__(self, message: str, *, action: str = "", targets: tuple[str, ...] = ()) -> None:
        self.action = action
        """The action that was sent (``run``, ``reject``, ``clone``, ...)."""
        self.targets = targets
        """The ids it was sent for (empty for a create)."""
        super().__init__(message)


class InvalidResponseError(OpseraError):
    """The server answered with something that is not the documented shape."""

    title = "Invalid response"


class ApiError(OpseraError):
    """The server answered with an HTTP error status."""

    title = "Request failed"

    def __init__(self, message: str, *, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(message)


class BadRequestError(ApiError):
    """400: the server found the request invalid."""

    title = "Invalid request"


class AuthenticationError(ApiError):
    """401: the token is missing, wrong or expired."""

    title = "Not authenticated"


class PermissionDeniedError(ApiError):
    """403: the token's scope or the user's role does not allow this."""

    title = "Permission denied"


class NotFoundError(ApiError):
    """404: no such pipeline, task or endpoint."""

    title = "Not found"


class InvalidStateError(ApiError):
    """409 or 422: not allowed in the current state."""

    title = "Not allowed now"


class RateLimitedError(ApiError):
    """429: too many requests; ``retry_after`` is the server's wish, in seconds, if it said."""

    title = "Rate limited"

    def __init__(self, message: str, *, status_code: int, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(message, status_code=status_code)


class ServerError(ApiError):
    """5xx: the server failed."""

    title = "Server error"


def error_for_status(status_code: int, message: str, retry_after: float | None = None) -> ApiError:
    """Map an HTTP error status to its error class."""
    if status_code == 429:
        return RateLimitedError(message, status_code=status_code, retry_after=retry_after)
    cls: type[ApiError]
    if status_code == 400:
        cls = BadRequestError
    elif status_code == 401:
        cls = AuthenticationError
    elif status_code == 403:
        cls = PermissionDeniedError
    elif status_code == 404:
        cls = NotFoundError
    elif status_code in (409, 422):
        cls = InvalidStateError
    elif status_code >= 500:
        cls = ServerError
    else:
        cls = ApiError
    return cls(message, status_code=status_code)
