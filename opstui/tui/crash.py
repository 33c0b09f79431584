"""What the user sees if a bug ever ends the app: no local variables, no token, a file to attach.

Textual's own crash report is a Rich traceback with every frame's local variables, and a local
variable can hold the token. opstui shows one line instead, and writes the full traceback (without
locals, the token replaced by ``***``) to a private file under the crash directory.
:class:`CrashReporting` is the app's side of it: the three Textual hooks a crash goes through.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import App
from textual.worker import WorkerFailed

from opstui.api.text import one_line, safe_text
from opstui.config import Settings
from opstui.crash import KEEP_REPORTS, Redact
from opstui.crash import write_crash_report as _write_report

__all__ = ["KEEP_REPORTS", "CrashReporting", "crash_summary", "write_crash_report"]


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


class CrashReporting(App[None]):
    """An app that, if a bug ends it, shows one line and writes a report without locals.

    The app using it has ``settings`` (the crash directory, and the token to keep out).
    """

    settings: Settings
    _crash: BaseException | None = None
    _crash_summary: RenderableType | None = None

    def _handle_exception(self, error: Exception) -> None:
        self._crash = error
        super()._handle_exception(error)

    def _fatal_error(self) -> None:
        """A bug ends the app: no locals on screen (one could hold the token), and a report file.

        Textual prints a traceback with every frame's local variables; opstui shows one line
        and where the full report (without locals, the token replaced by ``***``) was written.
        """
        self.bell()
        error = self._crash or RuntimeError("unknown error")
        path, report = write_crash_report(error, self.settings.crash_dir, self._redact)
        self._crash_summary = crash_summary(error, path, report, self._redact)
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        super()._print_error_renderables()
        if self._crash_summary is not None:
            # Not wrapped by Rich (the terminal wraps), so the report's path copies whole.
            self.error_console.print(self._crash_summary, soft_wrap=True)
            self._crash_summary = None

    def _redact(self, text: str) -> str:
        """``text`` without the token (it reaches a crash report only as ``***``)."""
        if self.settings.token is None or not self.settings.token.reveal():
            return text
        return text.replace(self.settings.token.reveal(), "***")
