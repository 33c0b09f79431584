"""The simulator's errors; the server turns each into ``{"status": "failed", "message": ...}``."""

from __future__ import annotations


class SimError(Exception):
    """A request the simulator refuses, with the HTTP status it answers."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(SimError):
    """The request is malformed or asks for something the contract does not allow (400)."""

    status_code = 400


class Unauthorized(SimError):
    """No token, or not the right one (401)."""

    status_code = 401


class Forbidden(SimError):
    """The token may not do this, e.g. a read-only token asking for a change (403)."""

    status_code = 403


class NotFound(SimError):
    """No such path, pipeline or task (404)."""

    status_code = 404


class MethodNotAllowed(SimError):
    """The path exists, but not with this method (405)."""

    status_code = 405
