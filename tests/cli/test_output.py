"""The writer's small pieces: inert text, cut cells, tables that fit, colour only when wanted."""

from __future__ import annotations

import pytest

from opstui.cli.output import Output, cell_width, clean, duration, fit, render_table


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("evil\x1b[2J[bold]x", "evil [2J[bold]x"),
        ("bell\x07 and \x9b31m C1", "bell and 31m C1"),
        ("two\nlines\r\n", "two lines"),
        ("right\u202eto-left", "right to-left"),
        (None, ""),
    ],
)
def test_clean_leaves_nothing_a_terminal_would_obey(raw: object, shown: str) -> None:
    assert clean(raw) == shown


def test_fit_counts_terminal_cells() -> None:
    assert fit("short", 10) == "short"
    assert fit("payments-api-deploy", 10) == "payments-…"
    assert cell_width(fit("配置管理パイプライン", 9)) <= 9
    assert fit("配置管理", 8) == "配置管理"


def test_tables_cut_only_the_flexible_columns() -> None:
    rows = [("5fd56d90979ee048ee660624", "running", "x" * 70)]
    lines = render_table(("ID", "STATUS", "NAME"), rows, width=80, flexible=(2,))
    assert all(cell_width(line) <= 80 for line in lines)
    assert "5fd56d90979ee048ee660624" in lines[1]
    assert lines[1].endswith("…")


def test_durations() -> None:
    assert [duration(s) for s in (-3, 42, 723, 7800, 2 * 86400 + 3600)] == [
        "0s",
        "42s",
        "12m 03s",
        "2h 10m",
        "2d 1h",
    ]


def test_colour_only_when_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Output(color=True).status("failed  ") == "\x1b[1;31mfailed\x1b[0m  "
    assert Output(color=False).status("failed") == "failed"
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert Output().color is False  # the tests' stdout is not a terminal


def test_secrets_are_never_written(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output()
    out.hide("s3cr3t-token-value")
    out.line("token=s3cr3t-token-value")
    out.error("bad s3cr3t-token-value")
    captured = capsys.readouterr()
    assert captured.out == "token=***\n"
    assert captured.err == "opstui: error: bad ***\n"
