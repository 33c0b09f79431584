"""An action's re-check reads the status in batches, as the data service's poll does.

One status answer for fifty thousand targets is one JSON parse of about 250 ms that holds the
interpreter (and so the event loop) even in a thread: :func:`status_of` reads
:data:`STATUS_BATCH` at a time and adds up what came, against the seeded simulator.
"""

from __future__ import annotations

import pytest

from opstui.api import NotFoundError, OpseraClient
from opstui.sim.server import SimServer
from opstui.tui.data.pipelines import status_of
from tests.conftest import TOKEN


def status_targets(sim: SimServer) -> list[list[str]]:
    """The targets of each ``status`` request the simulator received, in order."""
    return [
        list(request.body["target"])
        for request in sim.requests
        if request.method == "POST"
        and isinstance(request.body, dict)
        and request.body.get("action") == "status"
    ]


async def test_ids_are_read_a_batch_at_a_time_and_come_back_together(sim: SimServer) -> None:
    ids = sorted(sim.world.pipeline_ids())[:23]
    async with OpseraClient(sim.base_url, TOKEN) as client:
        sim.clear_requests()
        fresh = await status_of(client, "pipeline", list(reversed(ids)), size=10)
    assert [len(targets) for targets in status_targets(sim)] == [10, 10, 3]
    assert [t for targets in status_targets(sim) for t in targets] == ids  # once each, in order
    assert sorted(p.id for p in fresh) == ids
    assert fresh.complete


async def test_tasks_too(sim: SimServer) -> None:
    ids = sorted(sim.world.task_ids())[:5]
    async with OpseraClient(sim.base_url, TOKEN) as client:
        sim.clear_requests()
        fresh = await status_of(client, "task", ids, size=2)
    assert len(status_targets(sim)) == 3
    assert sorted(t.id for t in fresh) == ids


async def test_one_answer_without_documents_makes_the_whole_incomplete(sim: SimServer) -> None:
    ids = sorted(sim.world.pipeline_ids())[:6]
    sim.add_fault("POST", "/api/v2/actions", kind="v1", action="status")
    async with OpseraClient(sim.base_url, TOKEN) as client:
        fresh = await status_of(client, "pipeline", ids, size=3)
    assert not fresh.complete  # the first batch said nothing: absence proves nothing


async def test_a_404_for_one_batch_keeps_the_others_and_for_all_raises(sim: SimServer) -> None:
    ids = sorted(sim.world.pipeline_ids())[:6]
    async with OpseraClient(sim.base_url, TOKEN) as client:
        sim.add_fault("POST", "/api/v2/actions", status=404, action="status")
        fresh = await status_of(client, "pipeline", ids, size=3)
        assert sorted(p.id for p in fresh) == ids[3:]
        sim.add_fault("POST", "/api/v2/actions", status=404, action="status", times=2)
        with pytest.raises(NotFoundError):
            await status_of(client, "pipeline", ids, size=3)
