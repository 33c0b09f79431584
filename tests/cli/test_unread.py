"""Records that cannot be read are left out one by one, counted on stderr; the rest print, exit 0.

A real list answer from the simulator, with records added that have no ``_id`` (a record that
cannot be read), is served once through a raw fault.
"""

from __future__ import annotations

import json

import pytest

from opstui.api import PipelineStatus
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli, pipelines_in, real_answer

BROKEN = [{"name": "no id here", "state": "running"}, {"name": "nor here", "workflow": {}}]


def _with_broken_records(sim: SimServer, path: str, count: int, times: int = 1) -> list[str]:
    """Serve the real first page of ``path`` plus ``count`` unreadable records; the real ids."""
    answer = real_answer(sim, "GET", path, params={"pageSize": "1000", "currentPage": "1"})
    ids = [item["_id"] for item in answer["data"]]
    answer["data"] = answer["data"][:3] + BROKEN[:count] + answer["data"][3:]
    answer["count"] = len(answer["data"])
    sim.add_fault(
        "GET",
        path,
        status=200,
        body=json.dumps(answer),
        headers={"content-type": "application/json"},
        times=times,
    )
    return ids


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("opstui: warning: ")]


def test_list_warns_and_prints_the_rest(connected: SimServer, cli: Cli) -> None:
    ids = _with_broken_records(connected, "/api/v2/pipelines", 2)
    result = cli("list")
    assert result.code == 0
    assert _warnings(result.err) == [
        "opstui: warning: 2 pipelines could not be read and are not shown"
    ]
    assert len(result.out.splitlines()) == 1 + len(ids)
    assert all(i in result.out for i in ids)
    assert "no id here" not in result.out


def test_list_json_stays_pure_json(connected: SimServer, cli: Cli) -> None:
    ids = _with_broken_records(connected, "/api/v2/pipelines", 1)
    result = cli("list", "--json")
    assert result.code == 0
    assert [item["id"] for item in result.json()] == ids
    assert result.err == "opstui: warning: 1 pipeline could not be read and is not shown\n"


def test_list_with_a_state_filter_still_warns(connected: SimServer, cli: Cli) -> None:
    _with_broken_records(connected, "/api/v2/pipelines", 2)
    result = cli("list", "--state", "failed", "--json")
    assert result.code == 0
    assert {item["status"] for item in result.json()} == {"failed"}
    assert len(_warnings(result.err)) == 1


def test_tasks_warn(connected: SimServer, cli: Cli) -> None:
    ids = _with_broken_records(connected, "/api/v2/tasks", 2)
    result = cli("tasks", "--json")
    assert result.code == 0
    assert [item["id"] for item in result.json()] == ids
    assert _warnings(result.err) == ["opstui: warning: 2 tasks could not be read and are not shown"]


@pytest.mark.parametrize("as_json", [False, True])
def test_approvals_warn(connected: SimServer, cli: Cli, as_json: bool) -> None:
    _with_broken_records(connected, "/api/v2/pipelines", 2)
    result = cli("approvals", *(["--json"] if as_json else []))
    assert result.code == 0
    waiting = pipelines_in(connected, PipelineStatus.AWAITING_APPROVAL)
    if as_json:
        assert {item["id"] for item in result.json()} == {p.id for p in waiting}
    else:
        assert len(result.out.splitlines()) == 1 + len(waiting)
    assert _warnings(result.err) == [
        "opstui: warning: 2 pipelines could not be read and are not shown"
    ]


def test_approvals_watch_warns_once_not_every_poll(connected: SimServer, cli: Cli) -> None:
    _with_broken_records(connected, "/api/v2/pipelines", 2, times=2)
    result = cli("approvals", "--watch", "--json", "--interval", "0.5", "--max-polls", "3")
    assert result.code == 0
    assert _warnings(result.err) == [
        "opstui: warning: 2 pipelines could not be read and are not shown"
    ]
    waiting = pipelines_in(connected, PipelineStatus.AWAITING_APPROVAL)
    assert sorted(json.loads(line)["id"] for line in result.out.splitlines()) == sorted(
        p.id for p in waiting
    )
