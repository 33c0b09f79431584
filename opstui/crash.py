"""Crash reports: what a bug leaves behind, for the app and the command line alike.

The report holds the versions, the call stack and the error, never local variables (a token can
be one), and every secret is replaced by ``***`` (the caller's ``redact``). It is a private file
(0600) under the crash directory (``Settings.crash_dir``: beside the audit log), and only the
newest :data:`KEEP_REPORTS` are kept. Knows nothing of Textual.
"""

from __future__ import annotations

import os
import platform
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from opstui import __version__

__all__ = ["KEEP_REPORTS", "Redact", "write_crash_report"]

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
