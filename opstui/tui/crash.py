"""What the user sees if a bug ever ends the app: no local variables, no token, a file to attach.

Textual's own crash report is a Rich traceback with every frame's local variables, and a local
variable can hold the token. opstui shows one line instead, and writes the full traceback (without
locals, the token replaced by ``***``) to a private file under the crash directory.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual.worker import WorkerFailed

from opstui.api.text import one_line, safe_text
from opstui.crash import KEEP_REPORTS, Redact
from opstui.crash import write_crash_report as _write_report

__all__ = ["KEEP_REPORTS", "crash_summary", "write_crash_report"]


def write_crash_report(
    error: BaseException, directory: Path, redact: Redact, *, now: datetime | None = None
) -> tuple[Path | None, str]:
    """:func:`opstui.crash.write_crash_report`, with the call stack of a worker that failed.

    Textual ends the app with a ``WorkerFailed`` it never raised: no frames of its own, and the
    worker's exception not chained to it, so its report would hold one line. Chained as its
    cause, the worker's exception (where the bug is) comes first, with its frames.
    """
    if isinstance(error, WorkerFailed) and error.__cause__ is None:
        error.__cause__ = error.error
    return _write_report(error, directory, redact, now=now)


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
