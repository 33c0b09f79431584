"""What ends a command early, and the exit code and one line each error becomes."""

from __future__ import annotations

from opstui.api import (
    AuthenticationError,
    InvalidResponseError,
    OpseraError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitedError,
    RequestRefusedError,
    ServerError,
    TransportError,
)
from opstui.cli.output import EXIT_AUTH, EXIT_FAILED, EXIT_SERVER, EXIT_USAGE

__all__ = [
    "NO_SERVER_HINT",
    "Interrupted",
    "NotSentError",
    "UsageError",
    "describe_error",
    "exit_code",
]

NO_SERVER_HINT = (
    "no server configured: run `opstui config init` (or set OPSTUI_BASE_URL and OPSTUI_TOKEN), "
    "or try the app on a simulator with `opstui --demo`"
)
"""The one line a subcommand ends with when no server is configured anywhere."""


class UsageError(Exception):
    """The command line asks for something that cannot be sent (exit 2, nothing sent)."""


class NotSentError(Exception):
    """The client failed before the action request was sent: nothing was applied."""

    def __init__(self, error: OpseraError) -> None:
        self.error = error
        """What the client raised (it decides the exit code)."""
        super().__init__(error.message)


class Interrupted(Exception):
    """Ctrl-C or SIGTERM ended a command; the audit line, if any, is already written."""

    def __init__(self, detail: str = "", signum: int | None = None) -> None:
        self.detail = detail
        """What became of the action (``nothing was sent``, or how to check), or empty."""
        self.signum = signum
        """The signal, when one was caught (None: a KeyboardInterrupt)."""
        super().__init__(detail)


def exit_code(error: OpseraError) -> int:
    """The exit code for an error from the client."""
    if isinstance(error, OutcomeUnknownError):
        return EXIT_SERVER
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return EXIT_AUTH
    if isinstance(error, RequestRefusedError):
        return EXIT_USAGE
    if isinstance(error, TransportError | ServerError | InvalidResponseError | RateLimitedError):
        return EXIT_SERVER
    return EXIT_FAILED


def describe_error(error: OpseraError, token: str = "OPSTUI_TOKEN") -> str:
    """One line for an error from the client, with what to check for 401 and 403 (``token``:
    where the token came from, e.g. ``the environment variable OPSTUI_TOKEN``)."""
    text = f"{error.title.lower()}: {error.message}"
    if isinstance(error, AuthenticationError):
        text += f"; check {token}"
    elif isinstance(error, PermissionDeniedError):
        text += "; the token's scope or your role does not allow this"
    return text
