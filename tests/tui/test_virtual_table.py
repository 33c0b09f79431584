"""VirtualTable: layout, cursor by key, scroll, the cost model, row states, untrusted text.

A small app of its own (no simulator: the widget never talks to a server) with a fixed ``now``,
so relative times and snapshots are the same on every run. The renderer counts its calls: that
count, not a time, is how the tests check that work goes by rows on screen, not rows in all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.text import Text
from textual.app import App, ComposeResult
from textual.message import Message
from textual.pilot import Pilot

from opstui.tui.format import relative
from opstui.tui.widgets.vtable import (
    Cell,
    Column,
    RowState,
    VirtualTable,
    fit_cell,
    layout_columns,
)
from opstui.tui.widgets.vtable.keys import KeyedOrder

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

UNSAFE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""What must never reach the terminal from a cell (as opstui.api.text.safe_text says)."""


@dataclass(frozen=True)
class Job:
    """A row as the app keeps it (the table holds only a reference)."""

    id: str
    name: str
    state: str
    runs: int
    last: datetime | None
    owner: str


COLUMNS: tuple[Column, ...] = (
    Column("mark", "", 1),
    Column("state", "State", 8),
    Column("name", "Name", 16, comfort=24, weight=3, most=48),
    Column("runs", "Runs", 6, justify="right", gives_way=3),
    Column("last", "Last run", 8, gives_way=2),
    Column("owner", "Owner", 10, weight=1, most=24, gives_way=1, extra=True),
)

STATE_STYLE = {"failed": "bold red", "running": "bold cyan", "success": "green"}
STATES = ("success", "running", "failed", "idle")


def make_jobs(count: int) -> dict[str, Job]:
    """``count`` jobs, ids ``j00000``..., in id order."""
    return {
        f"j{index:05d}": Job(
            id=f"j{index:05d}",
            name=f"service-{index:05d}-deploy",
            state=STATES[index % len(STATES)],
            runs=index * 7 % 1000,
            last=None if index % 11 == 0 else NOW - timedelta(minutes=index % 600),
            owner=f"team-{index % 13}",
        )
        for index in range(count)
    }


class TableApp(App[None]):
    """One VirtualTable over ``jobs``; marks and highlights kept by the app, as screens do."""

    def __init__(self, jobs: dict[str, Job], order: Sequence[str] | None = None) -> None:
        super().__init__()
        self.jobs = jobs
        self.order = list(jobs) if order is None else order
        self.marked: set[str] = set()
        self.changed: set[str] = set()
        self.renders = 0
        self.clock = NOW

    def compose(self) -> ComposeResult:
        yield VirtualTable(
            COLUMNS,
            self.render_job,
            rows=self.jobs,
            order=self.order,
            row_state=self.state_of,
            now=lambda: self.clock,
            id="jobs",
        )

    @property
    def table(self) -> VirtualTable[Job]:
        return self.query_one(VirtualTable)

    def state_of(self, key: str) -> RowState:
        state = RowState.NONE
        if key in self.marked:
            state |= RowState.MARKED
        if key in self.changed:
            state |= RowState.CHANGED
        return state

    def render_job(self, job: Job, state: RowState, now: datetime) -> list[Cell]:
        self.renders += 1
        return [
            "●" if state & RowState.MARKED else " ",
            Text(job.state, style=STATE_STYLE.get(job.state, "")),
            job.name,
            Text(f"#{job.runs}"),
            relative(job.last, now),
            job.owner,
        ]


class Recorder:
    """A ``message_hook`` that keeps each message of one type once (a message is seen by every
    node it bubbles through)."""

    def __init__(self, kind: type[Message]) -> None:
        self.kind = kind
        self.messages: list[Any] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, self.kind) and all(m is not message for m in self.messages):
            self.messages.append(message)

    @property
    def keys(self) -> list[str | None]:
        return [message.key for message in self.messages]


def lines(table: VirtualTable[Any]) -> list[str]:
    """What the table shows, line by line."""
    return [table.render_line(y).text for y in range(table.size.height)]


def line_of(table: VirtualTable[Any], key: str) -> int:
    """The line of the view that shows ``key`` (the header is line 0)."""
    return table.row_keys.index(key) - table.scroll_offset.y + 1


# -- layout -------------------------------------------------------------------------------

PIPELINES = (
    Column("mark", "", 1),
    Column("state", "State", 17),
    Column("name", "Name", 20, comfort=28, weight=4, most=48),
    Column("step", "Step", 14, comfort=22, weight=1, most=32, gives_way=6),
    Column("run", "Run", 5, justify="right", gives_way=5),
    Column("last", "Last run", 8, gives_way=4),
    Column("owner", "Owner", 14, weight=1, most=18, gives_way=3, extra=True),
    Column("tags", "Tags", 16, weight=2, most=40, gives_way=2, extra=True),
    Column("type", "Type", 6, most=10, weight=1, gives_way=1, extra=True),
)
INBOX = (
    Column("mark", "", 1),
    Column("waited", "Waiting", 7),
    Column("name", "Pipeline", 16, comfort=22, weight=3, most=40),
    Column("gate", "Gate", 12, comfort=16, weight=2, most=32, gives_way=5),
    Column("run", "Run", 4, justify="right", gives_way=4),
    Column("message", "Message", 12, comfort=16, weight=5, gives_way=3),
    Column("approvers", "Approvers", 14, weight=2, most=48, gives_way=2, extra=True),
    Column("owner", "Owner", 10, weight=1, most=20, gives_way=1, extra=True),
)
TASKS = (
    Column("mark", "", 1),
    Column("state", "State", 7),
    Column("name", "Name", 12, comfort=20, weight=3),
    Column("type", "Type", 8, weight=1, most=24, gives_way=2),
    Column("runs", "Runs", 4, justify="right", gives_way=3),
    Column("last", "Last run", 8, gives_way=4),
    Column("owner", "Owner", 8, weight=1, most=20, gives_way=1, extra=True),
)


def keys(layout: Sequence[tuple[Column, int]]) -> list[str]:
    return [column.key for column, _ in layout]


def used(layout: Sequence[tuple[Column, int]], padding: int = 1) -> int:
    return sum(width + 2 * padding for _, width in layout)


@pytest.mark.parametrize(
    ("columns", "at_80", "at_120"),
    [
        pytest.param(
            PIPELINES,
            ["mark", "state", "name", "step", "run", "last"],
            ["mark", "state", "name", "step", "run", "last", "owner"],
            id="pipelines",
        ),
        pytest.param(
            INBOX,
            ["mark", "waited", "name", "gate", "run", "message"],
            ["mark", "waited", "name", "gate", "run", "message", "approvers", "owner"],
            id="inbox",
        ),
        pytest.param(TASKS, [c.key for c in TASKS], [c.key for c in TASKS], id="tasks"),
    ],
)
def test_one_rule_lays_out_every_view(
    columns: tuple[Column, ...], at_80: list[str], at_120: list[str]
) -> None:
    # 79: the width of an 80-column terminal less the scrollbar gutter.
    everything = [column.key for column in columns]
    for width, expected in ((79, at_80), (119, at_120), (199, everything)):
        layout = layout_columns(columns, width)
        assert keys(layout) == expected
        if width < 199:
            assert used(layout) == width, "the width left over goes to the columns that grow"
        assert used(layout) <= width
        for column, cells in layout:
            assert cells >= column.width
            assert not column.most or cells <= max(column.most, column.comfortable)


def test_narrow_widths_drop_extras_first_then_by_gives_way() -> None:
    # Extras go as soon as the others cannot have their comfort: owner, then tags, then type...
    assert keys(layout_columns(PIPELINES, 100)) == [
        "mark",
        "state",
        "name",
        "step",
        "run",
        "last",
    ]
    # ...then, below the least widths, last run, run number and step, in that order.
    assert keys(layout_columns(PIPELINES, 70)) == ["mark", "state", "name", "step", "run"]
    assert keys(layout_columns(PIPELINES, 64)) == ["mark", "state", "name", "step"]
    assert keys(layout_columns(PIPELINES, 50)) == ["mark", "state", "name"]
    # Columns that never give way stay even when they do not fit (the line is cut).
    tiny = layout_columns(PIPELINES, 20)
    assert keys(tiny) == ["mark", "state", "name"]
    assert [cells for _, cells in tiny] == [1, 17, 20]
    # The inbox keeps waiting and pipeline; the message goes before the run number.
    assert keys(layout_columns(INBOX, 60)) == ["mark", "waited", "name", "gate", "run"]
    assert keys(layout_columns(INBOX, 45)) == ["mark", "waited", "name", "gate"]


def test_a_column_grows_by_weight_up_to_its_most() -> None:
    layout = dict((c.key, w) for c, w in layout_columns(PIPELINES, 300))
    assert layout["name"] == 48
    assert layout["step"] == 32
    assert layout["type"] == 10
    assert layout["state"] == 17, "a column without weight keeps its width"


async def test_lines_fill_the_width_with_numbers_on_the_right() -> None:
    app = TableApp(make_jobs(30))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.table
        assert table.shown_columns == ["mark", "state", "name", "runs", "last", "owner"]
        layout = dict((c.key, w) for c, w in table.column_layout)
        shown = lines(table)
        assert all(len(line) == 79 for line in shown)
        # Runs is right-aligned: "#7" ends where its column ends, under the end of "Runs".
        runs_end = 3 + (layout["state"] + 2) + (layout["name"] + 2) + 1 + layout["runs"]
        assert shown[0][runs_end - 4 : runs_end] == "Runs"
        assert shown[2][runs_end - 2 : runs_end] == "#7"
    app = TableApp(make_jobs(30))
    async with app.run_test(size=(46, 12)) as pilot:
        await pilot.pause()
        assert app.table.shown_columns == ["mark", "state", "name", "runs"]


# -- cells: untrusted text, wide characters -----------------------------------------------


def test_cells_are_cut_by_terminal_cells_with_an_ellipsis() -> None:
    assert fit_cell("deploy-service", 8).plain == "deploy-…"
    assert fit_cell("abc", 6, "right").plain == "   abc"
    assert fit_cell("abc", 6).plain == "abc   "
    # A wide character is never split: it leaves a blank before the ellipsis instead.
    assert fit_cell("日本語", 4).plain == "日 …"
    assert fit_cell("日本語", 6).plain == "日本語"
    assert fit_cell("日本語", 5).plain == "日本…"
    assert fit_cell("\uff41\uff42\uff43", 1).plain == "…"


def test_untrusted_cells_are_plain_and_clean() -> None:
    assert fit_cell("[bold red]boom[/]", 20).plain == "[bold red]boom[/]   "
    assert fit_cell("[bold red]boom[/]", 20).spans == []
    assert fit_cell("a\x1b[31mred\x07", 10).plain == "a\ufffd[31mred\ufffd"
    assert fit_cell("two\nlines", 10).plain == "two\ufffdlines "
    rich = Text("ok\x1b]0;title", style="green")
    before = rich.plain
    fitted = fit_cell(rich, 14)
    assert fitted.plain == "ok\ufffd]0;title   "
    assert fitted.style == "green"
    assert rich.plain == before, "the caller's Text is not changed"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60), width=st.integers(min_value=1, max_value=40))
def test_every_cell_is_exactly_its_width(text: str, width: int) -> None:
    fitted = fit_cell(text, width).plain
    assert cell_len(fitted) == width
    assert not any(unicodedata.category(char) in UNSAFE for char in fitted)


# -- rendering ----------------------------------------------------------------------------


def showcase() -> TableApp:
    """Forty jobs with markup, escapes and wide characters in them, two marked, one changed."""
    jobs = make_jobs(40)
    jobs["j00002"] = replace(jobs["j00002"], name="[bold red]not markup[/] \x1b[31m")
    jobs["j00003"] = replace(jobs["j00003"], name="デプロイ・パイプライン本番環境")
    jobs["j00004"] = replace(jobs["j00004"], owner="an-owner-with-a-very-long-name")
    app = TableApp(jobs)
    app.marked = {"j00001", "j00003"}
    app.changed = {"j00005"}
    return app


async def cursor_on_third_row(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, TableApp)
    app.table.set_sort_indicator("name", "▲")
    await pilot.press("down", "down")
    await pilot.pause()


@pytest.mark.parametrize(
    "size", [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
)
def test_snapshot(size: tuple[int, int], snap_compare: Any) -> None:
    assert snap_compare(showcase(), terminal_size=size, run_before=cursor_on_third_row)


async def test_markup_and_escapes_in_data_are_shown_literally() -> None:
    app = showcase()
    async with app.run_test(size=(120, 20)) as pilot:
        await pilot.pause()
        table = app.table
        strip = table.render_line(line_of(table, "j00002"))
        assert "[bold red]not markup[/] \ufffd[31m" in strip.text
        assert all("\x1b" not in segment.text for segment in strip)
        name = next(s for s in strip if "not markup" in s.text)
        assert name.style is not None and not name.style.bold
        assert "デプロイ・パイプライン本番環境" in table.render_line(line_of(table, "j00003")).text


async def test_header_shows_the_sort_indicator_given() -> None:
    app = TableApp(make_jobs(5))
    async with app.run_test(size=(80, 10)) as pilot:
        await pilot.pause()
        app.table.set_sort_indicator("runs", "v")
        await pilot.pause()
        assert "Runs v" in app.table.render_line(0).text
        app.table.set_sort_indicator(None)
        assert "Runs v" not in app.table.render_line(0).text


async def test_marks_highlight_and_cursor_use_the_component_styles() -> None:
    app = TableApp(make_jobs(20))
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        table = app.table
        app.marked = {"j00003"}
        app.changed = {"j00005"}
        table.refresh_keys({"j00003", "j00005"})
        await pilot.pause()

        def name_style(key: str) -> Any:
            strip = table.render_line(line_of(table, key))
            return next(s.style for s in strip if "service" in s.text)

        changed = table.get_component_rich_style("virtual-table--changed")
        cursor = table.get_component_rich_style("virtual-table--cursor")
        assert name_style("j00003").bold
        assert table.render_line(line_of(table, "j00003")).text.startswith(" ●")
        assert name_style("j00005").bgcolor == changed.bgcolor
        assert name_style("j00005").bold
        assert name_style("j00000").bgcolor == cursor.bgcolor
        plain = name_style("j00007")
        assert not plain.bold and plain.bgcolor not in (changed.bgcolor, cursor.bgcolor)
        # The highlight ends: the row looks like any other again.
        app.changed = set()
        table.refresh_keys({"j00005"})
        assert name_style("j00005") == plain


async def test_no_color_keeps_the_cursor_and_highlight_visible(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = TableApp(make_jobs(20))
    app.changed = {"j00004"}
    async with app.run_test(size=(80, 12)) as pilot:
        await pilot.pause()
        table = app.table
        cursor = next(s.style for s in table.render_line(1) if "service" in s.text)
        assert cursor is not None and cursor.reverse
        changed = next(s.style for s in table.render_line(5) if "service" in s.text)
        assert changed is not None and changed.underline and changed.bold


# -- cursor and scroll --------------------------------------------------------------------


async def test_cursor_keeps_its_key_across_a_reorder_and_a_removal() -> None:
    app = TableApp(make_jobs(100))
    moves = Recorder(VirtualTable.CursorMoved)
    async with app.run_test(size=(80, 24), message_hook=moves) as pilot:
        await pilot.pause()
        table = app.table
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert table.cursor_key == "j00003"
        moves.messages.clear()

        table.apply(order=list(reversed(list(app.jobs))))
        assert table.cursor_key == "j00003"
        assert table.cursor_row == 96
        await pilot.pause()
        assert moves.keys == [], "the same row under the cursor: nothing to announce"
        assert table.scroll_offset.y <= 96 < table.scroll_offset.y + 23, "still on screen"

        # Its row leaves: the cursor goes to the row that took its place (the one below).
        del app.jobs["j00003"]
        table.apply(removed=["j00003"])
        assert table.cursor_key == "j00002"
        # The last row leaves while under the cursor: the one above takes it.
        table.move_cursor(row=table.row_count - 1)
        assert table.cursor_key == "j00000"
        table.apply(order=[key for key in table.row_keys if key != "j00000"])
        assert table.cursor_key == "j00001"
        await pilot.pause()
        # Two moves in a row collapse into the newest (``can_replace``).
        assert moves.keys[-1] == "j00001"
        assert "j00003" not in moves.keys


async def test_a_cursor_never_placed_stays_on_the_first_row_as_rows_land() -> None:
    """A first load lands page by page: the row the cursor started on sorts further down each
    time. Until a key puts it somewhere, the cursor stays on the first row (and the view on
    the top); from then on it is kept by key."""
    jobs = make_jobs(300)
    app = TableApp(jobs, order=[key for key in jobs if int(key[1:]) % 3 == 2])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.table
        assert table.cursor_key == "j00002"
        table.apply(changed=jobs, order=[key for key in jobs if int(key[1:]) % 3 != 0])
        assert (table.cursor_row, table.cursor_key) == (0, "j00001")
        table.apply(changed=jobs, order=list(jobs))
        await pilot.pause()
        assert (table.cursor_row, table.cursor_key, table.scroll_offset.y) == (0, "j00000", 0)
        assert "service-00000-" in lines(table)[1], "the first row is on the first line"

        await pilot.press("down")
        assert table.cursor_key == "j00001"
        table.apply(order=list(reversed(list(jobs))))
        assert (table.cursor_row, table.cursor_key) == (298, "j00001"), "placed: kept by key"


async def test_cursor_goes_to_the_nearest_neighbour_left_by_a_filter() -> None:
    app = TableApp(make_jobs(100))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.table
        assert table.move_cursor(key="j00050")
        # A filter keeps every tenth row: 50 itself stays, so the cursor does not move.
        table.set_order([key for key in app.jobs if int(key[1:]) % 10 == 0])
        assert table.cursor_key == "j00050"
        # A filter without 50 nor 60: its nearest neighbour in the old order is 40.
        table.set_order([key for key in table.row_keys if key not in ("j00050", "j00060")])
        assert table.cursor_key == "j00040"
        # Nothing shown, then something again: no cursor, then the first row.
        table.set_order([])
        assert (table.cursor_key, table.cursor_row) == (None, -1)
        table.set_order(list(app.jobs))
        assert (table.cursor_key, table.cursor_row) == ("j00000", 0)
        assert not table.move_cursor(key="nope")


async def test_scroll_is_kept_across_an_update() -> None:
    app = TableApp(make_jobs(1000))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.table
        assert table.move_cursor(key="j00500")
        await pilot.pause()
        top = table.scroll_offset.y
        assert top == 500 - 22, "scrolled as little as it takes: the cursor on the last line"
        assert table.move_cursor(row=490)
        assert table.scroll_offset.y == top
        first_line = table.render_line(1).text

        # Rows change (the ones on screen too) and three new ones sort above the view.
        changed = [f"j{index:05d}" for index in range(495, 505)]
        for key in changed:
            app.jobs[key] = replace(app.jobs[key], state="failed")
        new = {f"a{index}": replace(app.jobs["j00001"], id=f"a{index}") for index in range(3)}
        app.jobs.update(new)
        table.apply(changed=[*changed, *new], order=[*new, *(k for k in app.jobs if k[0] == "j")])
        await pilot.pause()
        assert table.scroll_offset.y == top, "the view did not move"
        assert (table.cursor_key, table.cursor_row) == ("j00490", 493)
        assert table.render_line(1).text != first_line, "rows slid down by the three new ones"

        # An update without a new order repaints what changed and nothing moves.
        table.apply(changed=["j00500"])
        await pilot.pause()
        assert table.scroll_offset.y == top
        # A cursor pushed off the bottom line by rows above it: the view follows, minimally.
        assert table.move_cursor(row=top + 22)
        app.jobs["a9"] = replace(app.jobs["a0"], id="a9")
        table.apply(changed=["a9"], order=["a9", *table.row_keys])
        assert table.scroll_offset.y == top + 1
        assert table.scroll_to_key("j00000")
        assert table.scroll_offset.y == 4
        assert table.cursor_row == top + 23, "scrolling does not move the cursor"


async def test_keys_move_the_cursor_and_enter_selects() -> None:
    app = TableApp(make_jobs(100))
    selected = Recorder(VirtualTable.Selected)
    async with app.run_test(size=(80, 24), message_hook=selected) as pilot:
        await pilot.pause()
        table = app.table
        await pilot.press("pagedown")
        assert table.cursor_row == 23
        await pilot.press("pageup", "end")
        assert table.cursor_key == "j00099"
        assert table.scroll_offset.y == table.max_scroll_y
        await pilot.press("home", "down", "enter")
        await pilot.pause()
        assert selected.keys == ["j00001"]


async def test_a_click_moves_the_cursor_and_a_second_click_selects() -> None:
    app = TableApp(make_jobs(100))
    selected = Recorder(VirtualTable.Selected)
    async with app.run_test(size=(80, 24), message_hook=selected) as pilot:
        await pilot.pause()
        await pilot.click(VirtualTable, offset=(10, 4))
        await pilot.pause()
        assert app.table.cursor_key == "j00003"
        assert selected.keys == []
        await pilot.click(VirtualTable, offset=(10, 4))
        await pilot.pause()
        assert selected.keys == ["j00003"]
        await pilot.click(VirtualTable, offset=(10, 0))
        assert app.table.cursor_key == "j00003", "a click on the header moves nothing"


@settings(max_examples=300, deadline=None)
@given(
    old=st.lists(st.integers(0, 30), unique=True, min_size=1),
    new=st.lists(st.integers(0, 30), unique=True),
    cursor=st.integers(0, 30),
)
def test_the_cursor_stays_on_its_key_or_goes_to_its_nearest_neighbour(
    old: list[int], new: list[int], cursor: int
) -> None:
    order = KeyedOrder([str(key) for key in old])
    order.move(cursor)
    place, key = order.index, order.key
    order.reorder([str(key) for key in new])
    if not new:
        assert (order.index, order.key) == (-1, None)
    elif key in order.keys:
        assert order.key == key, "kept by key"
        assert order.keys[order.index] == key
    else:
        # The nearest row of the old order that is still shown (below first, then above).
        kept = [(abs(index - place), index < place) for index, k in enumerate(old) if k in new]
        if kept:
            distance, above = min(kept)
            expected = str(old[place - distance if above else place + distance])
            assert order.key == expected
        else:
            assert order.index == min(place, len(new) - 1), "no old row left: the same place"


# -- cost model ---------------------------------------------------------------------------


async def test_work_goes_by_rows_on_screen_not_by_rows_in_all() -> None:
    app = TableApp(make_jobs(10_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.table
        on_screen = 29
        assert app.renders == on_screen, "mounting 10,000 rows renders the rows on screen"

        def count() -> int:
            renders, app.renders = app.renders, 0
            return renders

        count()
        key = table.row_keys[5]
        app.jobs[key] = replace(app.jobs[key], state="failed")
        table.apply(changed=[key])
        await pilot.pause()
        assert count() == 1, "one row of 10,000 changed: one row rendered"
        assert table.render_line(6).text.split()[0] == "failed"

        far = table.row_keys[9000]
        app.jobs[far] = replace(app.jobs[far], state="failed")
        table.apply(changed=[far])
        await pilot.pause()
        assert count() == 0, "a row off screen is rendered when it is scrolled to"

        await pilot.press("down")
        assert count() == 2, "a cursor move renders the row it left and the row it reached"

        order = list(table.row_keys)
        order[3], order[10] = order[10], order[3]
        table.apply(order=order)
        await pilot.pause()
        assert count() == 0, "rows that only moved are not rendered again"

        app.marked = set(app.jobs)
        table.refresh()
        await pilot.pause()
        assert count() == on_screen, "marking all 10,000 renders the rows on screen"

        app.clock = NOW + timedelta(minutes=5)
        table.retime()
        await pilot.pause()
        assert count() == on_screen, "retiming renders the rows on screen"
        assert table.now == app.clock

        await pilot.press("end")
        assert count() == on_screen
        await pilot.press("home")
        assert count() <= on_screen
