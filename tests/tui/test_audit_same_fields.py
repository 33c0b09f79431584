"""The app and the command line write the same audit line: the same fields, never the token."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from opstui.api import PipelineStatus
from opstui.cli import main
from opstui.sim.server import SimServer
from tests.conftest import TOKEN
from tests.tui.conftest import MakeApp, first_with, highlight, settle


async def test_app_and_cli_audit_lines_have_the_same_fields(
    make_app: MakeApp,
    sim: SimServer,
    audit_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = first_with(app, PipelineStatus.AWAITING_APPROVAL)
        await highlight(pilot, target)
        await pilot.press("a", "y")
        await settle(pilot)
    (from_app,) = (json.loads(line) for line in audit_path.read_text().splitlines())

    monkeypatch.setenv("OPSTUI_BASE_URL", sim.base_url)
    monkeypatch.setenv("OPSTUI_TOKEN", TOKEN)
    monkeypatch.setenv("OPSTUI_AUDIT_LOG", str(audit_path))
    other = next(p for p in sim.world.pipeline_ids() if p != target.id)
    assert await asyncio.to_thread(main, ["run", other, "--force"]) in (0, 1)
    capsys.readouterr()
    lines = [json.loads(line) for line in audit_path.read_text().splitlines()]
    from_cli = lines[-1]

    assert set(from_app) == set(from_cli)
    assert (from_app["source"], from_cli["source"]) == ("tui", "cli")
    assert from_app["profile"] == "sim" and from_app["base_url"] == sim.base_url
    assert from_cli["base_url"] == sim.base_url
    assert from_app["action"] == "approve" and from_app["outcomes"][0]["ok"] is True
    assert TOKEN not in audit_path.read_text()
