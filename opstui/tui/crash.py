"""What the user sees if a bug ever ends the app: no local variables, no token, a file to attach.

Textual's own crash report is a Rich traceback with every frame's local variables, and a local
variable can hold the token. opstui shows one line instead, and writes the full traceback (without
locals, the token replaced by ``***``) to a private file under the crash directory.
"""

from __future__ import annotations

import os
import platform
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text

from opstui import __version__
from opstui.api.text import one_line, safe_text

__all__ = ["KEEP_REPORTS", "crash_summary", "write_crash_report"]

KEEP_REPORTS = 20
"""Crash reports kept; older ones are removed when a new one is written."""

Redact = Callable[[str], str]


def _report_text(error: BaseException, redact: Redact, now: datetime) -> str:
    lines = [
        f"opstui {__version__} crashed at {now.isoformat(timespec='seconds')}",
        f"Python {platform.python_version()} on {platform.platform()}",
        "",
        *traceback.format_exception(error),  # frames and source lines only: never the locals
    ]
    return redact("\n".join(line.rstrip("\n") for line in lines) + "\n")


def write_crash_report(
    error: BaseException,
    directory: Path,
    redact: Redact,
    *,
    now: datetime | None = None,
) -> tuple[Path | None, str]:
    """Write the report of ``error`` under ``directory``; return its path (None if it could not
    be written) and the report's text."""
    when = now or datetime.now(UTC)
    text = _report_text(error, redact, when)
    path = directory / f"crash-{when:%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, text.encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except OSError:
        return None, text
    _prune(directory)
    return path, text


def _prune(directory: Path) -> None:
    try:
        reports = sorted(directory.glob("crash-*.txt"), key=lambda p: p.stat().st_mtime)
        for old in reports[:-KEEP_REPORTS]:
            old.unlink(missing_ok=True)
    except OSError:
        return


def crash_summary(
    error: BaseException, path: Path | None, report: str, redact: Redact
) -> RenderableType:
    """What the terminal shows after the crash: the error in one line and where the report is."""
    what = one_line(redact(f"{type(error).__name__}: {error}"), 300)
    heading = Text(f"opstui stopped because of a bug: {what}")
    if path is None:
        lines = "\n".join(safe_text(line) for line in report.splitlines())
        return Group(
            heading, Text("The report could not be written to a file; here it is:\n"), Text(lines)
        )
    return Group(
        heading,
        Text("The full report is in"),
        Text(f"  {path}"),
        Text("Please attach that file to a bug report: it holds no token and no local variables."),
    )
