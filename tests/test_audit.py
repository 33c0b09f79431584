"""The audit log: whole lines, never interleaved between processes, and the same fields from
the app and the command line."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from opstui.audit import AuditEntry, AuditLog, AuditOutcome, AuditTarget, entry_time, public_url

WRITER = """
import sys
from pathlib import Path
from opstui.audit import AuditEntry, AuditLog, AuditTarget
log = AuditLog(Path(sys.argv[1]))
name, count = sys.argv[2], int(sys.argv[3])
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # both start together
for i in range(count):
    # long lines: each far past what a single small write could hide
    log.record(AuditEntry(action="run", type="pipeline", targets=[AuditTarget(f"{name}-{i}", name * 3000)],
                          server="s", source="cli", reason=name * 2000))
"""


def test_two_processes_writing_at_once_never_interleave_a_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    count = 300
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), name, str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.close()
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    lines = path.read_text().splitlines()
    assert len(lines) == 2 * count
    seen = set()
    for line in lines:
        entry = json.loads(line)  # a torn or interleaved line would not parse
        [target] = entry["targets"]
        name = target["id"].split("-")[0]
        assert target["name"] == name * 3000 and entry["reason"] == name * 2000
        seen.add(target["id"])
    assert len(seen) == 2 * count
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_old_constructor_still_works_and_new_fields_default(tmp_path: Path) -> None:
    entry = AuditEntry(
        action="approve",
        type="pipeline",
        targets=[AuditTarget("p1", "deploy")],
        server="prod (app.opsera.io)",
        source="tui",
        outcomes=[AuditOutcome("p1", True, "success", "approved")],
        reason=None,
        error=None,
        details={},
    )
    data = json.loads(entry.to_json())
    assert data["profile"] is None and data["base_url"] is None and data["message"] is None
    assert entry_time(data) is not None and entry_time(data).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    log = AuditLog(tmp_path / "x" / "audit.log")
    log.record(entry)
    assert [e["action"] for e in log.entries()] == ["approve"]


def test_a_password_in_the_base_url_is_never_written() -> None:
    entry = AuditEntry(
        action="run",
        type="pipeline",
        targets=[AuditTarget("p1")],
        server="prod",
        source="cli",
        profile="prod",
        base_url="https://ada:hunter2@opsera.example.com:8443/api?key=secret#x",
    )
    text = entry.to_json()
    assert "hunter2" not in text and "secret" not in text and "ada" not in text
    assert json.loads(text)["base_url"] == "https://opsera.example.com:8443/api"
    assert public_url("http://[::1]:8765") == "http://[::1]:8765"
    assert public_url(None) is None


def test_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text('{"action": "run"}\nnot json\n[1]\n{"action": "stop"}\n')
    assert [e["action"] for e in AuditLog(path).entries()] == ["run", "stop"]
