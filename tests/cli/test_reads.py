"""The reads: list, show, tasks, logs, approvals; their tables and their JSON."""

from __future__ import annotations

from datetime import datetime

import pytest

from opstui.api import PipelineStatus
from opstui.cli.output import cell_width
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli, pipeline_doc, pipelines_in

EVIL = "evil\x1b[2J[bold]x\x07\u202e"


def _fits(text: str, width: int = 80) -> None:
    for line in text.splitlines():
        assert cell_width(line) <= width, line


def test_list_prints_a_table_that_fits_80_columns(served: SimServer, cli: Cli) -> None:
    result = cli("list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "RUN", "NAME"]
    assert len(lines) == 1 + len(served.world.pipeline_ids())
    for pipeline_id in served.world.pipeline_ids():
        assert pipeline_id in result.out
    _fits(result.out)


def test_narrow_terminals_cut_names_with_an_ellipsis(
    served: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    result = cli("list")
    assert result.code == 0
    _fits(result.out, 60)
    assert "…" in result.out


def test_list_json_is_the_documented_projection(served: SimServer, cli: Cli) -> None:
    result = cli("list", "--json")
    assert result.code == 0
    assert result.err == ""
    items = result.json()
    assert {item["id"] for item in items} == set(served.world.pipeline_ids())
    assert set(items[0]) == {
        "id",
        "name",
        "status",
        "state",
        "active",
        "step",
        "run_count",
        "last_run",
        "gate",
        "waiting_since",
        "waited_seconds",
        "type",
        "owner",
        "tags",
        "updated_at",
    }
    statuses = {item["status"] for item in items}
    assert statuses <= {s.value for s in PipelineStatus}
    waiting = [item for item in items if item["status"] == "awaiting approval"]
    assert waiting
    assert all(item["gate"]["name"] and item["waiting_since"] for item in waiting)


def test_list_passes_the_filters_to_the_server(served: SimServer, cli: Cli) -> None:
    result = cli("list", "--json", "--search", "deploy", "--sort", "name", "--type", "sdlc")
    assert result.code == 0
    query = served.requests[-1].query
    assert query["search"] == "deploy"
    assert query["sortOption"] == "name"
    assert query["type"] == "sdlc"
    names = [item["name"] for item in result.json()]
    assert names == sorted(names)
    assert names
    assert all("deploy" in name for name in names)


def test_list_state_filters_on_the_derived_status(served: SimServer, cli: Cli) -> None:
    expected = {
        item["id"] for item in cli("list", "--json").json() if item["status"] == "awaiting approval"
    }
    assert expected
    for spelling in ("awaiting-approval", "awaiting approval", "AWAITING_APPROVAL"):
        result = cli("list", "--json", "--state", spelling)
        assert result.code == 0
        assert {item["id"] for item in result.json()} == expected

    both = cli("list", "--json", "--state", "running,failed").json()
    assert both
    assert {item["status"] for item in both} <= {"running", "failed"}


def test_an_unknown_state_is_a_usage_error(served: SimServer, cli: Cli) -> None:
    result = cli("list", "--state", "awaiting")
    assert result.code == 2
    assert "unknown state" in result.err
    assert served.requests == []


def test_show_prints_one_pipeline_in_full(served: SimServer, cli: Cli) -> None:
    pipeline = pipelines_in(served, PipelineStatus.AWAITING_APPROVAL)[0]
    assert pipeline.gate is not None
    result = cli("show", pipeline.id)
    assert result.code == 0
    assert pipeline.name in result.out
    assert "awaiting approval" in result.out
    assert f'"{pipeline.gate.name}", waiting ' in result.out
    assert "plan" in result.out


def test_show_json_has_the_projection_and_the_raw_document(served: SimServer, cli: Cli) -> None:
    pipeline_id = served.world.pipeline_ids()[0]
    data = cli("show", pipeline_id, "--json").json()
    assert data["id"] == pipeline_id
    assert data["document"] == served.world.get_pipeline(pipeline_id)


def test_show_an_unknown_pipeline_is_not_found(served: SimServer, cli: Cli) -> None:
    result = cli("show", "0" * 24)
    assert result.code == 1
    assert result.err.startswith("opstui: error: not found")
    assert result.out == ""


def test_tasks_table_and_json(served: SimServer, cli: Cli) -> None:
    table = cli("tasks")
    assert table.code == 0
    assert table.out.splitlines()[0].split() == ["ID", "STATUS", "RUN", "TYPE", "NAME"]
    _fits(table.out)
    items = cli("tasks", "--json").json()
    assert {item["id"] for item in items} == set(served.world.task_ids())
    assert {"id", "name", "status", "type", "run_count", "last_run"} <= set(items[0])


def test_logs_newest_first_and_one_run(served: SimServer, cli: Cli) -> None:
    pipeline = pipelines_in(served, PipelineStatus.SUCCESS, PipelineStatus.FAILED)[0]
    entries = cli("logs", pipeline.id, "--json").json()
    assert entries
    times = [e["time"] for e in entries]
    assert times == sorted(times, reverse=True)

    run = entries[-1]["run_count"]
    one_run = cli("logs", pipeline.id, "--run", str(run), "--json")
    assert served.requests[-1].body == {"pipelineId": pipeline.id, "runCount": run}
    assert {e["run_count"] for e in one_run.json()} == {run}

    table = cli("logs", pipeline.id)
    assert table.code == 0
    assert table.out.startswith("TIME (UTC)")
    _fits(table.out)


def test_approvals_longest_waiting_first(served: SimServer, cli: Cli) -> None:
    waiting = pipelines_in(served, PipelineStatus.AWAITING_APPROVAL)
    assert len(waiting) >= 3
    items = cli("approvals", "--json").json()
    assert {item["id"] for item in items} == {p.id for p in waiting}
    since = [datetime.fromisoformat(item["waiting_since"]) for item in items]
    assert since == sorted(since)
    waited = [item["waited_seconds"] for item in items]
    assert waited == sorted(waited, reverse=True)
    first = next(p for p in waiting if p.id == items[0]["id"])
    assert first.gate is not None
    assert items[0]["gate"] == {"id": first.gate.id, "name": first.gate.name}
    assert items[0]["run_count"] == first.run_count

    table = cli("approvals")
    assert table.code == 0
    rows = table.out.splitlines()
    assert rows[0].split() == ["ID", "RUN", "WAITING", "NAME", "GATE"]
    assert [row.split()[0] for row in rows[1:]] == [item["id"] for item in items]
    _fits(table.out)


def test_server_text_cannot_drive_the_terminal(connected: SimServer, cli: Cli) -> None:
    """A name with escapes, markup and a bidi override is printed inert, everywhere."""
    pipeline_id = connected.world.pipeline_ids()[0]
    renamed = cli("update", pipeline_id, "--name", EVIL)
    assert renamed.code == 0
    assert pipeline_doc(connected, pipeline_id)["name"] == EVIL.strip()

    for argv in (
        ("list",),
        ("list", "--json"),
        ("show", pipeline_id),
        ("show", pipeline_id, "--json"),
        ("approvals",),
    ):
        result = cli(*argv)
        assert result.code == 0
        for text in (result.out, result.err):
            assert "\x1b" not in text
            assert "\x07" not in text
            assert "\u202e" not in text
    shown = cli("show", pipeline_id).out
    assert "evil [2J[bold]x" in shown
    assert "evil\\u001b[2J[bold]x" in cli("list", "--json").out
