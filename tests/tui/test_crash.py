"""A crash never shows a token: no local variables on screen, a report file to attach instead."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from rich.console import Console
from textual.worker import WorkerFailed

from opstui.tui.crash import crash_summary, write_crash_report
from opstui.tui.screens.pipelines import PipelinesScreen
from tests.conftest import TOKEN
from tests.tui.conftest import MakeApp, settle


class BugError(Exception):
    """The bug the test plants in a key handler."""


async def test_a_bug_in_a_handler_shows_one_line_and_names_a_report_without_the_token(
    make_app: MakeApp,
    crash_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def buggy_pause(self: PipelinesScreen) -> None:
        token = self.opstui.settings.token.reveal()  # type: ignore[union-attr]
        headers = {"Authorization": f"Bearer {token}"}  # a local Textual would print
        raise BugError(f"cannot pause with {headers['Authorization']}")

    monkeypatch.setattr(PipelinesScreen, "action_toggle_pause", buggy_pause)
    app = make_app()

    async def press_p() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await pilot.press("p")
            await pilot.pause()

    with pytest.raises(BugError):  # a test run is told of the crash (run_test re-raises it)
        await press_p()
    assert app.return_code == 1

    shown = capsys.readouterr().err
    (report,) = crash_dir.glob("crash-*.txt")
    assert "opstui stopped because of a bug: BugError: cannot pause with Bearer ***" in shown
    assert str(report) in shown and "attach that file to a bug report" in shown
    assert TOKEN not in shown
    assert "locals" not in shown and "headers" not in shown  # no frame's variables
    assert "Traceback" not in shown  # the full story is in the file

    text = report.read_text()
    assert "Traceback (most recent call last)" in text and "buggy_pause" in text
    assert "BugError: cannot pause with Bearer ***" in text
    assert TOKEN not in text
    assert stat.S_IMODE(report.stat().st_mode) == 0o600


def test_when_no_report_can_be_written_the_locals_free_traceback_is_shown(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the crash directory should be")

    def fail() -> None:
        token = TOKEN  # never shown: the report has no locals
        raise BugError(f"\x1b[2Jboom {token}")

    try:
        fail()
    except BugError as error:
        path, report = write_crash_report(error, blocked, lambda t: t.replace(TOKEN, "***"))
        summary = crash_summary(error, path, report, lambda t: t.replace(TOKEN, "***"))
    assert path is None
    console = Console(width=100, file=io.StringIO(), color_system=None)
    console.print(summary)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "could not be written" in shown and "in fail" in shown
    assert "boom ***" in shown and TOKEN not in shown and "\x1b" not in shown


def test_a_failed_workers_report_shows_the_workers_own_call_stack(tmp_path: Path) -> None:
    """Textual ends the app with a WorkerFailed it never raised: without the worker's frames
    the report would say nothing of where the bug is."""

    def fail() -> None:
        raise BugError("in a worker")

    try:
        fail()
    except BugError as error:
        failed = WorkerFailed(error)
    path, report = write_crash_report(failed, tmp_path, lambda text: text)
    assert path is not None and path.read_text() == report
    assert "in fail" in report
    assert "BugError: in a worker" in report
    assert "WorkerFailed" in report
    assert report.index("BugError: in a worker") < report.index("WorkerFailed")
