"""The audit view (``L``): the audit log newest first, live as the app acts, never read whole."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable

from opstui.api import PipelineStatus
from opstui.tui.dialogs import ConfirmDialog
from opstui.tui.screens.audit import AuditScreen, audit_row
from tests.conftest import TOKEN
from tests.tui.conftest import MakeApp, first_with, settle, until


def _line(number: int, **fields: object) -> str:
    entry = {
        "action": "run",
        "type": "pipeline",
        "targets": [{"id": f"p{number}", "name": f"pipeline-{number}"}],
        "server": "http://127.0.0.1:1",
        "source": "cli",
        "outcomes": [{"target": f"p{number}", "ok": True, "status": "success", "message": ""}],
        "reason": None,
        "error": None,
        "details": {},
        "time": f"2024-05-01T10:{number // 60 % 60:02d}:{number % 60:02d}+00:00",
        "user": "ops",
    }
    entry.update(fields)
    return json.dumps(entry)


def test_a_row_shows_untrusted_text_inert_and_any_fields_present() -> None:
    entry = json.loads(
        _line(
            1,
            action="reject",
            reason="[bold red]boom[/]\x1b[31m",
            outcomes=[{"target": "p1", "ok": False, "status": "unknown", "message": "reset"}],
            profile="prod",
        )
    )
    cells = audit_row(entry)
    reason = cells[4]
    assert reason.plain.startswith("[bold red]boom[/]")  # literally, not as markup
    assert "\x1b" not in reason.plain
    assert cells[3].plain == "unknown · reset"
    assert "prod" in cells[5].plain  # a field the CLI may add is shown when present
    assert audit_row({})[0].plain == "-"  # a line lacking every field still shows


async def test_the_audit_view_is_newest_first_and_live_as_the_app_acts(
    make_app: MakeApp, audit_path: Path
) -> None:
    audit_path.write_text(_line(1) + "\n" + _line(2, action="stop") + "\n")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        gate = first_with(app, PipelineStatus.SUCCESS)
        await pilot.press("L")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        table = screen.query_one(DataTable)
        await until(pilot, lambda: table.row_count == 2)
        assert [entry["action"] for entry in screen.entries] == ["stop", "run"]

        # an action finished while the view is open: its line shows at the top
        app.perform_action("run", [gate])
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await settle(pilot)
        await until(pilot, lambda: table.row_count == 3)
        assert app.screen is screen
        newest = screen.entries[0]
        assert newest["action"] == "run" and newest["source"] == "tui"
        assert newest["targets"][0]["id"] == gate.id
        assert str(table.get_row_at(0)[3]) == "ok"
        assert TOKEN not in audit_path.read_text()

        await pilot.press("L")  # the same key goes back
        await pilot.pause()
        assert not isinstance(app.screen, AuditScreen)


async def test_the_audit_view_is_in_the_palette(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"audit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        assert "Nothing recorded yet" in str(app.screen.query_one("#audit-empty").render())
