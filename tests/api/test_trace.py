"""``--trace``: every exchange as a JSON line, private, with the token nowhere in it."""

from __future__ import annotations

import gzip
import json
import socket
import stat
from pathlib import Path

import httpx
import pytest

from opstui.api import OpseraClient, OpseraError
from opstui.api.trace import TracingTransport
from opstui.sim.server import SimServer
from tests.conftest import TOKEN


def traced(sim_url: str, path: Path) -> OpseraClient:
    transport = TracingTransport(httpx.AsyncHTTPTransport(), path, secrets=[TOKEN])
    return OpseraClient(sim_url, TOKEN, transport=transport, timeout=5)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_every_exchange_is_a_private_json_line_without_the_token(
    sim: SimServer, tmp_path: Path
) -> None:
    path = tmp_path / "trace" / "opstui.jsonl"
    ids = sim.world.pipeline_ids()[:2]
    async with traced(sim.base_url, path) as client:
        await client.list_pipelines()
        await client.pipeline_status(ids)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert TOKEN not in text
    recorded = lines(path)
    assert [line["method"] for line in recorded][-1] == "POST"
    first = recorded[0]
    assert first["status"] == 200
    assert isinstance(first["duration_ms"], float)
    assert first["request_headers"]["authorization"] == "***"  # type: ignore[index]
    assert "/api/v2/pipelines" in str(first["url"])
    assert json.loads(str(recorded[-1]["request_body"]))["target"] == ids
    assert '"data"' in str(recorded[-1]["response_body"])


async def test_a_server_echoing_the_token_is_redacted_and_raw_bytes_are_kept(
    sim: SimServer, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    echo = json.dumps({"status": "failed", "message": f"bad token {TOKEN}"})
    sim.add_fault("GET", "/api/v2/pipelines", status=500, body=echo, times=3)
    async with traced(sim.base_url, path) as client:
        with pytest.raises(OpseraError):
            await client.list_pipelines()
        sim.clear_faults()
        sim.add_fault(
            "GET",
            "/api/v2/pipelines",
            status=200,
            body=b"not gzip at all",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            times=3,
        )
        with pytest.raises(OpseraError):
            await client.list_pipelines()
    text = path.read_text()
    assert TOKEN not in text
    assert "bad token ***" in text
    assert any(line["response_body"] == "not gzip at all" for line in lines(path))


async def test_a_real_gzip_body_is_recorded_as_sent_and_still_decoded(
    sim: SimServer, tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    body = gzip.compress(json.dumps({"data": [], "count": 0}).encode())
    sim.add_fault(
        "GET", "/api/v2/pipelines", status=200, body=body, headers={"Content-Encoding": "gzip"}
    )
    async with traced(sim.base_url, path) as client:
        assert await client.list_pipelines() == []
    assert lines(path)[0]["status"] == 200


async def test_a_failed_connection_is_recorded_with_its_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "t.jsonl"
    async with traced(f"http://127.0.0.1:{port}", path) as client:
        with pytest.raises(OpseraError):
            await client.list_pipelines()
    recorded = lines(path)
    assert recorded and all("ConnectError" in str(line["error"]) for line in recorded)


async def test_the_client_traces_when_asked_and_refuses_a_bad_ca_bundle(
    sim: SimServer, tmp_path: Path
) -> None:
    path = tmp_path / "client.jsonl"
    async with OpseraClient(sim.base_url, TOKEN, trace=path) as client:
        await client.list_pipelines()
    assert lines(path) and TOKEN not in path.read_text()
    with pytest.raises(OpseraError, match="CA bundle"):
        OpseraClient(sim.base_url, TOKEN, verify=str(tmp_path / "missing.pem"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OpseraError, match="cannot write the trace"):
        OpseraClient(sim.base_url, TOKEN, trace=blocker / "trace.jsonl")
