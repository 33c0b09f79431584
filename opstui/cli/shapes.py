"""What ``opstui doctor`` reads from a trace: the shapes a server's answers take. Nothing here
sends anything (the token's scope: :mod:`opstui.cli.scope`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ListAnswer", "list_answers", "read_trace"]

_TRUNCATED = re.compile(r"… \(\d+ bytes in all\)$")
_KEY = re.compile(r'^\s*\{\s*"([^"]{1,40})"')


@dataclass(frozen=True)
class ListAnswer:
    """One list answer as the server sent it (from the trace), reduced to its shape."""

    envelope: str
    """``data``, ``pipelines``, ``array``, or what else it was (``object with keys ...``)."""
    ids: tuple[str, ...]
    """The records' ids, in order (empty when the body could not be read whole)."""
    records: int | None
    """How many records it held (None: the body was cut short in the trace)."""
    count: int | None
    """The server's ``count``, when it sent one."""
    query: str
    """The request's query string (``pageSize=1&currentPage=2...``)."""


def read_trace(path: Path, offset: int = 0) -> list[dict[str, Any]]:
    """The trace's lines from byte ``offset`` on, parsed (unreadable lines are skipped)."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            raw = handle.read()
    except OSError:
        return []
    lines = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def _records(body: Any) -> tuple[str, list[Any] | None, int | None]:
    if isinstance(body, list):
        return "array", body, None
    if not isinstance(body, dict):
        return f"a JSON {type(body).__name__}, not a list", None, None
    count = body.get("count")
    count = count if isinstance(count, int) and not isinstance(count, bool) else None
    for key in ("data", "pipelines", "tasks"):
        if isinstance(body.get(key), list):
            return key, body[key], count
    keys = ", ".join(sorted(str(k) for k in body)[:6]) or "none"
    return f"an object with keys {keys}", None, count


def _shape(text: str) -> ListAnswer | None:
    """The shape of one list answer's body (as the trace kept it)."""
    if _TRUNCATED.search(text):  # cut short in the trace: its opening still says the envelope
        stripped = text.lstrip()
        if stripped.startswith("["):
            return ListAnswer("array", (), None, None, "")
        key = _KEY.match(stripped)
        envelope = key.group(1) if key else "an answer too long to read here"
        return ListAnswer(envelope, (), None, None, "")
    try:
        body = json.loads(text)
    except ValueError:
        start = text.lstrip()[:1]
        what = "an HTML page" if start == "<" else "not JSON" if text.strip() else "empty"
        return ListAnswer(what, (), None, None, "")
    envelope, records, count = _records(body)
    if records is None:
        return ListAnswer(envelope, (), None, count, "")
    ids = tuple(str(r.get("_id") or r.get("id") or "") for r in records if isinstance(r, dict))
    return ListAnswer(envelope, ids, len(records), count, "")


def list_answers(lines: Sequence[dict[str, Any]], path: str) -> list[ListAnswer]:
    """Every 2xx answer to ``GET path`` in the trace lines, in order, reduced to its shape."""
    found = []
    for line in lines:
        url = urlsplit(str(line.get("url", "")))
        status = line.get("status")
        if line.get("method") != "GET" or not url.path.endswith(path):
            continue
        if not isinstance(status, int) or not 200 <= status < 300:
            continue
        shape = _shape(str(line.get("response_body", "")))
        if shape is not None:
            found.append(
                ListAnswer(shape.envelope, shape.ids, shape.records, shape.count, url.query)
            )
    return found
