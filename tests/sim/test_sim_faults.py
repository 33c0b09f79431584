"""Faults on demand, as a client on loopback meets them: each kind, before or after the world
applied the request, seeded plans, the admin endpoints, and a clean stop with a request hanging."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from opstui.sim import ManualClock, SimServer, World
from opstui.sim.damage import HUGE_BYTES
from opstui.sim.faults import FAILURE_KINDS, parse_faults

TOKEN = "test-token-c0ffee"
READONLY = "readonly-token-beef"
ACTIONS = "/api/v2/actions"
PIPELINES = "/api/v2/pipelines"
HANG_TIMEOUT = 0.3
"""How long a client waits for an answer that never comes (the only wait in these tests)."""

MakeClient = Callable[..., httpx.Client]
Send = Callable[[], httpx.Response]


def act(client: httpx.Client, action: str, targets: Any, **extra: Any) -> httpx.Response:
    body = {"action": action, "type": "pipeline", "version": 1, "target": targets, **extra}
    return client.post(ACTIONS, json=body, timeout=HANG_TIMEOUT)


def runnable(world: World) -> str:
    """A pipeline a ``run`` starts."""
    for doc in world.list_pipelines(status="stopped,success,failed", active=True).items:
        if any(step.get("active") is not False for step in doc["workflow"]["plan"]):
            return str(doc["_id"])
    raise AssertionError("no idle active pipeline")


def run_count(world: World, pipeline_id: str) -> int:
    doc = world.get_pipeline(pipeline_id)
    assert doc is not None
    return int(doc["workflow"]["run_count"])


def observe(kind: str, send: Send) -> None:
    """Send a request and check the client meets ``kind`` as it should."""
    if kind == "hang":
        with pytest.raises(httpx.ReadTimeout):
            send()
        return
    if kind == "reset":
        with pytest.raises(httpx.ReadError):
            send()
        return
    if kind == "truncate":
        with pytest.raises(
            httpx.RemoteProtocolError, match="without sending complete message body"
        ):
            send()
        return
    if kind == "gzip-lie":
        with pytest.raises(httpx.DecodingError):
            send()
        return
    response = send()
    if kind == "malformed":
        assert response.status_code == 200
        with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
            json.loads(response.content)
    elif kind == "empty":
        assert (response.status_code, response.content) == (200, b"")
    elif kind == "5xx":
        assert response.status_code in (500, 502, 503, 504)
        assert response.json()["status"] == "failed"
    elif kind == "429":
        assert response.status_code == 429
        assert int(response.headers["retry-after"]) >= 1
    elif kind == "html":
        assert response.status_code >= 500
        assert response.headers["content-type"].startswith("text/html")
        assert response.text.lstrip().startswith("<html>")
    elif kind == "status":
        assert (response.status_code, response.text) == (503, "down for maintenance")
    else:
        raise AssertionError(f"no check for {kind}")


CONNECTION_KINDS = ["hang", "reset", "truncate", "malformed", "empty", "gzip-lie"]
ERROR_KINDS = ["status", "5xx", "429", "html"]


def one_shot(sim: SimServer, kind: str, when: str, action: str = "run") -> None:
    extra: dict[str, Any] = (
        {"status": 503, "body": "down for maintenance"} if kind == "status" else {}
    )
    sim.add_fault("POST", ACTIONS, kind=kind, when=when, action=action, **extra)  # type: ignore[arg-type]


# -- before and after ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CONNECTION_KINDS + ERROR_KINDS)
def test_a_fault_after_applies_the_action_exactly_once(
    kind: str, sim: SimServer, client: httpx.Client, world: World
) -> None:
    target = runnable(world)
    runs = run_count(world, target)
    one_shot(sim, kind, "after")
    observe(kind, lambda: act(client, "run", [target]))
    assert run_count(world, target) == runs + 1, "the world applied the run"
    doc = world.get_pipeline(target)
    assert doc is not None
    assert doc["state"] in ("running", "paused")
    logged = [(r.action, r.fault, r.applied) for r in sim.requests]
    assert logged == [("run", kind, True)], "one request, struck after it was applied"
    (counted,) = sim.request_summary()["targets"]
    assert counted == {
        "action": "run",
        "type": "pipeline",
        "target": target,
        "received": 1,
        "applied": 1,
        "faults": {kind: 1},
    }


@pytest.mark.parametrize("kind", CONNECTION_KINDS + ERROR_KINDS)
def test_a_fault_before_applies_nothing(
    kind: str, sim: SimServer, client: httpx.Client, world: World
) -> None:
    target = runnable(world)
    before = world.get_pipeline(target)
    one_shot(sim, kind, "before")
    observe(kind, lambda: act(client, "run", [target]))
    assert world.get_pipeline(target) == before, "nothing was applied"
    assert [(r.action, r.fault, r.applied) for r in sim.requests] == [("run", kind, False)]
    answer = act(client, "run", [target])
    assert answer.json()["results"][0]["status"] == "executed", "the fault was used up"
    assert run_count(world, target) == run_count_of(before) + 1


def run_count_of(doc: dict[str, Any] | None) -> int:
    assert doc is not None
    return int(doc["workflow"]["run_count"])


def test_a_one_shot_for_one_action_lets_the_others_through(
    sim: SimServer, client: httpx.Client, world: World
) -> None:
    target = runnable(world)
    sim.add_fault("POST", ACTIONS, kind="reset", when="after", action="run")
    assert act(client, "status", [target]).status_code == 200, "the status re-check is not struck"
    with pytest.raises(httpx.ReadError):
        act(client, "run", [target])
    assert [(r.action, r.fault) for r in sim.requests] == [("status", None), ("run", "reset")]


def test_a_reset_sends_the_headers_then_resets_the_connection(sim: SimServer, world: World) -> None:
    sim.add_fault("GET", PIPELINES, kind="reset", when="after")
    head, error = raw_get(sim, PIPELINES)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: " in head.lower()
    assert isinstance(error, ConnectionResetError), "a TCP reset, not an orderly close"


def test_a_truncated_answer_promises_more_than_it_sends(sim: SimServer) -> None:
    sim.add_fault("GET", PIPELINES, kind="truncate")
    head, error = raw_get(sim, PIPELINES)
    assert error is None, "an orderly close"
    headers, _, body = head.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in headers.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    assert 0 < len(body) < length


def raw_get(sim: SimServer, path: str) -> tuple[bytes, OSError | None]:
    """Everything a raw socket receives for one GET, and the error that ended it (None: EOF)."""
    host, port = sim.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        request = f"GET {path} HTTP/1.1\r\nHost: sim\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
        sock.sendall(request.encode())
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError as error:
                return received, error
            if not chunk:
                return received, None
            received += chunk


def test_a_gzip_lie_is_plain_json_under_a_gzip_header(sim: SimServer, client: httpx.Client) -> None:
    sim.add_fault("GET", PIPELINES, kind="gzip-lie")
    with client.stream("GET", PIPELINES) as response:
        assert response.headers["content-encoding"] == "gzip"
        raw = b"".join(response.iter_raw())
    assert json.loads(raw)["count"] == 40


# -- the plan over HTTP ----------------------------------------------------------------------------


def plain(client: httpx.Client, path: str = PIPELINES) -> Any:
    response = client.get(path, params={"pageSize": 1000})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("kind", [k for k in FAILURE_KINDS if k not in ("wrong-shape", "huge")])
def test_each_kind_of_the_plan_strikes_a_read(
    kind: str, sim: SimServer, client: httpx.Client
) -> None:
    sim.fault_plan = parse_faults(f"{kind}=1")
    observe(kind, lambda: client.get(PIPELINES, timeout=HANG_TIMEOUT))
    assert sim.requests[-1].fault == kind


def test_wrong_shapes_are_valid_json_of_another_shape(sim: SimServer, client: httpx.Client) -> None:
    clean = plain(client)
    sim.fault_plan = parse_faults("wrong-shape=1,seed=4")
    shapes = [plain(client) for _ in range(12)]
    assert all(shape != clean for shape in shapes)
    assert len({json.dumps(shape, sort_keys=True) for shape in shapes}) > 3, "several ways"
    assert all(r.fault == "wrong-shape" for r in sim.requests[1:])


def test_huge_answers_are_several_megabytes_and_still_valid(
    sim: SimServer, client: httpx.Client
) -> None:
    clean = plain(client)
    sim.fault_plan = parse_faults("huge=1")
    response = client.get(PIPELINES, params={"pageSize": 1000})
    assert len(response.content) >= HUGE_BYTES
    body = response.json()
    assert body["count"] == clean["count"]
    assert [doc["_id"] for doc in body["data"]] == [doc["_id"] for doc in clean["data"]]


def test_v1_answers_for_actions(sim: SimServer, client: httpx.Client, world: World) -> None:
    target = runnable(world)
    sim.fault_plan = parse_faults("v1=1")
    assert plain(client)["count"] == 40, "lists are left alone"
    answer = act(client, "run", [target]).json()
    assert set(answer) == {"status", "message", "runCount"}
    assert (answer["status"], answer["runCount"]) == ("executed", run_count(world, target))
    status = act(client, "status", [target]).json()
    assert set(status) == {"status", "message"}, "a status answer without documents"
    assert [r.fault for r in sim.requests] == [None, "v1", "v1"]


def test_a_plan_is_deterministic_by_seed(sim: SimServer, client: httpx.Client) -> None:
    spec = "5xx=0.2,429=0.1,html=0.1,empty=0.1,malformed=0.1,wrong-shape=0.1,seed=3"

    def faults_met(spec: str) -> list[tuple[str | None, int]]:
        sim.fault_plan = parse_faults(spec)
        sim.clear_requests()
        codes = [client.get(PIPELINES if i % 3 else "/api/v2/tasks").status_code for i in range(30)]
        return list(zip([r.fault for r in sim.requests], codes, strict=True))

    first = faults_met(spec)
    assert faults_met(spec) == first
    assert faults_met(spec.replace("seed=3", "seed=4")) != first
    assert {fault for fault, _ in first} > {None, "5xx"}


def test_latency_delays_every_request(sim: SimServer, client: httpx.Client) -> None:
    sim.fault_plan = parse_faults("latency=100ms,jitter=50ms")
    began = time.perf_counter()
    assert client.get("/api/v2/tasks").status_code == 200
    assert time.perf_counter() - began >= 0.1
    assert sim.requests[-1].fault is None, "a delay is not a fault"


# -- the admin endpoints ---------------------------------------------------------------------------


def test_admin_endpoints_need_the_full_token(make_client: MakeClient) -> None:
    for path in ("/_sim/faults", "/_sim/requests/summary"):
        assert make_client(None).get(path).status_code == 401
        assert make_client("wrong").get(path).status_code == 401
        refused = make_client(READONLY).get(path)
        assert refused.status_code == 403
        assert "full token" in refused.json()["message"]
    assert make_client(READONLY).put("/_sim/faults", json={"spec": "5xx=1"}).status_code == 403


def test_faults_can_be_changed_while_running(sim: SimServer, client: httpx.Client) -> None:
    shown = client.get("/_sim/faults").json()
    assert (shown["spec"], shown["pending"]) == ("", [])
    changed = client.put("/_sim/faults", json={"spec": "5xx = 1, seed=4"})
    assert changed.status_code == 200
    assert changed.json()["spec"] == "5xx=1,seed=4"
    assert changed.json()["plan"]["rates"]["5xx"] == 1
    assert sim.fault_plan == parse_faults("5xx=1,seed=4")
    assert client.get(PIPELINES).status_code >= 500
    assert client.get("/_sim/faults").status_code == 200, "the admin endpoints are never struck"
    assert [r.path for r in sim.requests] == [PIPELINES], "nor logged"
    cleared = client.put("/_sim/faults", json={"spec": ""})
    assert cleared.json()["spec"] == ""
    assert client.get(PIPELINES).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"spec": "5xx=2"}, "faults: 5xx must be a rate between 0 and 1"),
        ({"spec": "boom=1"}, "faults: unknown key 'boom'"),
        ({"rates": "5xx=1"}, 'send {"spec": "..."}'),
        ({"spec": 5}, 'send {"spec": "..."}'),
        (None, 'send {"spec": "..."}'),
    ],
)
def test_a_bad_spec_is_refused_and_changes_nothing(
    body: Any, message: str, sim: SimServer, client: httpx.Client
) -> None:
    sim.fault_plan = parse_faults("latency=1ms")
    refused = client.put("/_sim/faults", json=body) if body else client.put("/_sim/faults")
    assert refused.status_code == 400
    assert refused.json()["message"].startswith(message)
    assert sim.fault_plan == parse_faults("latency=1ms")


def test_pending_one_shots_are_shown_and_delete_clears_everything(
    sim: SimServer, client: httpx.Client
) -> None:
    sim.add_fault("POST", ACTIONS, kind="reset", when="after", action="approve", times=2)
    client.put("/_sim/faults", json={"spec": "html=0.5"})
    (pending,) = client.get("/_sim/faults").json()["pending"]
    assert pending == {
        "method": "POST",
        "path": ACTIONS,
        "action": "approve",
        "kind": "reset",
        "when": "after",
        "status": 500,
        "delay": 0.0,
        "remaining": 2,
    }
    assert client.delete("/_sim/faults").json() == {
        "spec": "",
        "plan": parse_faults("").as_json(),
        "pending": [],
    }
    assert client.get("/_sim/bogus").status_code == 404
    assert client.post("/_sim/faults").status_code == 405


def test_the_summary_counts_requests_actions_and_faults(
    sim: SimServer, client: httpx.Client, world: World
) -> None:
    target = runnable(world)
    sim.add_fault("POST", ACTIONS, kind="reset", when="after", action="run")
    with pytest.raises(httpx.ReadError):
        act(client, "run", [target])
    act(client, "status", [target])
    act(client, "status", [target])
    client.get(PIPELINES)
    summary = client.get("/_sim/requests/summary").json()
    assert summary == sim.request_summary()
    assert (summary["received"], summary["applied"], summary["faults"]) == (4, 4, {"reset": 1})
    counts = {(e["method"], e["path"], e["action"]): e["received"] for e in summary["endpoints"]}
    assert counts == {
        ("POST", ACTIONS, "run"): 1,
        ("POST", ACTIONS, "status"): 2,
        ("GET", PIPELINES, None): 1,
    }
    assert [(t["action"], t["target"], t["received"]) for t in summary["targets"]] == [
        ("run", target, 1)
    ], "status reads are not actions"
    assert client.delete("/_sim/requests").status_code == 200
    assert client.get("/_sim/requests/summary").json()["received"] == 0
    assert sim.requests == []


def test_a_bounded_log_keeps_the_newest_requests_and_counts_them_all(
    sim: SimServer, client: httpx.Client
) -> None:
    sim.state.max_requests = 10
    try:
        for page in range(1, 26):
            client.get(PIPELINES, params={"currentPage": page, "pageSize": 1})
    finally:
        sim.state.max_requests = None
    assert 1 <= len(sim.requests) <= 10
    assert sim.requests[-1].query["currentPage"] == "25"
    assert sim.request_summary()["received"] == 25


# -- stopping with a request hanging ---------------------------------------------------------------


def test_a_hanging_request_ends_when_the_server_stops(ssl_context: ssl.SSLContext) -> None:
    def ours() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "opstui-sim"}

    already = ours()
    world = World(seed=1, pipelines=3, tasks=1, clock=ManualClock(), autorun=False)
    server = SimServer(world, token=TOKEN, faults=parse_faults("hang=1")).start()
    outcome: list[BaseException | httpx.Response] = []

    def wait_forever() -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            outcome.append(httpx.get(server.base_url + PIPELINES, headers=headers, timeout=60))
        except httpx.HTTPError as error:
            outcome.append(error)

    waiting = threading.Thread(target=wait_forever)
    waiting.start()
    try:
        deadline = time.monotonic() + 10
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [r.fault for r in server.requests] == ["hang"]
    finally:
        server.stop()
    waiting.join(timeout=10)
    assert not waiting.is_alive(), "the client was let go"
    (result,) = outcome
    assert isinstance(result, httpx.RemoteProtocolError), "dropped without an answer, not a 500"
    assert ours() == already, "the server thread ended"
