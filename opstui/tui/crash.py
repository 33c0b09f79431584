"""What the user sees if a bug ever ends the app: no local variables, no token, a file to attach.

Textual's own crash report is a Rich traceback with every frame's local variables, and a local
variable can hold the token. opstui shows one line instead, and writes the full traceback (without
locals, the token replaced by ``***``) to a private file under the crash directory.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text

from opstui.api.text import one_line, safe_text
from opstui.crash import KEEP_REPORTS, Redact, write_crash_report

__all__ = ["KEEP_REPORTS", "crash_summary", "write_crash_report"]


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
