"""A server that echoes the token back in its messages: the app shows it nowhere.

Not on screen (the whole screen, exported), not in a toast, not in the audit log: in the refresh
that fails, the action that fails, the target the server refuses, and the crash-free outcome.
"""

from __future__ import annotations

import json
from pathlib import Path

from opstui.api import PipelineStatus, RetryPolicy
from opstui.sim.server import SimServer
from tests.conftest import TOKEN
from tests.tui.conftest import MakeApp, first_with, highlight, notes, refresh, settle

ECHO = f"upstream said: invalid credentials Bearer {TOKEN} for this call"


def shown_everywhere(app: object) -> str:
    """Everything a person could read: the screen as exported, and every toast."""
    return app.export_screenshot() + "\n".join(notes(app))  # type: ignore[attr-defined]


async def test_a_token_echoed_in_messages_is_never_shown(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.client.retry = RetryPolicy(attempts=1)

        # A refresh that fails with the token in the server's message.
        body = json.dumps({"status": "failed", "message": ECHO})
        sim.add_fault("GET", "/api/v2/pipelines", status=503, body=body)
        await refresh(pilot)
        assert any("upstream said" in note for note in notes(app)), notes(app)
        assert TOKEN not in shown_everywhere(app)

        # An action the server refuses for its target, echoing the token.
        target = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, target)
        refused = {
            "status": "failed",
            "message": ECHO,
            "results": [{"target": target.id, "status": "failed", "message": ECHO}],
        }
        sim.add_fault("POST", "/api/v2/actions", status=200, body=json.dumps(refused), action="run")
        await pilot.press("r", "y")
        await settle(pilot)
        assert any("Run failed" in note for note in notes(app)), notes(app)
        assert TOKEN not in shown_everywhere(app)

        # An action that fails outright (a 500 whose body echoes the token).
        sim.add_fault("POST", "/api/v2/actions", status=500, body=body, action="run")
        await pilot.press("r", "y")
        await settle(pilot)
        assert TOKEN not in shown_everywhere(app)

    log = audit_path.read_text()
    assert len(log.splitlines()) == 2
    assert "upstream said" in log and TOKEN not in log
