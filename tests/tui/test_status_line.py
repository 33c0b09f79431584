"""The status line's layout: the live state flush right and whole, the server and counts cut
first (what the Rich grid it replaced did wherever both sides fit)."""

from __future__ import annotations

import pytest
from rich.text import Text

from opstui.tui.widgets.status_bar import GAP, status_line

RIGHT = "updated 3s ago"


@pytest.mark.parametrize("width", [len(RIGHT) + GAP + 1, 30, 60, 80])
def test_the_live_state_is_flush_right_and_whole_at_every_width(width: int) -> None:
    left = Text("prod · 2 awaiting approval · 5 running · 1 failed")
    line = status_line(left, Text(RIGHT), width)
    assert line.cell_len == width
    assert line.plain.endswith(RIGHT)
    head = line.plain[: width - len(RIGHT)]
    assert head.endswith(" " * GAP)
    shown = head.rstrip()
    assert left.plain.startswith(shown.rstrip("…"))
    assert shown.endswith("…") == (len(left.plain) > width - len(RIGHT) - GAP)


def test_the_left_side_keeps_its_styles_when_cut() -> None:
    left = Text("prod", style="bold") + Text(" · 2 awaiting approval", style="yellow")
    line = status_line(left, Text(RIGHT, style="dim"), 26)
    assert line.plain == "prod · 2 …  " + RIGHT
    styles = {str(span.style) for span in line.spans}
    assert {"bold", "yellow", "dim"} <= styles


def test_a_right_side_as_wide_as_the_line_or_wider_is_shown_alone() -> None:
    assert status_line(Text("prod"), Text(RIGHT), 8).plain == "updated…"
    assert status_line(Text("prod"), Text(RIGHT), len(RIGHT)).plain == RIGHT
    assert status_line(Text("prod"), Text(RIGHT), len(RIGHT) + 1).plain == " " + RIGHT
