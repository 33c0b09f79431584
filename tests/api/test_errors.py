"""Every error class, retries for reads only, and the token kept out of every message."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import pytest

from opstui.api import (
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    InvalidResponseError,
    InvalidStateError,
    NotFoundError,
    OpseraClient,
    OpseraError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PipelineStatus,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
)
from opstui.sim.server import SimServer
from tests.conftest import READONLY_TOKEN, TOKEN

ACTIONS = "/api/v2/actions"
LIST = "/api/v2/pipelines"


class RecordedSleep:
    """Stands in for asyncio.sleep so retry tests take no time and show their delays."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def sleeps() -> RecordedSleep:
    return RecordedSleep()


@pytest.fixture
async def client(sim: SimServer, sleeps: RecordedSleep) -> AsyncIterator[OpseraClient]:
    async with OpseraClient(
        sim.base_url, TOKEN, timeout=2, retry=RetryPolicy(attempts=3), sleep=sleeps
    ) as c:
        yield c


def sent(sim: SimServer, method: str, path: str) -> int:
    return sum(1 for r in sim.requests if r.method == method and r.path == path)


def assert_no_token(error: BaseException) -> None:
    for text in (str(error), repr(error), getattr(error, "message", "")):
        assert TOKEN not in text
        assert READONLY_TOKEN not in text


async def idle_pipeline_id(client: OpseraClient) -> str:
    return next(
        p.id
        for p in await client.list_pipelines()
        if p.status is PipelineStatus.SUCCESS and p.active
    )


async def test_wrong_token_is_an_authentication_error(sim: SimServer) -> None:
    async with OpseraClient(sim.base_url, "not-the-token") as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_pipelines()
    assert caught.value.status_code == 401
    assert "401" in caught.value.message
    assert sent(sim, "GET", LIST) == 1, "a 401 is not retried"
    assert "not-the-token" not in str(caught.value)


async def test_read_only_token_reads_but_cannot_act(sim: SimServer) -> None:
    async with OpseraClient(sim.base_url, READONLY_TOKEN) as client:
        pipelines = await client.list_pipelines()
        assert await client.pipeline_status([pipelines[0].id])
        with pytest.raises(PermissionDeniedError) as caught:
            await client.run_pipelines([pipelines[0].id])
    assert caught.value.status_code == 403
    assert_no_token(caught.value)


async def test_status_of_unknown_ids_is_not_found(client: OpseraClient) -> None:
    with pytest.raises(NotFoundError):
        await client.get_pipeline("0" * 24)
    with pytest.raises(NotFoundError):
        await client.pipeline_logs("0" * 24)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (409, InvalidStateError),
        (422, InvalidStateError),
        (404, NotFoundError),
    ],
)
async def test_status_codes_map_to_their_class(
    client: OpseraClient, sim: SimServer, status: int, error: type[OpseraError]
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault(
        "POST",
        ACTIONS,
        status=status,
        body=b'{"status": "failed", "message": "Pipeline is locked"}',
    )
    with pytest.raises(error) as caught:
        await client.run_pipelines([pipeline_id])
    assert caught.value.message == f"Pipeline is locked (HTTP {status})"
    assert sent(sim, "POST", ACTIONS) == 1


async def test_a_failing_run_is_sent_exactly_once(
    client: OpseraClient, sim: SimServer, sleeps: RecordedSleep
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault(
        "POST",
        ACTIONS,
        status=500,
        body=b"<html><body>Internal Server Error</body></html>",
        times=5,
    )
    with pytest.raises(ServerError) as caught:
        await client.run_pipelines([pipeline_id])
    assert sent(sim, "POST", ACTIONS) == 1
    assert sleeps.delays == []
    assert caught.value.message == "HTTP 500 Internal Server Error"


@pytest.mark.parametrize("action", ["stop", "reset", "approve", "delete"])
async def test_no_mutation_is_retried_on_a_transient_failure(
    client: OpseraClient, sim: SimServer, action: str
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault("POST", ACTIONS, status=503, times=5)
    with pytest.raises(ServerError):
        await client.action(action, "pipeline", [pipeline_id])
    assert sent(sim, "POST", ACTIONS) == 1


async def test_rate_limited_mutation_is_not_retried_and_carries_retry_after(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault(
        "POST", ACTIONS, status=429, headers={"Retry-After": "7"}, body=b'{"message": "slow down"}'
    )
    with pytest.raises(RateLimitedError) as caught:
        await client.run_pipelines([pipeline_id])
    assert caught.value.retry_after == 7
    assert sent(sim, "POST", ACTIONS) == 1


async def test_reads_are_retried_and_honour_retry_after(
    client: OpseraClient, sim: SimServer, sleeps: RecordedSleep
) -> None:
    sim.add_fault("GET", LIST, status=429, headers={"Retry-After": "2"})
    sim.add_fault("GET", LIST, status=503)
    assert len(await client.list_pipelines()) == 40
    assert sent(sim, "GET", LIST) == 3
    assert sleeps.delays[0] == 2
    assert 0 <= sleeps.delays[1] <= 1.0, "second try: exponential backoff, jittered, from 0.5 s"


async def test_status_action_is_a_read_and_is_retried(client: OpseraClient, sim: SimServer) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault("POST", ACTIONS, status=502)
    assert (await client.get_pipeline(pipeline_id)).id == pipeline_id
    assert sent(sim, "POST", ACTIONS) == 2


async def test_retries_are_bounded(
    client: OpseraClient, sim: SimServer, sleeps: RecordedSleep
) -> None:
    sim.add_fault("GET", LIST, status=503, times=10)
    with pytest.raises(ServerError):
        await client.list_pipelines()
    assert sent(sim, "GET", LIST) == 3
    assert len(sleeps.delays) == 2


async def test_a_retry_after_beyond_reason_is_not_waited_for(
    client: OpseraClient, sim: SimServer, sleeps: RecordedSleep
) -> None:
    sim.add_fault("GET", LIST, status=429, headers={"Retry-After": "3600"})
    with pytest.raises(RateLimitedError) as caught:
        await client.list_pipelines()
    assert caught.value.retry_after == 3600
    assert sleeps.delays == []


@pytest.mark.parametrize(
    "body",
    [b"", b"<html>oops</html>", b"not json", b'{"data": 5}', b'"just a string"', b'{"data": [1, 2'],
)
async def test_garbage_lists_are_invalid_responses(
    client: OpseraClient, sim: SimServer, body: bytes
) -> None:
    sim.add_fault("GET", LIST, status=200, body=body)
    with pytest.raises(InvalidResponseError) as caught:
        await client.list_pipelines()
    assert "\n" not in caught.value.message


async def test_records_without_an_id_are_skipped_not_fatal(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.add_fault(
        "GET",
        LIST,
        status=200,
        body=b'{"data": [{"name": "no id"}, {"_id": "ok1", "name": "fine"}, 7]}',
    )
    listing = await client.list_pipelines()
    [only] = listing
    assert only.id == "ok1"
    assert only.status is PipelineStatus.UNKNOWN
    assert listing.skipped == 2


async def test_an_action_answer_that_is_not_an_object_is_an_unknown_outcome(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault("POST", ACTIONS, status=200, body=b"[1, 2, 3]")
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.run_pipelines([pipeline_id])
    assert caught.value.action == "run"
    assert caught.value.targets == (pipeline_id,)
    assert sent(sim, "POST", ACTIONS) == 1


async def test_a_status_answer_that_is_not_an_object_is_invalid(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.add_fault("POST", ACTIONS, status=200, body=b"[1, 2, 3]")
    with pytest.raises(InvalidResponseError):
        await client.pipeline_status(["5fd56d90979ee048ee660624"])


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"", "gave no status"),
        (b"{}", "gave no status"),
        (b'{"status": 7}', "gave no status"),
        (b'{"status": "pending-review", "message": "m"}', "answered 'pending-review'"),
        (b'{"results": [{"target": "TARGET", "status": null}]}', "gave no status"),
    ],
)
async def test_a_200_that_says_neither_success_nor_failure_is_an_unknown_outcome(
    client: OpseraClient, sim: SimServer, body: bytes, said: str
) -> None:
    """No row lost to a guess: an answer with no word we know leaves the outcome unknown."""
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault("POST", ACTIONS, status=200, body=body.replace(b"TARGET", pipeline_id.encode()))
    result = await client.run_pipelines([pipeline_id])
    (outcome,) = result.outcomes
    assert not result.ok
    assert outcome.unknown
    assert said in outcome.message and "may have been applied" in outcome.message
    assert len([r for r in sim.requests if r.path == ACTIONS]) == 1


async def test_the_v1_words_still_say_success_and_failure(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault("POST", ACTIONS, status=200, body=b'{"status": "executed", "runCount": 4}')
    (ok,) = (await client.run_pipelines([pipeline_id])).outcomes
    assert ok.ok and ok.run_count == 4
    sim.add_fault("POST", ACTIONS, status=200, body=b'{"status": "failed", "message": "paused"}')
    (failed,) = (await client.run_pipelines([pipeline_id])).outcomes
    assert not failed.ok and not failed.unknown and failed.message == "paused"


async def test_unreachable_server() -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = RecordedSleep()
    async with OpseraClient(f"http://127.0.0.1:{port}", TOKEN, sleep=sleeps) as client:
        with pytest.raises(ConnectionFailedError) as caught:
            await client.list_pipelines()
        assert len(sleeps.delays) == 2, "reads retry a refused connection"
        with pytest.raises(ConnectionFailedError):
            await client.run_pipelines(["5fd56d90979ee048ee660624"])
        assert len(sleeps.delays) == 2, "actions never do"
    assert f"127.0.0.1:{port}" in caught.value.message
    assert_no_token(caught.value)


async def test_timeout_on_an_action_says_it_may_have_been_applied(sim: SimServer) -> None:
    async with OpseraClient(sim.base_url, TOKEN, timeout=0.3) as client:
        pipeline_id = await idle_pipeline_id(client)
        sim.add_fault("POST", ACTIONS, status=200, body=b"{}", delay=1.0)
        with pytest.raises(OutcomeUnknownError) as caught:
            await client.run_pipelines([pipeline_id])
    assert caught.value.title == "Outcome unknown"
    assert "may have applied the run (no answer within 0.3 s)" in caught.value.message
    assert "check its status before trying again" in caught.value.message
    assert sent(sim, "POST", ACTIONS) == 1


async def test_timeout_on_a_read_is_a_timeout_and_retried(
    sim: SimServer, sleeps: RecordedSleep
) -> None:
    sim.add_fault("GET", LIST, status=200, body=b"{}", delay=1.0, times=3)
    async with OpseraClient(sim.base_url, TOKEN, timeout=0.3, sleep=sleeps) as client:
        with pytest.raises(RequestTimeoutError):
            await client.list_pipelines(page_size=50)
        assert len(await client.list_pipelines()) == 40
    assert sent(sim, "GET", LIST) == 4, "three tries, then one more read"
    assert len(sleeps.delays) == 2


async def test_a_server_that_echoes_the_token_does_not_leak_it(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.add_fault("GET", LIST, status=401, body=f'{{"message": "bad token {TOKEN}"}}'.encode())
    with pytest.raises(AuthenticationError) as caught:
        await client.list_pipelines()
    assert_no_token(caught.value)
    assert "***" in caught.value.message


async def test_server_text_in_errors_is_one_printable_line(
    client: OpseraClient, sim: SimServer
) -> None:
    sim.add_fault(
        "GET",
        LIST,
        status=400,
        body=b'{"message": "bad\\n\\u001b[2Jthing\\u0007 ' + b"x" * 500 + b'"}',
    )
    with pytest.raises(BadRequestError) as caught:
        await client.list_pipelines()
    message = caught.value.message
    assert "\x1b" not in message and "\n" not in message and "\x07" not in message
    assert len(message) <= 300


def test_client_repr_hides_the_token(sim: SimServer) -> None:
    client = OpseraClient(sim.base_url, TOKEN)
    assert TOKEN not in repr(client)
    assert TOKEN not in repr(client._http.auth)


async def test_a_long_token_echoed_near_the_cut_is_never_partly_shown(sim: SimServer) -> None:
    long_token = "eyJ" + "A" * 400
    padding = "x" * 250
    sim.add_fault(
        "GET", LIST, status=400, body=f'{{"message": "{padding} token={long_token}"}}'.encode()
    )
    async with OpseraClient(sim.base_url, long_token) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.list_pipelines()
    assert "eyJA" not in caught.value.message
    assert "AAAA" not in caught.value.message


async def test_a_long_token_in_a_per_target_message_is_redacted(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    message = "y" * 280 + " " + TOKEN
    body = {
        "status": "failed",
        "message": message,
        "results": [{"target": pipeline_id, "status": "failed", "message": message}],
    }
    sim.add_fault("POST", ACTIONS, status=200, body=json.dumps(body).encode())
    result = await client.run_pipelines([pipeline_id])
    for text in (result.message, result.outcomes[0].message):
        assert TOKEN[:6] not in text


async def test_an_unreadable_answer_to_an_action_says_it_may_have_been_applied(
    client: OpseraClient, sim: SimServer
) -> None:
    pipeline_id = await idle_pipeline_id(client)
    sim.add_fault("POST", ACTIONS, status=200, body=b"<html>ok</html>")
    with pytest.raises(OutcomeUnknownError, match="may have applied the run"):
        await client.run_pipelines([pipeline_id])
    assert sent(sim, "POST", ACTIONS) == 1


async def test_records_with_ids_that_could_carry_escapes_are_skipped(
    client: OpseraClient, sim: SimServer
) -> None:
    body = (
        b'{"data": [{"_id": "bad\\u001b]0;PWNED\\u0007"}, {"_id": "has space"}, {"_id": "good1"}]}'
    )
    sim.add_fault("GET", LIST, status=200, body=body)
    assert [p.id for p in await client.list_pipelines()] == ["good1"]


async def test_a_closed_client_sends_nothing_and_says_so_in_its_own_error(
    sim: SimServer,
) -> None:
    """An app ending (or switching profile) closes the client under a poll still running."""
    async with OpseraClient(sim.base_url, TOKEN) as client:
        pipeline_id = await idle_pipeline_id(client)
    before = len(sim.requests)
    with pytest.raises(ConnectionFailedError, match="the client was closed"):
        await client.list_pipelines()
    with pytest.raises(ConnectionFailedError, match="the client was closed"):
        await client.run_pipelines([pipeline_id])  # not "outcome unknown": it never left
    assert len(sim.requests) == before
