"""``--trace FILE``: every request and response as one JSON line, for a bug report.

A :class:`TracingTransport` wraps the real transport. Each line holds the method, URL, status,
duration, headers and bodies (cut at :data:`MAX_BODY` characters), with the token and the
``Authorization`` header redacted wherever they appear. The file is created private (0600) and
only appended to; a line is written whole with one ``write``.

The raw bytes are recorded as they came (before any ``Content-Encoding`` is undone), so a trace
shows exactly what a misbehaving server sent.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

__all__ = ["MAX_BODY", "REDACTED", "TraceError", "TracingTransport"]

MAX_BODY = 64 * 1024
"""Characters of each body kept in a trace line."""
REDACTED = "***"
_SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


class TraceError(Exception):
    """The trace file cannot be written; one line for a person."""


class TracingTransport(httpx.AsyncBaseTransport):
    """Records every exchange through ``inner`` to ``path``; never the token."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, path: Path, *, secrets: Iterable[str] = ()
    ) -> None:
        self._inner = inner
        self.path = path
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.close(fd)
            os.chmod(path, 0o600)
        except OSError as exc:
            raise TraceError(f"cannot write the trace {path}: {exc.strerror or exc}") from None

    def __repr__(self) -> str:
        return f"TracingTransport({str(self.path)!r})"

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def _headers(self, headers: httpx.Headers) -> dict[str, str]:
        return {
            name: REDACTED if name.lower() in _SECRET_HEADERS else self._redact(value)
            for name, value in headers.multi_items()
        }

    def _body(self, raw: bytes) -> str:
        text = raw.decode("utf-8", errors="replace")
        if len(text) > MAX_BODY:
            text = text[:MAX_BODY] + f"… ({len(raw)} bytes in all)"
        return self._redact(text)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        line: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": request.method,
            "url": self._redact(str(request.url)),
            "request_headers": self._headers(request.headers),
            "request_body": self._body(request.content) if request.content else "",
        }
        try:
            response = await self._inner.handle_async_request(request)
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        except Exception as exc:
            line["error"] = self._redact(f"{type(exc).__name__}: {exc}")[:500]
            line["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            self._write(line)
            raise
        await response.aclose()
        line["status"] = response.status_code
        line["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        line["response_headers"] = self._headers(response.headers)
        line["response_body"] = self._body(raw)
        self._write(line)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
            request=request,
        )

    def _write(self, line: dict[str, Any]) -> None:
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode("utf-8", errors="replace")
        with self._lock:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, data)
                finally:
                    os.close(fd)
            except OSError:
                pass  # a trace is a help, never a reason for a request to fail

    async def aclose(self) -> None:
        await self._inner.aclose()
