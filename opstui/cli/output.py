"""How the command line writes and ends: safe text, tables, JSON, one-line errors, exit codes.

Everything a server sends is untrusted: it goes through :func:`clean` (no control characters, no
terminal escapes, no bidirectional overrides) before it reaches a terminal, and JSON is written
ASCII-only, so not even a C1 control byte gets through. Nothing here imports Textual or Rich:
``opstui list`` stays quick to start.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from opstui.api import ActivityEntry, Pipeline, PipelineStatus, Task
from opstui.api.text import duration, one_line

__all__ = [
    "EXIT_AUTH",
    "EXIT_BUG",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SERVER",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "Output",
    "activity_json",
    "clean",
    "duration",
    "fit",
    "pipeline_json",
    "plural",
    "render_table",
    "stamp",
    "task_json",
    "timestamp",
]

EXIT_OK = 0
EXIT_FAILED = 1
"""Refused by the status check, not found, refused or failed by the server for a target."""
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_SERVER = 4
"""Unreachable, timed out, 429, 5xx, an invalid answer, or an action's outcome unknown."""
EXIT_BUG = 70
"""A bug in opstui (sysexits' EX_SOFTWARE): one line, and a report file to attach."""
EXIT_INTERRUPTED = 130
"""128 + SIGINT."""
EXIT_TERMINATED = 143
"""128 + SIGTERM."""

MIN_WIDTH = 40
DEFAULT_WIDTH = 80

_STATUS_SGR: dict[str, str] = {
    PipelineStatus.AWAITING_APPROVAL.value: "1;33",
    PipelineStatus.RUNNING.value: "1;36",
    PipelineStatus.PAUSED.value: "35",
    PipelineStatus.FAILED.value: "1;31",
    PipelineStatus.SUCCESS.value: "32",
    PipelineStatus.IDLE.value: "2",
    PipelineStatus.UNKNOWN.value: "2",
}


def clean(value: object, limit: int = 1000) -> str:
    """Untrusted text as one printable line: control characters, escapes and bidi marks removed."""
    return one_line(value, limit)


def plural(count: int, word: str) -> str:
    """``1 pipeline``, ``2 pipelines``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cell_width(text: str) -> int:
    """How many terminal cells ``text`` takes (wide East Asian characters take two)."""
    return sum(_char_width(char) for char in text)


def fit(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in ``…`` when cut."""
    if cell_width(text) <= width:
        return text
    if width <= 0:
        return ""
    kept: list[str] = []
    used = 0
    for char in text:
        w = _char_width(char)
        if used + w > width - 1:
            break
        kept.append(char)
        used += w
    return "".join(kept) + "…"


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - cell_width(text))


def render_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    width: int,
    flexible: Iterable[int] = (),
    style: Callable[[int, str], str] | None = None,
) -> list[str]:
    """Rows under headers, columns two spaces apart, fitting ``width`` cells.

    Cells must already be clean. Only the ``flexible`` columns are ever cut (widest first, to
    at least 8 cells each); ``style(column, padded_cell)`` may colour a cell after padding.
    """
    table = [list(headers), *(list(row) for row in rows)]
    widths = [max(cell_width(row[i]) for row in table) for i in range(len(headers))]
    flex = [i for i in flexible if 0 <= i < len(widths)]
    gaps = 2 * (len(widths) - 1)
    while sum(widths) + gaps > width:
        shrinkable = [i for i in flex if widths[i] > max(8, cell_width(headers[i]))]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    lines = []
    for number, row in enumerate(table):
        cells = []
        for i, cell in enumerate(row):
            text = fit(cell, widths[i])
            text = text if i == len(row) - 1 else _pad(text, widths[i])
            if style is not None and number > 0:
                text = style(i, text)
            cells.append(text)
        lines.append("  ".join(cells).rstrip())
    return lines


def timestamp(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z`` (the contract's own form), for JSON; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def stamp(moment: datetime | None, empty: str = "-") -> str:
    """``2026-11-27 09:00:03Z`` for people: UTC, to the second."""
    if moment is None:
        return empty
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def waited_seconds(since: datetime | None, now: datetime) -> float | None:
    """Seconds from ``since`` to ``now``; never negative (clocks differ a little)."""
    return None if since is None else max(0.0, (now - since).total_seconds())


# -- JSON projections ------------------------------------------------------------------------


def pipeline_json(pipeline: Pipeline, *, now: datetime | None = None) -> dict[str, Any]:
    """The stable JSON view of a pipeline that ``list``, ``show`` and ``approvals`` print."""
    gate = pipeline.gate
    since = pipeline.waiting_since
    return {
        "id": pipeline.id,
        "name": pipeline.name,
        "status": pipeline.status.value,
        "state": pipeline.state,
        "active": pipeline.active,
        "step": pipeline.step_text or None,
        "run_count": pipeline.run_count,
        "last_run": {
            "status": pipeline.last_run_status or None,
            "completed": timestamp(pipeline.last_run_completed),
        },
        "gate": None if gate is None else {"id": gate.id, "name": gate.name},
        "waiting_since": timestamp(since),
        "waited_seconds": (
            None if now is None or since is None else round(waited_seconds(since, now) or 0.0)
        ),
        "type": list(pipeline.type),
        "owner": pipeline.owner_name or pipeline.owner or None,
        "tags": [str(tag) for tag in pipeline.tags],
        "updated_at": timestamp(pipeline.updated_at),
    }


def task_json(task: Task) -> dict[str, Any]:
    """The stable JSON view of a task that ``tasks`` prints."""
    return {
        "id": task.id,
        "name": task.name,
        "status": task.status.value,
        "state": task.state,
        "active": task.active,
        "type": task.type or None,
        "run_count": task.run_count,
        "last_run": {
            "status": task.last_run_status or None,
            "completed": timestamp(task.last_run_completed),
        },
        "owner": task.owner_name or task.owner or None,
        "tags": [str(tag) for tag in task.tags],
        "updated_at": timestamp(task.updated_at),
    }


def activity_json(entry: ActivityEntry) -> dict[str, Any]:
    """One activity-log row as JSON."""
    return {
        "id": entry.id or None,
        "time": timestamp(entry.created_at),
        "run_count": entry.run_count,
        "step_name": entry.step_name,
        "tool_identifier": entry.tool_identifier,
        "action": entry.action,
        "status": entry.status,
        "message": entry.message,
    }


# -- the writer -------------------------------------------------------------------------------


class Output:
    """Writes lines to stdout (data) and stderr (messages); never shows a secret.

    Every line is searched for the secrets it was given and has them replaced by ``***``, as a
    last guard. A reader that goes away (``opstui list | head``) is not an error: ``broken``
    turns true and later output is dropped.
    """

    def __init__(self, *, color: bool | None = None) -> None:
        self._secrets: list[str] = []
        self.broken = False
        self._color = color

    def hide(self, secret: str | None) -> None:
        """Never let ``secret`` through (values shorter than 8 characters are not searched)."""
        if secret and len(secret) >= 8 and secret not in self._secrets:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        """``text`` with every secret given to :meth:`hide` replaced by ``***``."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    @property
    def color(self) -> bool:
        """Colour only on a terminal, and only when NO_COLOR is unset and TERM is not dumb."""
        if self._color is None:
            self._color = (
                _isatty(sys.stdout)
                and not os.environ.get("NO_COLOR")
                and os.environ.get("TERM") != "dumb"
            )
        return self._color

    @property
    def width(self) -> int:
        """Columns to fit: the terminal's (or ``COLUMNS``), 80 when not known."""
        columns = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
        return max(MIN_WIDTH, columns or DEFAULT_WIDTH)

    def status(self, text: str, word: str | None = None) -> str:
        """``text`` (a padded status cell) coloured for the status ``word``, when colour is on."""
        code = _STATUS_SGR.get((word or text).strip())
        if not self.color or not code:
            return text
        stripped = text.rstrip()
        return f"\x1b[{code}m{stripped}\x1b[0m" + text[len(stripped) :]

    def line(self, text: str = "") -> None:
        """One line of data on stdout."""
        if self.broken:
            return
        try:
            sys.stdout.write(self.redact(text) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            self.drop_stdout()

    def lines(self, texts: Iterable[str]) -> None:
        """Several lines of data on stdout."""
        for text in texts:
            self.line(text)

    def json(self, value: Any) -> None:
        """``value`` as JSON on one line of stdout (ASCII only: nothing a terminal could obey)."""
        self.line(json.dumps(value, ensure_ascii=True, separators=(",", ":")))

    def json_document(self, value: Any) -> None:
        """``value`` as indented JSON on stdout."""
        self.line(json.dumps(value, ensure_ascii=True, indent=2))

    def note(self, text: str) -> None:
        """A message for the person on stderr (progress, summaries, refusals)."""
        try:
            sys.stderr.write(self.redact(text) + "\n")
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):
            pass

    def error(self, text: str) -> None:
        """The one ``opstui: error: ...`` line."""
        self.note(f"opstui: error: {text}")

    def warn(self, text: str) -> None:
        """An ``opstui: warning: ...`` line."""
        self.note(f"opstui: warning: {text}")

    def drop_stdout(self) -> None:
        """The reader has gone: send the rest of stdout nowhere, quietly."""
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass  # not a real file (a test's capture): nothing will be flushed to it anyway


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, AttributeError):
        return False
