"""The on-call approvals inbox: only the gates, longest waiting first, approved in three keys.

Against the seeded simulator (``World(seed=7, pipelines=40)``: eight gates wait) with a manual
clock, so every "waiting" time is the same on every run. Each action test asserts on what reached
the server (``sim.requests``).
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from opstui.api import OpseraClient, Pipeline, PipelineStatus, RetryPolicy, Step
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.tui.app import OpstuiApp
from opstui.tui.dialogs import ConfirmDialog, HelpScreen, RejectDialog
from opstui.tui.format import duration
from opstui.tui.screens.approvals import NOTHING_WAITS, ApprovalsScreen, InboxBar
from opstui.tui.screens.pipelines import PipelinesScreen
from opstui.tui.widgets.approvals_table import (
    INBOX_COLUMNS,
    ApprovalsTable,
    gate_approvers,
    gate_message,
    gate_row,
    gates_in_order,
)
from opstui.tui.widgets.gate_preview import GatePreview, preview_text
from opstui.tui.widgets.vtable import layout_columns
from tests.conftest import TOKEN
from tests.tui.conftest import MakeApp, action_bodies, notes, refresh, row_cells, settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]


def body(action: str, ids: list[str], **extra: object) -> dict[str, object]:
    """The exact body the contract says an action request carries."""
    return {"action": action, "type": "pipeline", "version": 1, "target": ids, **extra}


def inbox_of(app: OpstuiApp) -> ApprovalsScreen:
    """The approvals inbox, which must be the screen shown."""
    screen = app.screen
    assert isinstance(screen, ApprovalsScreen), f"{screen!r} is shown, not the inbox"
    return screen


def table_of(app: OpstuiApp) -> ApprovalsTable:
    """The inbox table."""
    return inbox_of(app).table


def cells(app: OpstuiApp, pipeline_id: str) -> dict[str, str]:
    """The plain text of each cell of one row, by column key."""
    table = table_of(app)
    row = row_cells(table, pipeline_id)
    return {key: cell.plain for key, cell in zip(table.shown_columns, row, strict=True)}


async def waiting_by_client(sim: SimServer) -> list[Pipeline]:
    """The gates as an independent client sees them, longest waiting first (by waiting_since)."""
    async with OpseraClient(sim.base_url, TOKEN) as client:
        pipelines = await client.list_pipelines()
    gates = [p for p in pipelines if p.status is PipelineStatus.AWAITING_APPROVAL]
    assert all(p.waiting_since is not None for p in gates)
    return sorted(gates, key=lambda p: (p.waiting_since, p.name))


# -- what it shows ------------------------------------------------------------------------------


async def test_opens_on_the_inbox_longest_waiting_first(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert [type(s) for s in app.screen_stack] == [PipelinesScreen, ApprovalsScreen]
        expected = await waiting_by_client(sim)
        assert len(expected) == 8
        table = table_of(app)
        assert table.row_keys == [p.id for p in expected]
        assert table.cursor_row == 0 and table.cursor_key == expected[0].id
        assert table.shown_columns == [
            "mark",
            "waited",
            "name",
            "gate",
            "run",
            "message",
            "approvers",
            "owner",
        ]

        first = expected[0]
        assert first.gate is not None and first.waiting_since is not None
        assert cells(app, first.id) == {
            "mark": " ",
            "waited": duration((clock.now() - first.waiting_since).total_seconds()),
            "name": first.name,
            "gate": first.gate.name,
            "run": f"#{first.run_count}",
            "message": first.gate.configuration["message"],
            "approvers": ", ".join(first.gate.configuration["approvers"]),
            "owner": first.owner_name,
        }
        assert cells(app, first.id)["waited"] == "1h 44m"
        bar = inbox_of(app).query_one(InboxBar)
        assert bar.left_text.plain == "Awaiting approval · 8"
        preview = inbox_of(app).query_one(GatePreview)
        assert preview.display and preview.pipeline is not None
        assert preview.pipeline.id == first.id


async def test_a_gate_without_configuration_shows_empty_cells(make_app: MakeApp) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        bare = next(p for p in app.store.pipelines.values() if p.name == "admin-console-deploy")
        assert bare.gate is not None and bare.gate.configuration == {}
        row = cells(app, bare.id)
        assert row["message"] == "" and row["approvers"] == ""
        assert row["gate"] == "Approve production deploy"


def test_order_unknown_waits_last_ties_by_name(sim: SimServer) -> None:
    doc = next(
        d
        for d in sim.world.list_pipelines().items
        if Pipeline.model_validate(d).status is PipelineStatus.AWAITING_APPROVAL
    )

    def variant(name: str, updated: str | None) -> Pipeline:
        changed = copy.deepcopy(doc)
        changed["_id"] = f"id-{name}"
        changed["name"] = name
        changed["updatedAt"] = updated
        return Pipeline.model_validate(changed)

    early, late = "2026-11-27T07:00:00Z", "2026-11-27T08:00:00Z"
    pipelines = [
        variant("zeta", None),
        variant("beta", late),
        variant("Alpha", late),
        variant("omega", early),
        variant("alpha-unknown", None),
    ]
    not_waiting = Pipeline.model_validate({"_id": "idle", "name": "idle", "workflow": {}})
    ordered = gates_in_order([*pipelines, not_waiting])
    assert [p.name for p in ordered] == ["omega", "Alpha", "beta", "alpha-unknown", "zeta"]
    assert gate_row(ordered[-1], sim.world.now()).waited == "?"


@pytest.mark.parametrize(
    ("configuration", "message", "approvers"),
    [
        ({"message": "Ship it?", "approvers": ["ada@x", "alan@x"]}, "Ship it?", "ada@x, alan@x"),
        ({"message": "  two\nlines  ", "approvers": "ops-oncall"}, "two lines", "ops-oncall"),
        ({"message": 42, "approvers": ["ada@x", 7, {"id": 1}, None, " ", "b"]}, "", "ada@x, b"),
        ({"message": None, "approvers": {"group": "ops"}}, "", ""),
        ({"approvers": 3}, "", ""),
        (
            {"approvers": [{"email": "ada@x"}, {"name": "Alan", "email": "alan@x"}, {"id": 1}]},
            "",
            "ada@x, Alan",
        ),
        ({}, "", ""),
    ],
    ids=["list", "string", "mixed-list", "object", "number", "none", "people"],
)
def test_gate_configuration_is_read_tolerantly(
    configuration: dict[str, Any], message: str, approvers: str
) -> None:
    gate = Step("s1", "Approve", "approval", configuration=configuration)
    assert gate_message(gate) == message
    assert gate_approvers(gate) == approvers
    assert gate_message(None) == gate_approvers(None) == ""


def test_columns_give_way_owner_then_approvers() -> None:
    def keys(width: int) -> list[str]:
        return [column.key for column, _ in layout_columns(INBOX_COLUMNS, width)]

    assert keys(119) == ["mark", "waited", "name", "gate", "run", "message", "approvers", "owner"]
    assert keys(100) == ["mark", "waited", "name", "gate", "run", "message", "approvers"]
    assert keys(79) == ["mark", "waited", "name", "gate", "run", "message"]
    assert keys(50) == ["mark", "waited", "name", "gate", "run"]
    for width in (40, 50, 60, 79, 100, 119, 200):
        layout = layout_columns(INBOX_COLUMNS, width)
        assert sum(w + 2 for _, w in layout) <= width
        widths = dict((column.key, w) for column, w in layout)
        assert widths["name"] >= 16 and widths["waited"] == 7
    assert dict((c.key, w) for c, w in layout_columns(INBOX_COLUMNS, 79))["name"] == 22
    wide = dict((c.key, w) for c, w in layout_columns(INBOX_COLUMNS, 300))
    assert (wide["name"], wide["gate"], wide["owner"]) == (40, 32, 20)
    assert wide["message"] > 100  # what is left goes to what the gate says


async def test_server_text_is_shown_literally(make_app: MakeApp, sim: SimServer) -> None:
    """Markup and escapes in a name or a gate's configuration are never interpreted."""
    evil = "[b]x[/b]\x1b[2J[red]"
    created = sim.world.create_pipeline(
        {
            "name": evil,
            "owner_name": "[link=http://evil]me[/link]",
            "workflow": {
                "plan": [
                    {
                        "name": f"Gate {evil}",
                        "tool": {
                            "tool_identifier": "approval",
                            "configuration": {"message": f"Ok {evil}?", "approvers": [evil]},
                        },
                    },
                    {"name": "Deploy", "tool": {"tool_identifier": "command-line"}},
                ]
            },
        }
    )
    sim.world.run_pipelines([created["_id"]])
    app = make_app(start="approvals")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        shown = "[b]x[/b]\ufffd[2J[red]"
        row = cells(app, created["_id"])
        assert row["name"] == shown and row["gate"] == f"Gate {shown}"
        assert row["message"] == f"Ok {shown}?" and row["approvers"] == shown
        assert row["owner"] == "[link=http://evil]me[/link]"
        assert row["waited"] == "0s"  # it just reached its gate: the shortest wait, last
        assert table_of(app).row_keys[-1] == created["_id"]
        text = preview_text(app.store.pipelines[created["_id"]]).plain
        assert f"Asks: Ok {shown}?" in text and "\x1b" not in text
        screen_text = app.export_screenshot()
        assert "[b]x[/b]" in screen_text.replace("&#160;", " ")
        assert "\x1b" not in screen_text


async def test_approvers_given_as_people_show_in_the_row_and_the_preview(
    make_app: MakeApp, sim: SimServer
) -> None:
    """Objects naming a person (by email, or by name) are read as the details screen reads them."""
    people = [
        {"email": "ada@example.com"},
        {"name": "Alan Turing", "email": "alan@example.com"},
        {"role": "ops"},
        "grace@example.com",
    ]
    created = sim.world.create_pipeline(
        {
            "name": "people-gate",
            "workflow": {
                "plan": [
                    {
                        "name": "Sign off",
                        "tool": {
                            "tool_identifier": "approval",
                            "configuration": {"message": "Ship?", "approvers": people},
                        },
                    },
                    {"name": "Deploy", "tool": {"tool_identifier": "command-line"}},
                ]
            },
        }
    )
    sim.world.run_pipelines([created["_id"]])
    app = make_app(start="approvals")
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        shown = "ada@example.com, Alan Turing, grace@example.com"
        pipeline = app.store.pipelines[created["_id"]]
        assert pipeline.gate is not None and pipeline.gate.approvers == shown.split(", ")
        assert cells(app, created["_id"])["approvers"] == shown
        assert table_of(app).move_cursor(key=created["_id"])
        await pilot.pause()
        preview = inbox_of(app).query_one(GatePreview)
        assert preview.pipeline is not None and preview.pipeline.id == created["_id"]
        assert f"Approvers: {shown}" in preview_text(preview.pipeline).plain


# -- live ---------------------------------------------------------------------------------------


async def test_waiting_column_ages_with_the_clock(make_app: MakeApp, clock: ManualClock) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        ids = table.row_keys
        before = {pipeline_id: cells(app, pipeline_id) for pipeline_id in ids}
        assert before[ids[-1]]["waited"] == "5m 08s"

        clock.advance(95)
        for _ in range(100):  # the screen's one-second tick ages the column, with no refresh
            if cells(app, ids[-1])["waited"] != before[ids[-1]]["waited"]:
                break
            await pilot.pause(0.05)

        for pipeline_id in ids:
            since = app.store.pipelines[pipeline_id].waiting_since
            assert since is not None
            after = cells(app, pipeline_id)
            expected = duration((clock.now() - since).total_seconds())
            assert after["waited"] == expected
            assert {**after, "waited": ""} == {**before[pipeline_id], "waited": ""}
        assert cells(app, ids[-1])["waited"] == "6m 43s"


async def test_live_rows_leave_and_arrive_cursor_and_marks_stay(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen, table = inbox_of(app), table_of(app)
        ids = table.row_keys
        await pilot.press("down", "down", "space", "down")  # mark the 3rd, cursor on the 4th
        assert screen.marked == {ids[2]} and table.cursor_key == ids[3]

        sim.world.approve_pipelines([ids[0], ids[5]])  # out of band: someone else approved
        await refresh(pilot)
        assert table.row_keys == [ids[1], ids[2], ids[3], ids[4], ids[6], ids[7]]
        assert table.cursor_key == ids[3]
        assert screen.marked == {ids[2]}
        assert cells(app, ids[2])["mark"] == "●"

        before = table.row_keys
        clock.advance(60)  # runs go on: some reach a gate
        await refresh(pilot)
        new = [key for key in table.row_keys if key not in before]
        assert new, "a minute on, a new gate should wait"
        assert table.row_keys == [*before, *new]  # the newest waits are the shortest: at the end
        for key in new:
            since = app.store.pipelines[key].waiting_since
            assert since is not None
            assert cells(app, key)["waited"] == duration((clock.now() - since).total_seconds())
        assert table.cursor_key == ids[3] and screen.marked == {ids[2]}

        sim.world.approve_pipelines([ids[3]])  # the highlighted one leaves: the cursor stays put
        await refresh(pilot)
        assert ids[3] not in table.row_keys
        assert table.cursor_row == 2 and table.cursor_key == ids[4]


async def test_an_empty_inbox_says_so_and_explains_greyed_keys(
    make_app: MakeApp, sim: SimServer
) -> None:
    waiting = [p.id for p in await waiting_by_client(sim)]
    sim.world.approve_pipelines(waiting)
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = inbox_of(app)
        assert table_of(app).row_count == 0
        assert str(screen.query_one("#empty").render()) == NOTHING_WAITS
        assert not screen.query_one(GatePreview).display
        assert screen.check_action("approve", ()) is None
        assert screen.check_action("reject", ()) is None
        assert screen.active_bindings["a"].enabled is False
        sim.requests.clear()
        await pilot.press("a", "x")
        await settle(pilot)
        assert app.screen is screen  # no dialog
        assert notes(app) == [NOTHING_WAITS]
        assert action_bodies(sim) == []

        app.client.retry = RetryPolicy(attempts=1)
        sim.add_fault("GET", "/api/v2/pipelines", status=503, times=1)
        await refresh(pilot)
        empty = str(screen.query_one("#empty").render())
        assert empty.startswith("Nothing awaited approval at the last update (0s ago)")
        assert "stale" in empty and "503" in empty
        assert table_of(app).has_class("-stale")


# -- acting -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "index"),
    [(("a", "y"), 0), (("down", "a", "y"), 1)],
    ids=["longest-in-2", "second-in-3"],
)
async def test_three_keystrokes_at_most_from_start_to_approved_gate(
    make_app: MakeApp, sim: SimServer, keys: tuple[str, ...], index: int
) -> None:
    """``opstui --approvals``, then select, ``a``, ``y``: the gate is approved."""
    expected = (await waiting_by_client(sim))[index]
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sim.requests.clear()
        presses = 0
        for key in keys:
            await pilot.press(key)
            presses += 1
        await settle(pilot)
        assert presses <= 3
        assert action_bodies(sim) == [body("approve", [expected.id])]
        assert app.store.pipelines[expected.id].status is not PipelineStatus.AWAITING_APPROVAL
        assert expected.id not in table_of(app).row_keys
        assert f"Approved {expected.name}." in notes(app)


async def test_approve_there_sends_one_request_and_records_it(
    make_app: MakeApp, sim: SimServer, audit_path: Path
) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        await pilot.press("down", "down")
        target = app.store.pipelines[table.row_keys[2]]
        following = table.row_keys[3]
        sim.requests.clear()
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmDialog)
        assert [t.id for t in app.screen.targets] == [target.id]
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [body("approve", [target.id])]
        kinds = [
            r.body["action"]
            for r in sim.requests
            if r.path == "/api/v2/actions" and isinstance(r.body, dict)
        ]
        assert kinds == ["status", "approve", "status"]  # re-check, send, refresh the row
        assert table.row_count == 7 and target.id not in table.row_keys
        assert table.cursor_key == following  # the next gate is under the cursor
        (entry,) = [json.loads(line) for line in audit_path.read_text().splitlines()]
        assert entry["action"] == "approve" and entry["source"] == "tui"
        assert entry["targets"] == [{"id": target.id, "name": target.name}]


async def test_cancelled_approve_sends_nothing(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        sim.requests.clear()
        await pilot.press("a", "n")
        await settle(pilot)
        assert isinstance(app.screen, ApprovalsScreen)
        assert [r for r in sim.requests if r.method == "POST"] == []
        assert table_of(app).row_count == 8


async def test_reject_there_with_a_reason(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        target = app.store.pipelines[table_of(app).row_keys[0]]
        sim.requests.clear()
        await pilot.press("x")
        assert isinstance(app.screen, RejectDialog)
        await pilot.press("enter")  # no reason: refused
        assert isinstance(app.screen, RejectDialog)
        assert isinstance(app.focused, Input)
        await pilot.press(*"freeze", "enter")
        await settle(pilot)
        assert action_bodies(sim) == [body("reject", [target.id], message="freeze")]
        assert app.store.pipelines[target.id].status is PipelineStatus.FAILED
        assert target.id not in table_of(app).row_keys


async def test_batch_two_marked_one_request(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen, table = inbox_of(app), table_of(app)
        ids = table.row_keys
        await pilot.press("space", "down", "down", "space")
        assert screen.marked == {ids[0], ids[2]}
        assert screen.query_one(InboxBar).left_text.plain == "Awaiting approval · 8 · 2 marked"
        assert [cells(app, key)["mark"] for key in ids[:3]] == ["●", " ", "●"]
        sim.requests.clear()
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmDialog)
        assert {t.id for t in app.screen.targets} == {ids[0], ids[2]}
        await pilot.press("y")
        await settle(pilot)
        (sent,) = action_bodies(sim)
        assert sent == body("approve", sent["target"])
        assert sorted(sent["target"]) == sorted([ids[0], ids[2]])
        assert table.row_keys == [ids[1], *ids[3:]]
        assert screen.marked == set()

        await pilot.press("asterisk")  # mark every gate, then unmark them all
        assert screen.marked == set(table.row_keys)
        await pilot.press("u")
        assert screen.marked == set()


# -- getting around -----------------------------------------------------------------------------


async def test_A_switches_to_the_inbox_and_back_escape_too(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, PipelinesScreen)
        await pilot.press("A")
        assert table_of(app).row_count == 8
        await pilot.press("A")
        assert isinstance(app.screen, PipelinesScreen)
        await pilot.press("A", "down")
        assert table_of(app).cursor_row == 1
        await pilot.press("escape")
        assert isinstance(app.screen, PipelinesScreen)
        assert len(app.screen_stack) == 1


async def test_from_approvals_escape_lands_on_the_pipelines(make_app: MakeApp) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        screen = app.screen
        assert isinstance(screen, PipelinesScreen) and screen.quick == "awaiting"
        await pilot.press("escape")  # escape again: every pipeline
        assert (screen.quick, screen.table.row_count) == ("all", 40)
        await pilot.press("A")
        assert table_of(app).cursor_row == 0


async def test_help_lists_the_inbox_keys(make_app: MakeApp) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {key for _, rows in app.screen.sections for key, _ in rows}
        assert {"a", "x", "space", "u", "enter", "A, escape", "ctrl+r", "q"} <= keys
        await pilot.press("escape")
        assert isinstance(app.screen, ApprovalsScreen)


async def test_enter_opens_the_details_escape_comes_back(make_app: MakeApp) -> None:
    from opstui.tui.screens.details import DetailsScreen

    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = table_of(app).row_keys[0]
        await pilot.press("enter")
        assert isinstance(app.screen, DetailsScreen)
        await settle(pilot)
        await pilot.press("escape")
        assert table_of(app).cursor_key == first


async def test_palette_opens_the_inbox_and_acts_there(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p", *"inbox")
        await settle(pilot)  # the palette gathers its commands in a worker
        await pilot.press("enter")
        await settle(pilot)
        target = table_of(app).row_keys[0]
        sim.requests.clear()
        await pilot.press("ctrl+p", *"approve")
        await settle(pilot)  # the palette gathers its commands in a worker
        await pilot.press("enter")
        await pilot.pause()  # not settle: the action's worker waits for the dialog's answer
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert action_bodies(sim) == [body("approve", [target])]


# -- snapshots ----------------------------------------------------------------------------------


async def _inbox(pilot: Pilot[Any]) -> None:
    """The inbox loaded, the second gate highlighted and the fourth marked."""
    await settle(pilot)
    await pilot.press("down", "down", "down", "space", "up", "up")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_snapshot_inbox(size: tuple[int, int], make_app: MakeApp, snap_compare: Any) -> None:
    assert snap_compare(make_app(start="approvals"), terminal_size=size, run_before=_inbox)


def test_snapshot_empty_inbox(make_app: MakeApp, sim: SimServer, snap_compare: Any) -> None:
    for doc in sim.world.list_pipelines().items:
        if Pipeline.model_validate(doc).status is PipelineStatus.AWAITING_APPROVAL:
            sim.world.approve_pipelines([doc["_id"]])
    assert snap_compare(make_app(start="approvals"), terminal_size=(80, 24), run_before=settle)


def test_waited_since_is_relative_to_the_clock(sim: SimServer, clock: ManualClock) -> None:
    """A gate's wait is measured from the app's clock, never the wall clock."""
    doc = next(
        d
        for d in sim.world.list_pipelines().items
        if Pipeline.model_validate(d).status is PipelineStatus.AWAITING_APPROVAL
    )
    pipeline = Pipeline.model_validate(doc)
    assert pipeline.waiting_since is not None
    later = pipeline.waiting_since + timedelta(hours=2, minutes=5)
    row = gate_row(pipeline, later)
    assert (row.waited, row.long) == ("2h 05m", True)
    assert gate_row(pipeline, pipeline.waiting_since).waited == "0s"
