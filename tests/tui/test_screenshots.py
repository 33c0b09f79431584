"""The README's screenshots are what the app shows today (``make screenshots`` regenerates them)."""

from __future__ import annotations

from pathlib import Path

from tools.screenshots import write_screenshots

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


async def test_screenshots_are_current(tmp_path: Path) -> None:
    written = await write_screenshots(tmp_path)
    assert sorted(p.name for p in written) == ["details.svg", "main.svg", "reject.svg"]
    for path in written:
        committed = SCREENSHOTS / path.name
        assert committed.exists(), f"screenshots/{path.name} is missing: run make screenshots"
        assert path.read_text() == committed.read_text(), (
            f"screenshots/{path.name} is stale: run make screenshots and look at the result"
        )
        assert "Traceback" not in committed.read_text()
