"""The app's core against the seeded simulator: the table, the live refresh, views and keys."""

from __future__ import annotations

import pytest

from opstui.api import PipelineStatus, RetryPolicy
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from opstui.tui.app import OpstuiApp
from opstui.tui.dialogs import HelpScreen
from opstui.tui.screens.pipelines import PipelinesScreen, sort_pipelines
from opstui.tui.store import LivePhase
from opstui.tui.widgets.approvals_table import ApprovalsTable
from opstui.tui.widgets.filter_bar import FilterInput
from opstui.tui.widgets.pipeline_table import PIPELINE_COLUMNS
from opstui.tui.widgets.status_bar import StatusBar
from opstui.tui.widgets.vtable import layout_columns
from tests.tui.conftest import (
    MakeApp,
    action_bodies,
    first_with,
    highlight,
    named,
    notes,
    refresh,
    row_cells,
    screen_of,
    settle,
    table_of,
    until,
)


def status_line(app: OpstuiApp) -> str:
    """What the status line says, as plain text."""
    bar = screen_of(app).query_one(StatusBar)
    return f"{bar.left_text.plain} | {bar.right_text.plain}"


def fast_reads(app: OpstuiApp) -> None:
    """No retries inside one poll (the poll itself retries), so faults map one to one."""
    app.client.retry = RetryPolicy(attempts=1)


async def test_first_refresh_fills_the_table_one_row_per_pipeline(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        ids = {doc["_id"] for doc in sim.world.list_pipelines().items}
        assert set(table.row_keys) == ids
        assert table.row_count == 40
        names = [app.store.pipelines[key].name for key in table.row_keys]
        assert names == sorted(names, key=str.casefold)  # sorted by name, A to Z
        assert status_line(app) == (
            "sim · 8 awaiting approval · 6 running · 6 failed · 2 paused | updated just now"
        )
        row = row_cells(table, table.row_keys[0])
        assert [cell.plain for cell in row][:3] == [
            " ",
            "awaiting approval",
            "admin-console-deploy",
        ]


async def test_columns_give_way_from_the_right_when_narrow(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert table_of(app).shown_columns == ["mark", "state", "name", "step", "run", "last"]
        await pilot.resize_terminal(160, 40)
        await pilot.pause()
        assert table_of(app).shown_columns[-3:] == ["owner", "tags", "type"]
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert table_of(app).shown_columns == ["mark", "state", "name"]
        assert table_of(app).row_count == 40


def test_layout_gives_the_name_the_spare_width() -> None:
    widths = dict((spec.key, width) for spec, width in layout_columns(PIPELINE_COLUMNS, 79))
    assert widths["name"] >= 20 and widths["step"] >= 14
    assert sum(width + 2 for width in widths.values()) <= 79
    wide = dict((spec.key, width) for spec, width in layout_columns(PIPELINE_COLUMNS, 200))
    assert set(wide) >= {"owner", "tags", "type"} and wide["name"] == 40


async def test_refresh_keeps_cursor_marks_and_updates_changed_rows(
    make_app: MakeApp, clock: ManualClock, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        await highlight(pilot, table.row_keys[5])
        await pilot.press("space", "down", "space", "down", "down")
        cursor = table.cursor_key
        marked = set(screen_of(app).marked)
        assert len(marked) == 2 and cursor is not None
        before = {key: p.status for key, p in app.store.pipelines.items()}
        scroll = table.scroll_y

        clock.advance(15 * 60)
        await refresh(pilot)

        after = {key: p.status for key, p in app.store.pipelines.items()}
        assert before != after, "fifteen minutes should move some runs along"
        assert table.cursor_key == cursor
        assert screen_of(app).marked == marked
        assert table.scroll_y == scroll
        for key, status in after.items():
            assert row_cells(table, key)[1].plain == status.value
        moved = {key for key in after if after[key] != before[key]}
        assert moved <= set(screen_of(app)._changed)  # highlighted for a moment


async def test_new_pipelines_appear_and_deleted_ones_go(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        gone, following = table.row_keys[3], table.row_keys[4]
        await highlight(pilot, gone)
        source = sim.world.get_pipeline(table.row_keys[0])
        assert source is not None
        source.pop("_id")
        source["name"] = "aaa-brand-new"
        sim.world.create_pipeline(source)
        sim.world.delete_pipelines([gone])

        await refresh(pilot)

        assert gone not in table.row_keys
        assert table.row_count == 40
        assert app.store.pipelines[table.row_keys[0]].name == "aaa-brand-new"
        # The cursor goes to the nearest neighbour that stayed, the one below first.
        assert table.cursor_key == following
        assert table.cursor_row == 4  # one row was added above


async def test_filter_as_you_type_enter_keeps_it_escape_clears_it(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        await pilot.press("slash")
        assert isinstance(app.focused, FilterInput)
        await pilot.press(*"pay")
        assert screen_of(app).filter_text == "pay", "keys typed in a burst: none lost"
        shown = [app.store.pipelines[key] for key in table.row_keys]
        assert 0 < len(shown) < 40
        assert all("pay" in pipeline.search_text for pipeline in shown)
        assert "payments-api-nightly" in {pipeline.name for pipeline in shown}
        await pilot.press("enter")
        assert app.focused is table
        assert len(table.row_keys) == len(shown)
        await pilot.press("escape")
        assert table.row_count == 40
        assert screen_of(app).filter_text == ""


async def test_filter_matches_owner_tags_and_id(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen, table = screen_of(app), table_of(app)
        some = named(app, "web-frontend-release")
        for query in ("ken thompson", "team:web", some.id[:12], "ada   prod"):
            await pilot.press("slash")
            app.query_one(FilterInput).value = query
            await pilot.press("enter")
            shown = [app.store.pipelines[key] for key in table.row_keys]
            assert shown, query
            for pipeline in shown:
                assert all(word in pipeline.search_text for word in query.split())
        await pilot.press("slash")
        app.query_one(FilterInput).value = "no-such-thing"
        await pilot.press("enter")
        assert table.row_count == 0
        assert "No pipelines match the filter" in str(screen.query_one("#empty").render())


async def test_quick_views_by_state(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        for key, status in (
            ("2", PipelineStatus.AWAITING_APPROVAL),
            ("3", PipelineStatus.RUNNING),
            ("4", PipelineStatus.FAILED),
        ):
            await pilot.press(key)
            statuses = {app.store.pipelines[k].status for k in table.row_keys}
            assert statuses == {status}
        await pilot.press("1")
        assert table.row_count == 40
        await pilot.press("3", "escape")  # escape with no filter goes back to all
        assert table.row_count == 40


async def test_start_in_approvals_shows_awaiting_approval_only(make_app: MakeApp) -> None:
    app = make_app(start="approvals")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        statuses = {app.store.pipelines[k].status for k in table_of(app).row_keys}
        assert statuses == {PipelineStatus.AWAITING_APPROVAL}
        assert table_of(app).row_count == 8


async def test_sort_cycles_and_reverses(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen, table = screen_of(app), table_of(app)
        pipelines = list(app.store.pipelines.values())

        def order() -> list[str]:
            return table.row_keys

        assert order() == [p.id for p in sort_pipelines(pipelines, "name", False)]
        await pilot.press("o")
        assert (screen.sort_key, screen.sort_descending) == ("state", False)
        states = [app.store.pipelines[k].status for k in order()]
        assert states[0] is PipelineStatus.AWAITING_APPROVAL
        header = table.render_line(0).text
        assert "State ▲" in header and "Name ▲" not in header
        await pilot.press("o")
        assert (screen.sort_key, screen.sort_descending) == ("last", True)
        await pilot.press("o")
        assert (screen.sort_key, screen.sort_descending) == ("run", True)
        runs = [app.store.pipelines[k].run_count for k in order()]
        assert runs == sorted(runs, reverse=True)
        await pilot.press("O")
        runs = [app.store.pipelines[k].run_count for k in order()]
        assert runs == sorted(runs)
        assert "sorted by run number ▲" in str(screen.query_one("#summary-right").render())
        await pilot.press("o")
        assert (screen.sort_key, screen.sort_descending) == ("name", False)


async def test_pause_stops_the_poll_and_resume_refreshes(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app(refresh=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.data.timer is not None
        await pilot.press("p")
        assert app.store.state.phase is LivePhase.PAUSED
        assert app.data.timer is None
        assert status_line(app).endswith("| paused · updated just now")
        polls = len([r for r in sim.requests if r.path == "/api/v2/pipelines"])
        await pilot.press("ctrl+r")  # a refresh by hand still works, and does not resume
        await settle(pilot)
        assert app.data.timer is None and app.store.state.paused
        await pilot.press("p")
        await settle(pilot)
        assert app.store.state.phase is LivePhase.LIVE
        assert len([r for r in sim.requests if r.path == "/api/v2/pipelines"]) == polls + 2


async def test_the_poll_rearms_itself_and_never_overlaps(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app(refresh=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        slow = b'{"data": [], "count": 40}'  # a changes read that found nothing, late
        sim.add_fault("GET", "/api/v2/pipelines", status=200, body=slow, delay=0.5)
        # The timer fires (0.2 s) and the slow poll (0.5 s) is in flight: no timer meanwhile.
        await until(pilot, lambda: any(w.is_running and w.group == "poll" for w in app.workers))
        assert app.data.timer is None  # no timer while a poll runs
        await app.workers.wait_for_complete()
        assert app.data.timer is not None  # re-armed when it ended
        await pilot.press("p")


async def test_offline_is_said_once_rows_stay_and_back_online_is_said_once(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fast_reads(app)
        await settle(pilot)
        sim.add_fault("GET", "/api/v2/pipelines", status=503, times=3)
        await refresh(pilot)
        assert status_line(app).endswith("| offline · retrying in 5s")
        assert table_of(app).row_count == 40
        assert table_of(app).has_class("-stale")
        await refresh(pilot)
        assert status_line(app).endswith("| offline · retrying in 10s")
        await refresh(pilot)
        assert status_line(app).endswith("| offline · retrying in 20s")
        assert app.store.next_delay() == 20
        warnings = [n for n in notes(app) if "Cannot refresh" in n]
        assert len(warnings) == 1 and "503" in warnings[0]
        await refresh(pilot)
        assert status_line(app).endswith("| updated just now")
        assert not table_of(app).has_class("-stale")
        assert len([n for n in notes(app) if n.startswith("Back online")]) == 1
        assert app.store.next_delay() == 3600


def test_backoff_caps_at_a_minute() -> None:
    from datetime import UTC, datetime

    from textual.dom import DOMNode

    from opstui.api import ServerError
    from opstui.tui.store import PipelineStore

    store = PipelineStore(DOMNode(), refresh=5)
    delays = []
    for _ in range(7):
        store.failed(ServerError("down", status_code=503), datetime.now(UTC))
        delays.append(store.next_delay())
    assert delays == [5, 10, 20, 40, 60, 60, 60]


async def test_a_refused_token_is_said_plainly_and_polled_slowly(
    make_app: MakeApp, sim: SimServer
) -> None:
    app = make_app(refresh=5.0)
    async with app.run_test(size=(80, 24)) as pilot:
        fast_reads(app)
        await settle(pilot)
        sim.add_fault(
            "GET", "/api/v2/pipelines", status=401, body=b'{"message": "jwt expired"}', times=2
        )
        await refresh(pilot)
        assert app.store.state.phase is LivePhase.REFUSED
        assert status_line(app).endswith("| token refused · retrying in 60s")
        assert app.store.next_delay() == 60
        (note,) = [n for n in notes(app) if "refused the token" in n]
        assert "jwt expired" in note and "OPSTUI_TOKEN" in note


async def test_first_load_failing_says_so_in_the_empty_table(
    make_app: MakeApp, sim: SimServer
) -> None:
    # Every read of the first load fails, retries included: the list's and the watermark's,
    # which goes beside it (which of them meets a fault first is the scheduler's choice).
    sim.add_fault("GET", "/api/v2/pipelines", status=503, times=12)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        empty = str(screen_of(app).query_one("#empty").render())
        assert empty.startswith("Could not load the pipelines:")
        assert "503" in empty


class TestEmptyServer:
    @pytest.fixture
    def world(self, clock: ManualClock) -> World:
        return World(seed=7, pipelines=0, tasks=0, clock=clock)

    async def test_says_there_are_no_pipelines(self, make_app: MakeApp) -> None:
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert table_of(app).row_count == 0
            assert str(screen_of(app).query_one("#empty").render()) == (
                "No pipelines on this server."
            )
            await pilot.press("a")
            assert notes(app) == ["No pipeline is highlighted."]


async def test_markup_and_escapes_in_names_render_literally(
    make_app: MakeApp, sim: SimServer
) -> None:
    source = sim.world.list_pipelines().items[0]
    evil = {k: v for k, v in source.items() if k != "_id"}
    evil["name"] = "[b]x[/b]\x1b[2J[red]"
    evil["owner_name"] = "[link=http://evil]me[/link]"
    sim.world.create_pipeline(evil)
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        (pipeline,) = [p for p in app.store.pipelines.values() if p.name.startswith("[b]")]
        row = row_cells(table_of(app), pipeline.id)
        assert row[2].plain == "[b]x[/b]\ufffd[2J[red]"
        assert row[2].spans == [] or all(span.style for span in row[2].spans)
        assert row[6].plain == "[link=http://evil]me[/link]"
        screen_text = app.export_screenshot()
        assert "[b]x[/b]" in screen_text.replace("&#160;", " ")
        assert "\x1b" not in screen_text


async def test_greyed_keys_explain_why_and_send_nothing(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = screen_of(app)
        success = first_with(app, PipelineStatus.SUCCESS)
        await highlight(pilot, success)
        assert screen.check_action("approve", ()) is None
        assert screen.check_action("run", ()) is True
        bindings = screen.active_bindings
        assert bindings["a"].enabled is False and bindings["r"].enabled is True
        sim.requests.clear()
        await pilot.press("a")
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is screen  # no dialog
        assert f"{success.name} is not awaiting approval." in notes(app)
        assert action_bodies(sim) == []
        # The footer follows the cursor: on a gate, approve applies.
        await highlight(pilot, first_with(app, PipelineStatus.AWAITING_APPROVAL))
        assert screen.active_bindings["a"].enabled is True
        assert screen.active_bindings["r"].enabled is False


async def test_edit_and_clone_are_greyed_for_several_marked(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("space", "down", "space")
        screen = screen_of(app)
        assert screen.check_action("edit", ()) is None
        assert screen.check_action("clone", ()) is None
        await pilot.press("e")
        assert notes(app) == ["Edit works on one pipeline at a time: 2 are marked (u unmarks)."]
        await pilot.press("u")
        assert screen.marked == set()
        assert screen.check_action("edit", ()) is True


async def test_mark_all_shown_marks_the_view(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "asterisk")
        screen = screen_of(app)
        assert screen.marked == set(table_of(app).row_keys)
        assert len(screen.marked) == 8
        assert row_cells(table_of(app), table_of(app).row_keys[0])[0].plain == "●"


async def test_the_store_hears_the_rows_on_screen_and_the_marks(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)

        def told(*more: str) -> bool:
            return app.store.interest() == frozenset(table.visible_keys).union(more)

        await until(pilot, told)
        first = set(table.visible_keys)
        assert 0 < len(first) < 40
        await pilot.press("pagedown")
        await until(pilot, told)
        assert set(table.visible_keys) != first, "scrolled: other rows on screen"
        await pilot.press("space")
        marked = table.cursor_key
        assert marked is not None
        await pilot.press("g")
        await until(pilot, lambda: told(marked))
        assert marked not in table.visible_keys, "a marked row is read even off screen"

        await pilot.press("A")
        await settle(pilot)
        gates = set(app.screen.query_one("#approvals", ApprovalsTable).row_keys)
        assert gates
        await until(pilot, lambda: gates <= app.store.interest())
        await pilot.press("escape")
        await settle(pilot)
        await until(pilot, lambda: told(marked))  # the inbox left: its rows are withdrawn


async def test_help_shows_every_key(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = {key for _, rows in app.screen.sections for key, _ in rows}
        assert {"r", "s", "R", "a", "x", "e", "c", "D", "space", "/", "p", "ctrl+r", "q"} <= keys
        await pilot.press("escape")
        assert isinstance(app.screen, PipelinesScreen)


async def test_palette_runs_a_command_and_explains_a_greyed_one(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await highlight(pilot, first_with(app, PipelineStatus.SUCCESS))
        await pilot.press("ctrl+p", *"w fail")
        await settle(pilot)  # the palette gathers its commands in a worker
        await pilot.press("enter")
        await settle(pilot)
        statuses = {app.store.pipelines[k].status for k in table_of(app).row_keys}
        assert statuses == {PipelineStatus.FAILED}
        await pilot.press("1")
        await highlight(pilot, first_with(app, PipelineStatus.SUCCESS))
        await pilot.press("ctrl+p", *"appr")
        await settle(pilot)  # the palette gathers its commands in a worker
        await pilot.press("enter")
        await settle(pilot)
        assert any(n.endswith("is not awaiting approval.") for n in notes(app))


async def test_vim_keys_move_the_cursor(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = table_of(app)
        await pilot.press("j", "j", "k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == 39
        await pilot.press("g")
        assert table.cursor_row == 0


async def test_enter_opens_details_and_t_the_tasks(make_app: MakeApp) -> None:
    from opstui.tui.screens.details import DetailsScreen
    from opstui.tui.screens.tasks import TasksScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailsScreen)
        await settle(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, PipelinesScreen)
        await pilot.press("t")
        assert isinstance(app.screen, TasksScreen)
        await settle(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, PipelinesScreen)


async def test_q_quits_and_closes_the_client(make_app: MakeApp) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert app.client._http.is_closed


async def test_no_key_waits_on_the_network(make_app: MakeApp, sim: SimServer) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        fast_reads(app)
        await settle(pilot)
        sim.add_fault("GET", "/api/v2/pipelines", status=200, body=b'{"data": []}', delay=20.0)
        await pilot.press("ctrl+r")
        await pilot.press("2", "down", "slash", *"pay", "enter")  # all handled while it hangs
        assert screen_of(app).quick == "awaiting"
        assert screen_of(app).filter_text == "pay"
        assert any(w.is_running for w in app.workers)
        await pilot.press("ctrl+r")  # cancels the hanging poll (exclusive) and starts anew


async def test_store_keeps_unchanged_pipelines_and_merges_status_answers(
    make_app: MakeApp, sim: SimServer, clock: ManualClock
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        before = dict(app.store.pipelines)
        await refresh(pilot)
        assert all(app.store.pipelines[key] is before[key] for key in before)  # nothing moved

        clock.advance(15 * 60)
        fresh = await app.client.list_pipelines()
        change = app.store.apply_list(fresh)
        assert change.status_changed
        for key, (old, new) in change.status_changed.items():
            assert before[key].status is old and app.store.pipelines[key].status is new
        kept = [key for key in before if app.store.pipelines[key] is before[key]]
        assert kept, "pipelines that did not change are kept as they were"

        gone, one = list(app.store.pipelines)[:2]
        sim.world.delete_pipelines([gone])
        answer = await app.client.pipeline_status([gone, one])
        assert [p.id for p in answer] == [one]
        change = app.store.apply_status([gone, one], answer)
        assert change.removed == frozenset(), "absent from a status answer is not deleted"
        assert gone in app.store.pipelines
        change = app.store.apply_gone([gone])  # what a 404 for it, or its delete, says
        assert change.removed == {gone}
        assert next(iter(app.store.pipelines)) == one  # order kept
