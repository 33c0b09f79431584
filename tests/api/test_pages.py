"""Paged reads with a small first page and several pages on their way at once: every record
once, in the stable order, and ``complete`` only when every page agrees (against the simulator
over real loopback HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from opstui.api import OpseraClient, Pipeline, RetryPolicy, ServerError
from opstui.api.listing import ListPage
from opstui.sim.server import SimServer
from opstui.sim.world import World
from tests.conftest import TOKEN

FAST_RETRY = RetryPolicy(attempts=1, base_delay=0.0, max_delay=0.0)


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[OpseraClient]:
    async with OpseraClient(sim.base_url, TOKEN, timeout=5, retry=FAST_RETRY) as client:
        yield client


async def pages_of(client: OpseraClient, **options: int) -> list[ListPage[Pipeline]]:
    return [page async for page in client.pipeline_pages(**options)]  # type: ignore[arg-type]


def asked(sim: SimServer) -> list[tuple[str, str]]:
    """(pageSize, currentPage) of every list request, sorted (several may be in flight)."""
    return sorted(
        (r.query["pageSize"], r.query["currentPage"])
        for r in sim.requests
        if r.path == "/api/v2/pipelines"
    )


@pytest.mark.parametrize("ahead", [1, 3])
async def test_a_preview_then_full_pages_hand_out_every_pipeline_once_in_order(
    client: OpseraClient, sim: SimServer, world: World, ahead: int
) -> None:
    pages = await pages_of(client, page_size=10, preview=4, ahead=ahead)
    assert [len(page) for page in pages] == [4, 6, 10, 10, 10]
    assert [page.complete for page in pages] == [False, False, False, False, True]
    assert all(page.total == 40 for page in pages)
    ids = [pipeline.id for page in pages for pipeline in page]
    assert ids == [doc["_id"] for doc in world.list_pipelines(sort="oldest").items]
    expected = [("4", "1")] + [("10", str(n)) for n in range(1, 5)]
    assert asked(sim) == sorted(expected), "never a page past the end the count gives"


async def test_a_preview_that_holds_everything_is_the_whole_read(
    client: OpseraClient, sim: SimServer
) -> None:
    pages = await pages_of(client, page_size=1000, preview=100, ahead=3)
    assert [len(page) for page in pages] == [40]
    assert pages[0].complete
    assert asked(sim) == [("100", "1")]


async def test_a_deletion_between_pages_read_ahead_makes_the_read_incomplete(
    client: OpseraClient, sim: SimServer, world: World
) -> None:
    listed = client.pipeline_pages(page_size=10, preview=4, ahead=2)
    first = await anext(listed)
    world.delete_pipelines([first[0].id])
    rest = [page async for page in listed]
    assert not any(page.complete for page in [first, *rest]), "the count moved: not complete"


async def test_a_failed_page_read_ahead_ends_the_read_and_the_client_reads_on(
    client: OpseraClient, sim: SimServer
) -> None:
    listed = client.pipeline_pages(page_size=10, ahead=3)
    first = await anext(listed)
    assert len(first) == 10
    sim.add_fault("GET", "/api/v2/pipelines", status=500, times=5)
    with pytest.raises(ServerError):
        async for _ in listed:
            pass
    sim.clear_faults()
    assert [n for n in (await client.list_pipelines(page_size=10),) if len(n) == 40], (
        "the client still reads (no page left half-read in its pool)"
    )
