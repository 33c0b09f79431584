"""``AuditLog.tail(n)``: the log's last entries, read from the end (the one way both the app's
audit view and ``opstui audit --last`` read it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from opstui.audit import AuditError, AuditLog


def _line(number: int) -> str:
    return json.dumps(
        {
            "action": "run",
            "type": "pipeline",
            "targets": [{"id": f"p{number}", "name": f"pipeline-{number}"}],
            "time": f"2024-05-01T10:{number // 60 % 60:02d}:{number % 60:02d}+00:00",
        }
    )


def test_tail_gives_the_last_entries_oldest_first_skipping_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    lines = [_line(n) for n in range(1500)]
    lines.insert(1200, "not json {")
    lines.insert(1300, "[1, 2]")  # JSON, but not an entry
    path.write_text("\n".join(lines) + "\n")
    entries = AuditLog(path).tail(1000)
    # the last 1000 lines: two of them are not entries (skipped), the older ones never read
    assert len(entries) == 998
    assert entries[0]["targets"][0]["id"] == "p502"
    assert entries[-1]["targets"][0]["id"] == "p1499"
    assert [e["targets"][0]["id"] for e in AuditLog(path).tail(2)] == ["p1498", "p1499"]


def test_tail_of_a_short_a_missing_and_an_unterminated_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    assert AuditLog(path).tail(10) == []
    path.write_text(_line(1) + "\n" + _line(2))  # no newline after the last line
    assert [e["targets"][0]["id"] for e in AuditLog(path).tail(10)] == ["p1", "p2"]
    assert [e["targets"][0]["id"] for e in AuditLog(path).tail(1)] == ["p2"]
    assert AuditLog(path).tail(0) == []


def test_tail_reads_the_end_not_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.log"
    old = "\n".join(_line(n) for n in range(40_000))  # megabytes of years gone by
    path.write_text(old + "\n" + _line(99_999) + "\n")
    size = path.stat().st_size
    read: list[int] = []
    real_open = Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        if self != path:
            return handle
        real_read = handle.read

        def read_some(n: int = -1) -> bytes:
            data: bytes = real_read(n)
            read.append(len(data))
            return data

        handle.read = read_some
        return handle

    monkeypatch.setattr(Path, "open", counting_open)
    entries = AuditLog(path).tail(3)
    assert [e["targets"][0]["id"] for e in entries] == ["p39998", "p39999", "p99999"]
    assert 0 < sum(read) <= 64 * 1024 < size // 10


def test_an_unreadable_log_is_an_audit_error(tmp_path: Path) -> None:
    folder = tmp_path / "audit.log"
    folder.mkdir()  # a directory where the file should be
    with pytest.raises(AuditError, match="cannot read the audit log"):
        AuditLog(folder).tail(5)
