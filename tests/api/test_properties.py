"""Properties of the client, whatever a server sends and whatever a caller passes.

- The response decoders (list, status, action answer, create answer, logs), given any bytes,
  status code and headers through httpx.MockTransport, return a model, a Listing or an
  ActionResult, or raise an OpseraError with a one-line message: never another exception.
- The request builder never puts a body on the wire outside the contract.

httpx.MockTransport here, not the simulator: these are answers no server sends on purpose.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opstui.api import (
    ACTIONS,
    ActionResult,
    Listing,
    OpseraClient,
    OpseraError,
    Pipeline,
    RequestRefusedError,
    RetryPolicy,
    clean_ids,
)
from opstui.api.models import is_valid_id
from tests.conftest import TOKEN

QUICK = settings(
    # Fixed examples (derandomized), so CI never flakes; OPSTUI_EXAMPLES=2000 searches deeper.
    max_examples=int(os.environ.get("OPSTUI_EXAMPLES", "100")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PIPELINE_ID = "5fd56d90979ee048ee660624"
ONCE = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0)

# -- what a server might send ----------------------------------------------------------------

lone_surrogates = st.sampled_from(["\ud83d", "\ude80", "\udfff", "\ud800"])
texts = st.lists(
    st.one_of(st.text(max_size=8), lone_surrogates, st.sampled_from([TOKEN, "\x1b[2J", "\n"])),
    max_size=4,
).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
ids = st.one_of(st.just(PIPELINE_ID), st.text(max_size=6), st.integers(), st.none())
last_steps = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["running", "stopped", "weird"]),
        "running": st.fixed_dictionaries(
            {}, optional={"step_id": ids, "paused": json_values, "status": texts}
        ),
        "success": st.fixed_dictionaries({}, optional={"step_id": ids}),
        "failed": st.fixed_dictionaries({}, optional={"step_id": ids}),
    },
)
documents = st.fixed_dictionaries(
    {"_id": ids},
    optional={
        "name": json_values,
        "state": st.one_of(st.sampled_from(["running", "paused", "failed", "success"]), texts),
        "type": json_values,
        "tags": json_values,
        "createdAt": json_values,
        "workflow": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {},
                optional={
                    "plan": st.lists(
                        st.fixed_dictionaries(
                            {"_id": ids},
                            optional={
                                "tool": st.fixed_dictionaries(
                                    {"tool_identifier": st.sampled_from(["approval", "servicenow"])}
                                )
                            },
                        ),
                        max_size=3,
                    ),
                    "last_step": st.one_of(last_steps, json_values),
                    "run_count": json_values,
                },
            ),
        ),
        "run_count": json_values,
    },
)
records = st.one_of(documents, json_values)
list_bodies = st.one_of(
    st.lists(records, max_size=5),
    st.fixed_dictionaries(
        {"data": st.one_of(st.lists(records, max_size=5), json_values)},
        optional={"count": json_values, "pipelines": json_values},
    ),
)
results = st.lists(
    st.fixed_dictionaries(
        {"target": st.one_of(st.just(PIPELINE_ID), json_values)},
        optional={"status": json_values, "message": json_values, "runCount": json_values},
    ),
    max_size=3,
)
action_bodies = st.fixed_dictionaries(
    {},
    optional={
        "status": st.one_of(st.sampled_from(["success", "failed", "executed"]), json_values),
        "message": json_values,
        "runCount": json_values,
        "results": st.one_of(results, json_values),
        "data": st.one_of(st.lists(records, max_size=3), records),
    },
)
create_bodies = st.fixed_dictionaries(
    {},
    optional={
        "status": st.one_of(st.sampled_from(["success", "failed"]), json_values),
        "message": json_values,
        "data": st.one_of(
            st.fixed_dictionaries({}, optional={"pipelineId": ids, "pipeline": records}),
            records,
            st.lists(records, max_size=2),
        ),
    },
)


def dumped(value: Any, ascii_only: bool) -> bytes:
    # ensure_ascii writes lone surrogates as \\ud83d escapes; without it they cannot be UTF-8.
    text = json.dumps(value, ensure_ascii=ascii_only)
    return text.encode("utf-8", errors="surrogatepass" if not ascii_only else "strict")


def bodies(shapes: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON of the shape (escaped, raw with invalid UTF-8, deeply nested, huge numbers, cut
    short) or any bytes at all."""
    as_json = st.builds(dumped, shapes, st.booleans())
    deep = st.integers(150, 3000).map(lambda n: b'{"data": [' + b"[" * n + b"]" * n + b"]}")
    huge = st.integers(4200, 6000).map(lambda n: b'{"data": [], "count": ' + b"7" * n + b"}")
    cut = st.tuples(as_json, st.integers(0, 200)).map(lambda pair: pair[0][: pair[1]])
    return st.one_of(as_json, as_json, deep, huge, cut, st.binary(max_size=200))


encodings = st.sampled_from(["", "identity", "gzip", "deflate", "br", "zstd", "gzip, gzip", "x"])


Answer = tuple[int, dict[str, str], bytes]
"""Status, headers and body (an httpx.Response would decode its body when made)."""


@st.composite
def answers(draw: st.DrawFn, shapes: st.SearchStrategy[Any]) -> Answer:
    """Any status, headers and body; sometimes really compressed, sometimes lying about it."""
    status = draw(st.sampled_from([200, 201, 204, 302, 400, 401, 404, 409, 429, 500, 503, 599]))
    body = draw(bodies(shapes))
    encoding = draw(encodings)
    if draw(st.booleans()):
        if encoding == "gzip":
            body = gzip.compress(body)
        elif encoding == "deflate":
            body = zlib.compress(body)
    headers: dict[str, str] = {}
    if encoding:
        headers["Content-Encoding"] = encoding
    content_type = draw(
        st.sampled_from(["", "application/json", "text/html", "application/json; charset=latin1"])
    )
    if content_type:
        headers["Content-Type"] = content_type
    if draw(st.booleans()):
        headers["Content-Length"] = str(draw(st.integers(0, 400)))
    if status == 429 or draw(st.booleans()):
        headers["Retry-After"] = draw(
            st.sampled_from(["1", "-5", "nan", "inf", "1e999", "soon", "Wed, 21 Oct 2015 07:28:00"])
        )
    return status, headers, body


Call = Callable[[OpseraClient], Awaitable[Any]]


def outcome_of(answer: Answer, call: Call) -> Any:
    """What ``call`` returns or raises when every request is answered with ``answer``."""
    status, headers, body = answer

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))

    async def nap(seconds: float) -> None:
        return None

    async def run() -> Any:
        transport = httpx.MockTransport(handler)
        async with OpseraClient(
            "http://opsera.test", TOKEN, transport=transport, retry=ONCE, sleep=nap
        ) as client:
            try:
                return await call(client)
            except OpseraError as error:
                return error

    return asyncio.run(run())


def assert_closed(outcome: Any, *expected: type) -> None:
    if isinstance(outcome, OpseraError):
        assert outcome.message and "\n" not in outcome.message
        assert outcome.message.isprintable()
        assert TOKEN not in outcome.message
        return
    assert isinstance(outcome, expected), type(outcome)


@QUICK
@given(answers(list_bodies))
def test_any_list_answer_is_a_listing_or_an_opsera_error(response: Answer) -> None:
    outcome = outcome_of(response, lambda c: c.list_pipelines(page_size=3))
    assert_closed(outcome, Listing)
    if isinstance(outcome, Listing):
        assert all(isinstance(p, Pipeline) and is_valid_id(p.id) for p in outcome)
        assert all(
            isinstance(p.status.value, str) and isinstance(p.step_text, str) for p in outcome
        )
        assert len({p.id for p in outcome}) == len(outcome)
        for pipeline in outcome:
            assert "\ud83d" not in pipeline.name


@QUICK
@given(answers(action_bodies))
def test_any_status_answer_is_a_listing_or_an_opsera_error(response: Answer) -> None:
    outcome = outcome_of(response, lambda c: c.pipeline_status([PIPELINE_ID]))
    assert_closed(outcome, Listing)


@QUICK
@given(answers(action_bodies))
def test_any_action_answer_is_a_result_or_an_opsera_error(response: Answer) -> None:
    outcome = outcome_of(response, lambda c: c.reject_pipelines([PIPELINE_ID], "no"))
    assert_closed(outcome, ActionResult)
    if isinstance(outcome, ActionResult):
        assert [o.target for o in outcome.outcomes] == [PIPELINE_ID]
        assert all(TOKEN not in o.message and "\n" not in o.message for o in outcome.outcomes)


@QUICK
@given(answers(create_bodies))
def test_any_create_answer_is_a_pipeline_or_an_opsera_error(response: Answer) -> None:
    outcome = outcome_of(response, lambda c: c.create_pipeline({"name": "new"}))
    assert_closed(outcome, Pipeline)


@QUICK
@given(answers(st.one_of(action_bodies, list_bodies)))
def test_get_pipeline_is_a_pipeline_or_an_opsera_error(response: Answer) -> None:
    outcome = outcome_of(response, lambda c: c.get_pipeline(PIPELINE_ID))
    assert_closed(outcome, Pipeline)
    if isinstance(outcome, Pipeline):
        assert outcome.id == PIPELINE_ID


@QUICK
@given(answers(list_bodies))
def test_any_log_answer_is_a_listing_or_an_opsera_error(response: Answer) -> None:
    outcome = outcome_of(response, lambda c: c.pipeline_logs(PIPELINE_ID))
    assert_closed(outcome, Listing)


# -- what a caller might pass: the body on the wire stays inside the contract ----------------

id_texts = st.one_of(
    st.just(PIPELINE_ID),
    st.sampled_from(["", "  ", "a b", "ok-1", " padded ", "\x1b]0;x", "x\u200f"]),
    st.text(max_size=6),
)
targets = st.one_of(st.none(), id_texts, st.lists(id_texts, max_size=4))
settings_values = st.one_of(
    st.none(), st.dictionaries(st.text(max_size=5), json_values, max_size=3), json_values
)
messages = st.one_of(st.none(), st.sampled_from(["", "   ", " a reason "]), st.text(max_size=6))
actions = st.one_of(st.sampled_from(sorted(ACTIONS)), st.sampled_from(["clone", "", "RUN"]))
kinds = st.sampled_from(["pipeline", "task", "job"])


def assert_in_contract(body: dict[str, Any]) -> None:
    action, kind = body["action"], body["type"]
    assert kind in ACTIONS[action]
    assert body["version"] == 1 and type(body["version"]) is int
    allowed = {"action", "type", "version", "target", "settings", "message"}
    assert set(body) <= allowed
    if action == "create":
        assert "target" not in body
        assert isinstance(body["settings"], dict) and body["settings"]
    elif action == "update":
        assert isinstance(body["target"], str) and is_valid_id(body["target"])
        assert isinstance(body["settings"], dict) and body["settings"]
    else:
        target = body["target"]
        assert isinstance(target, list) and target
        assert all(isinstance(t, str) and is_valid_id(t) for t in target)
        assert len(set(target)) == len(target)
        assert "settings" not in body
    if action == "reject":
        assert isinstance(body["message"], str) and body["message"].strip() == body["message"]
        assert body["message"]
    else:
        assert "message" not in body


@QUICK
@given(actions, kinds, targets, settings_values, messages)
def test_the_request_builder_never_sends_a_body_outside_the_contract(
    action: Any, kind: Any, target: Any, settings: Any, message: Any
) -> None:
    sent: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"status": "success"})

    async def run() -> Any:
        async with OpseraClient(
            "http://opsera.test", TOKEN, transport=httpx.MockTransport(handler)
        ) as client:
            try:
                return await client.action(action, kind, target, settings=settings, message=message)
            except RequestRefusedError as error:
                return error

    outcome = asyncio.run(run())
    if isinstance(outcome, RequestRefusedError):
        assert sent == [], "a refused request sends nothing"
        assert "\n" not in outcome.message
        return
    [body] = sent
    assert_in_contract(body)


@QUICK
@given(st.lists(id_texts, max_size=30))
def test_clean_ids_keeps_the_first_of_each_in_order(raw: list[str]) -> None:
    try:
        cleaned = clean_ids(raw, "pipeline")
    except RequestRefusedError:
        assert not raw or any(not is_valid_id(r.strip()) for r in raw)
        return
    expected = list(dict.fromkeys(r.strip() for r in raw))
    assert cleaned == expected
