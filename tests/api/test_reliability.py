"""Issue 7, client side, against the simulator on loopback: a closed error tree, repaired text,
outcome unknown on mutations, status answers without documents, and lists that can be trusted."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from opstui.api import (
    ApiError,
    ConnectionFailedError,
    InvalidResponseError,
    NotFoundError,
    OpseraClient,
    OpseraError,
    OutcomeUnknownError,
    RetryPolicy,
    ServerError,
    TransportError,
)
from opstui.api.transport import batch_timeout
from opstui.sim.server import SimServer
from opstui.sim.world import World
from tests.conftest import TOKEN

ACTIONS = "/api/v2/actions"
LIST = "/api/v2/pipelines"
CREATE = "/api/v2/pipeline/create"
NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)

Call = Callable[[OpseraClient, str, str], Awaitable[Any]]

# Every call that changes something, and the path its one request goes to.
MUTATIONS: dict[str, tuple[str, Call]] = {
    "run": (ACTIONS, lambda c, p, t: c.run_pipelines([p])),
    "stop": (ACTIONS, lambda c, p, t: c.stop_pipelines([p])),
    "reset": (ACTIONS, lambda c, p, t: c.reset_pipelines([p])),
    "approve": (ACTIONS, lambda c, p, t: c.approve_pipelines([p])),
    "reject": (ACTIONS, lambda c, p, t: c.reject_pipelines([p], "change freeze")),
    "delete": (ACTIONS, lambda c, p, t: c.delete_pipelines([p])),
    "update": (ACTIONS, lambda c, p, t: c.update_pipeline(p, name="renamed")),
    "create": (CREATE, lambda c, p, t: c.create_pipeline({"name": "brand-new"})),
    "clone": (CREATE, lambda c, p, t: c.clone_pipeline(p, "the copy")),
    "task run": (ACTIONS, lambda c, p, t: c.run_tasks([t])),
    "task stop": (ACTIONS, lambda c, p, t: c.stop_tasks([t])),
    "task create": (ACTIONS, lambda c, p, t: c.create_task({"name": "new-task"})),
    "task update": (ACTIONS, lambda c, p, t: c.update_task(t, name="renamed")),
}


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[OpseraClient]:
    async with OpseraClient(sim.base_url, TOKEN, timeout=5, retry=NO_WAIT) as client:
        yield client


def ids_of(sim: SimServer) -> tuple[str, str]:
    """A pipeline id and a task id of the world, read without a request."""
    pipeline = sim.world.list_pipelines(page_size=1).items[0]["_id"]
    task = sim.world.list_tasks(page_size=1).items[0]["_id"]
    return pipeline, task


def sent(sim: SimServer, method: str, path: str) -> int:
    return sum(1 for r in sim.requests if r.method == method and r.path == path)


def page_of(*records: Any, count: int | None = None) -> bytes:
    body: dict[str, Any] = {"data": list(records)}
    if count is not None:
        body["count"] = count
    return json.dumps(body).encode()


# -- one bad record never takes down a list --------------------------------------------------


async def test_a_lone_surrogate_is_repaired_and_the_page_kept(
    client: OpseraClient, sim: SimServer
) -> None:
    body = (
        b'{"data": [{"_id": "a1", "name": "rocket \\ud83d launch"},'
        b' {"_id": "a2", "name": "pair \\ud83d\\ude80 kept"},'
        b' {"_id": "a3", "name": "low \\ude80 alone", "\\ud83d": "key"}], "count": 3}'
    )
    sim.add_fault("GET", LIST, status=200, body=body)
    listing = await client.list_pipelines()
    assert [p.name for p in listing] == ["rocket \ufffd launch", "pair 🚀 kept", "low \ufffd alone"]
    assert listing[2].document()["\ufffd"] == "key"
    assert listing.skipped == 0
    assert listing.complete


async def test_invalid_utf8_is_replaced(client: OpseraClient, sim: SimServer) -> None:
    body = b'{"data": [{"_id": "b1", "name": "caf\xe9 \xff"}], "count": 1}'
    sim.add_fault("GET", LIST, status=200, body=body)
    [pipeline] = await client.list_pipelines()
    assert pipeline.name == "caf\ufffd \ufffd"


async def test_a_huge_number_does_not_take_down_the_page(
    client: OpseraClient, sim: SimServer
) -> None:
    body = b'{"data": [{"_id": "c1", "workflow": {"run_count": ' + b"9" * 5000 + b"}}]}"
    sim.add_fault("GET", LIST, status=200, body=body)
    [pipeline] = await client.list_pipelines()
    assert pipeline.id == "c1"
    assert pipeline.run_count == 0, "a number no JavaScript server could hold is not a count"


async def test_records_that_cannot_be_read_are_counted_one_by_one(
    client: OpseraClient, sim: SimServer
) -> None:
    good = sim.world.list_pipelines(page_size=2).items
    body = page_of(good[0], {"name": "no id"}, "a string", {"_id": "has space"}, good[1], count=5)
    sim.add_fault("GET", LIST, status=200, body=body)
    listing = await client.list_pipelines()
    assert [p.id for p in listing] == [good[0]["_id"], good[1]["_id"]]
    assert listing.skipped == 3
    assert listing.complete, "two read and three unreadable make the count: nothing is missing"


async def test_json_nested_too_deep_is_an_invalid_response(
    client: OpseraClient, sim: SimServer
) -> None:
    deep = b'{"data": [{"_id": "d1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}]}"
    sim.add_fault("GET", LIST, status=200, body=deep)
    with pytest.raises(InvalidResponseError) as caught:
        await client.list_pipelines()
    assert "\n" not in caught.value.message


# -- a lying Content-Encoding ------------------------------------------------------------


async def test_a_lying_content_encoding_on_a_read(client: OpseraClient, sim: SimServer) -> None:
    sim.add_fault(
        "GET", LIST, status=200, body=b'{"data": []}', headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(InvalidResponseError, match="could not be decoded"):
        await client.list_pipelines()
    assert sent(sim, "GET", LIST) == 1


async def test_a_lying_content_encoding_on_an_action(client: OpseraClient, sim: SimServer) -> None:
    pipeline_id, _ = ids_of(sim)
    sim.add_fault(
        "POST",
        ACTIONS,
        status=200,
        body=b'{"status": "success"}',
        headers={"Content-Encoding": "deflate"},
    )
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.approve_pipelines([pipeline_id])
    assert caught.value.action == "approve"
    assert caught.value.targets == (pipeline_id,)
    assert caught.value.title == "Outcome unknown"
    assert caught.value.message == (
        f"{client.host} may have applied the approve "
        "(its answer could not be decoded); check its status before trying again"
    )
    assert sent(sim, "POST", ACTIONS) == 1


async def test_a_lying_content_encoding_on_an_error_keeps_the_status(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id, _ = ids_of(sim)
    sim.add_fault(
        "POST", ACTIONS, status=503, body=b"not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(ServerError, match="HTTP 503"):
        await client.run_pipelines([pipeline_id])
    assert sent(sim, "POST", ACTIONS) == 1


# -- every mutation: sent once, and outcome unknown when it may have been applied -----------


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_a_timeout_on_a_mutation_is_an_unknown_outcome_sent_once(
    sim: SimServer, name: str
) -> None:
    path, call = MUTATIONS[name]
    pipeline_id, task_id = ids_of(sim)
    sim.add_fault("POST", path, status=200, body=b"{}", delay=1.0)
    async with OpseraClient(sim.base_url, TOKEN, timeout=0.25, retry=NO_WAIT) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await call(client, pipeline_id, task_id)
    assert caught.value.message.startswith(f"127.0.0.1:{sim.base_url.rsplit(':', 1)[1]} may have")
    assert (
        "check its status before trying again" in caught.value.message
        and "\n" not in caught.value.message
    )
    assert sent(sim, "POST", path) == 1
    assert [r.path for r in sim.requests if r.path == path] == [path]
    if name == "clone":
        assert sent(sim, "POST", ACTIONS) == 1, "the clone's source was read once, first"
        assert "may have created the clone" in caught.value.message
    else:
        assert len(sim.requests) == 1


async def test_a_large_batch_is_given_longer_to_answer(sim: SimServer) -> None:
    """A server applies a batch id by id: a run on thousands of pipelines waits longer than
    the usual timeout before it is called unknown (one second more per thousand ids)."""
    answer = b'{"status": "success", "message": "ok"}'
    small = ["5fd56d90979ee048ee660624"]
    large = [f"{n:024x}" for n in range(1, 1801)]  # 800 beyond the free 1,000: +0.8 s
    async with OpseraClient(sim.base_url, TOKEN, timeout=0.25, retry=NO_WAIT) as client:
        sim.add_fault("POST", ACTIONS, status=200, body=answer, delay=0.6)
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.run_pipelines(small)
        assert "no answer within 0.25 s" in caught.value.message
        sim.add_fault("POST", ACTIONS, status=200, body=answer, delay=0.6)
        result = await client.run_pipelines(large)
    assert result.status == "success"
    assert sent(sim, "POST", ACTIONS) == 2, "each sent once"


def test_the_wait_for_a_batch_grows_with_it_within_a_cap() -> None:
    assert batch_timeout(10.0, 0) == batch_timeout(10.0, 1000) == 10.0
    assert batch_timeout(10.0, 11_000) == pytest.approx(20.0)
    assert batch_timeout(10.0, 40_000) == pytest.approx(49.0)
    assert batch_timeout(10.0, 10**7) == 120.0
    assert batch_timeout(300.0, 50_000) == 300.0, "a longer configured timeout is kept"


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_a_5xx_on_a_mutation_is_sent_once(sim: SimServer, name: str) -> None:
    path, call = MUTATIONS[name]
    pipeline_id, task_id = ids_of(sim)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    sim.add_fault("POST", path, status=502, times=5)
    async with OpseraClient(sim.base_url, TOKEN, sleep=sleep) as client:
        with pytest.raises(ServerError):
            await call(client, pipeline_id, task_id)
    assert sent(sim, "POST", path) == 1
    assert sleeps == []


@pytest.mark.parametrize("name", ["create", "clone"])
async def test_an_unreadable_create_answer_says_it_may_have_been_created(
    client: OpseraClient, sim: SimServer, name: str
) -> None:
    _, call = MUTATIONS[name]
    pipeline_id, task_id = ids_of(sim)
    sim.add_fault("POST", CREATE, status=200, body=b'{"status": "success", "data": {"x": 1}}')
    with pytest.raises(OutcomeUnknownError, match="may have created the") as caught:
        await call(client, pipeline_id, task_id)
    assert caught.value.action == name
    assert caught.value.targets == ()
    assert sent(sim, "POST", CREATE) == 1


async def test_a_create_the_server_refused_in_a_200_is_an_error_not_unknown(
    client: OpseraClient, sim: SimServer
) -> None:
    body = b'{"status": "failed", "message": "a pipeline named brand-new exists"}'
    sim.add_fault("POST", CREATE, status=200, body=body)
    with pytest.raises(ApiError, match="did not create the pipeline: a pipeline named") as caught:
        await client.create_pipeline({"name": "brand-new"})
    assert not isinstance(caught.value, OutcomeUnknownError)


async def test_a_refused_connection_sends_nothing_and_is_not_unknown() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with OpseraClient(f"http://127.0.0.1:{port}", TOKEN, retry=NO_WAIT) as client:
        for call in (
            client.run_pipelines(["5fd56d90979ee048ee660624"]),
            client.create_pipeline({"name": "x"}),
        ):
            with pytest.raises(TransportError) as caught:
                await call
            assert not isinstance(caught.value, OutcomeUnknownError)


class RawServer:
    """A tiny HTTP/1.1 server on 127.0.0.1 that answers every request with ``answer``, then
    ends the connection: a response no server sends on purpose."""

    def __init__(self, answer: bytes, *, reset: bool) -> None:
        self.answer = answer
        self.reset = reset
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await reader.readexactly(length)
        self.requests += 1
        writer.write(self.answer)
        await writer.drain()
        if self.reset:  # an RST instead of a FIN
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


HALF_AN_ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
    b'{"status": "success", "results": [{"tar'
)


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
@pytest.mark.parametrize("answer", [HALF_AN_ANSWER, b""], ids=["mid-answer", "no-answer"])
async def test_a_connection_ended_mid_answer(reset: bool, answer: bytes) -> None:
    raw = RawServer(answer, reset=reset)
    async with raw as url, OpseraClient(url, TOKEN, retry=NO_WAIT) as client:
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.reject_pipelines(["5fd56d90979ee048ee660624"], "not today")
        assert raw.requests == 1
        assert caught.value.targets == ("5fd56d90979ee048ee660624",)
        assert TOKEN not in caught.value.message
        with pytest.raises(ConnectionFailedError):
            await client.list_pipelines()
        assert raw.requests == 4, "a read is retried: three tries"


# -- status answers without documents ------------------------------------------------------

V1_STATUS = b'{"status": "success", "message": "ok"}'


async def test_a_v1_status_answer_is_not_absence(client: OpseraClient, sim: SimServer) -> None:
    pipeline_id, task_id = ids_of(sim)
    assert client.status_documents is None
    fresh = await client.pipeline_status([pipeline_id])
    assert [p.id for p in fresh] == [pipeline_id] and fresh.complete
    assert client.status_documents is True

    sim.add_fault("POST", ACTIONS, status=200, body=V1_STATUS, times=2)
    v1 = await client.pipeline_status([pipeline_id])
    assert list(v1) == [] and not v1.complete
    assert client.status_documents is False
    tasks = await client.task_status([task_id])
    assert list(tasks) == [] and not tasks.complete

    await client.pipeline_status([pipeline_id])  # documents again: what was learnt stays
    assert client.status_documents is False


async def test_get_pipeline_against_a_v1_status_finds_it_through_the_list(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id, _ = ids_of(sim)
    sim.add_fault("POST", ACTIONS, status=200, body=V1_STATUS)
    pipeline = await client.get_pipeline(pipeline_id)
    assert pipeline.id == pipeline_id
    status, listing = sim.requests
    assert status.path == ACTIONS
    assert listing.path == LIST and listing.query["search"] == pipeline_id


async def test_get_pipeline_when_the_server_ignores_search(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id = sim.world.list_pipelines(sort="name").items[-1]["_id"]
    sim.add_fault("POST", ACTIONS, status=200, body=V1_STATUS)
    everything = page_of(*sim.world.list_pipelines(sort="oldest").items, count=40)
    sim.add_fault("GET", LIST, status=200, body=everything)
    assert (await client.get_pipeline(pipeline_id)).id == pipeline_id


async def test_a_v1_status_never_says_not_found(client: OpseraClient, sim: SimServer) -> None:
    sim.add_fault("POST", ACTIONS, status=200, body=b'{"status": "failed", "message": "nope"}')
    with pytest.raises(OpseraError) as caught:
        await client.get_pipeline("0" * 24)
    assert not isinstance(caught.value, NotFoundError)


async def test_not_found_for_a_404_and_for_a_reported_failure(
    client: OpseraClient, sim: SimServer
) -> None:
    with pytest.raises(NotFoundError, match=r"0{24}"):
        await client.get_pipeline("0" * 24)  # the simulator reports failed for that target
    sim.add_fault("POST", ACTIONS, status=404, body=b'{"message": "no such pipeline"}')
    with pytest.raises(NotFoundError, match="HTTP 404"):
        await client.get_pipeline("1" * 24)


# -- a listing that can be trusted ---------------------------------------------------------


async def test_lists_in_the_stable_order_by_default(client: OpseraClient, sim: SimServer) -> None:
    listing = await client.list_pipelines(page_size=7)
    assert listing.complete and listing.skipped == 0
    assert {r.query["sortOption"] for r in sim.requests} == {"oldest"}
    created = [p.created_at for p in listing]
    assert created == sorted(created, key=lambda t: (t is not None, t))


async def test_pages_arrive_one_by_one_and_only_the_last_says_complete(
    client: OpseraClient, sim: SimServer
) -> None:
    pages = [page async for page in client.pipeline_pages(page_size=15)]
    assert [len(page) for page in pages] == [15, 15, 10]
    assert [page.complete for page in pages] == [False, False, True]
    assert len({p.id for page in pages for p in page}) == 40


async def test_another_sort_is_never_complete(client: OpseraClient, sim: SimServer) -> None:
    listing = await client.list_pipelines(sort="name")
    assert len(listing) == 40
    assert not listing.complete
    assert (await client.list_pipelines(sort="oldest")).complete


async def test_a_server_that_ignores_paging(client: OpseraClient, sim: SimServer) -> None:
    sim.options.ignore_paging = True
    short = await client.list_pipelines(page_size=10)
    assert len(short) == 10 and not short.complete
    everything = await client.list_pipelines(page_size=100)
    assert len(everything) == 40 and everything.complete


async def test_without_a_count_only_one_short_page_is_complete(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.options.list_shape = "array"
    assert (await client.list_pipelines()).complete
    paged = await client.list_pipelines(page_size=15)
    assert len(paged) == 40 and not paged.complete


async def test_a_count_that_does_not_add_up_is_not_complete(
    client: OpseraClient, sim: SimServer
) -> None:
    docs = sim.world.list_pipelines(sort="oldest").items
    sim.add_fault("GET", LIST, status=200, body=page_of(*docs[:3], count=4))
    listing = await client.list_pipelines()
    assert len(listing) == 3 and not listing.complete


class ChangeAfterFirstPage(httpx.AsyncBaseTransport):
    """The real transport, with the world changed right after the first list page is read."""

    def __init__(self, world: World, change: Callable[[list[str]], None]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.world = world
        self.change = change
        self.pages = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == LIST:
            self.pages += 1
            if self.pages == 1:
                await response.aread()
                ids = [doc["_id"] for doc in json.loads(response.content)["data"]]
                with self.world.lock:
                    self.change(ids)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_deletion_between_two_pages_makes_the_list_incomplete(sim: SimServer) -> None:
    world = sim.world
    transport = ChangeAfterFirstPage(world, lambda ids: world.delete_pipelines([ids[0]]))
    async with OpseraClient(sim.base_url, TOKEN, transport=transport) as client:
        listing = await client.list_pipelines(page_size=10)
    assert transport.pages == 4
    assert len(listing) == 39, "one pipeline slid back onto the page already read"
    assert not listing.complete


async def test_a_creation_between_two_pages_appends_and_misses_nothing(sim: SimServer) -> None:
    world = sim.world
    before = {doc["_id"] for doc in world.list_pipelines().items}
    transport = ChangeAfterFirstPage(world, lambda ids: world.create_pipeline({"name": "late"}))
    async with OpseraClient(sim.base_url, TOKEN, transport=transport) as client:
        listing = await client.list_pipelines(page_size=10)
    assert before <= {p.id for p in listing}, "the stable order shifts nothing"
    assert not listing.complete, "the count moved between pages"


async def test_a_skipped_page_is_counted_on_its_page(client: OpseraClient, sim: SimServer) -> None:
    docs = sim.world.list_pipelines(sort="oldest").items
    sim.add_fault("GET", LIST, status=200, body=page_of(docs[0], {"_id": ""}, count=3))
    sim.add_fault("GET", LIST, status=200, body=page_of(docs[1], count=3))
    pages = [page async for page in client.pipeline_pages(page_size=2)]
    assert [(len(p), p.skipped, p.complete) for p in pages] == [(1, 1, False), (1, 0, True)]


async def test_pages_of_unreadable_records_do_not_read_on_forever(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.options.list_shape = "array"
    sim.add_fault("GET", LIST, status=200, body=b'[{"no": "id"}, 7]', times=50)
    listing = await client.list_pipelines(page_size=2)
    assert list(listing) == [] and not listing.complete
    assert sent(sim, "GET", LIST) == 2
