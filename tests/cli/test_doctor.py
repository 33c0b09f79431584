"""``opstui doctor`` against the simulator: healthy, a wrong token, a read-only token,
unreachable, and each shape a server may answer in. It never sends anything that changes
anything: its one action is the scope probe, a ``stop`` aimed at a pipeline that cannot exist."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest

from opstui.cli.scope import PROBE_ACTION, PROBE_ID
from opstui.sim.server import SimServer
from tests.cli.conftest import Cli, Result, mutations_sent
from tests.conftest import READONLY_TOKEN, TOKEN


def checks(result: Result) -> dict[str, tuple[str, str]]:
    """``name: (ok|warn|failed, the rest of the line)`` for each line doctor printed."""
    found = {}
    for line in result.out.splitlines():
        word, name, rest = line[:6].strip(), line[8:22].strip(), line[22:].strip()
        found[name] = (word, rest)
    return found


def only_the_probe(sim: SimServer) -> bool:
    """Whether the one request doctor sent that could change anything was the probe, once."""
    sent = [r.body for r in mutations_sent(sim)]
    return sent == [
        {"action": PROBE_ACTION, "type": "pipeline", "version": 1, "target": [PROBE_ID]}
    ]


def test_a_healthy_server_is_all_ok(connected: SimServer, cli: Cli) -> None:
    before = {pid: connected.world.get_pipeline(pid) for pid in connected.world.pipeline_ids()}
    result = cli("doctor")
    assert result.code == 0, result.err
    found = checks(result)
    for name in ("config", "server", "token", "tls", "reach", "auth", "scope", "paging"):
        assert found[name][0] == "ok", (name, found[name])
    assert found["list shape"] == ("ok", "{data: [...]}, count 40")
    assert found["paging"][1].startswith("honoured")
    assert found["status shape"][0] == "ok"
    assert "read from the environment variable OPSTUI_TOKEN" in found["token"][1]
    assert "loopback" in found["tls"][1]
    # a full token gets past the scope check: the probe's pipeline is not found
    assert "actions allowed" in found["scope"][1]
    assert "404 not found" in found["scope"][1]
    assert result.err == ""
    assert only_the_probe(connected)
    after = {pid: connected.world.get_pipeline(pid) for pid in connected.world.pipeline_ids()}
    assert after == before  # nothing changed
    lists = [r for r in connected.requests if r.path == "/api/v2/pipelines"]
    assert [r.query.get("pageSize") for r in lists] == ["1", "1"]
    assert [r.query.get("currentPage") for r in lists] == ["1", "2"]


def test_json_gives_one_object_per_check(connected: SimServer, cli: Cli) -> None:
    result = cli("doctor", "--json")
    assert result.code == 0
    lines = [json.loads(line) for line in result.out.splitlines()]
    assert {line["result"] for line in lines} == {"ok"}
    assert {"config", "token", "auth", "scope", "list shape"} <= {line["name"] for line in lines}


def test_a_wrong_token_is_exit_3_naming_its_source(
    connected: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSTUI_TOKEN", "not-the-token-0000")
    result = cli("doctor")
    assert result.code == 3
    found = checks(result)
    assert found["reach"][0] == "ok"
    assert found["auth"][0] == "failed"
    assert "OPSTUI_TOKEN" in found["auth"][1]
    assert "not-the-token-0000" not in result.out + result.err
    assert "scope" not in found
    assert result.err.startswith("opstui: error: doctor: auth failed")


def test_a_read_only_token_reads_and_exits_0(
    connected: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSTUI_TOKEN", READONLY_TOKEN)
    result = cli("doctor")
    assert result.code == 0
    found = checks(result)
    assert found["auth"][0] == "ok"
    # An opaque token does not say its scope: the probe finds out, changing nothing.
    word, rest = found["scope"]
    assert word == "warn"
    assert "reads allowed" in rest
    assert "the token is read-only" in rest
    assert "403" in rest and "every action will be refused" in rest
    assert "role" in rest  # what it cannot tell apart
    assert only_the_probe(connected)
    assert not any(r.applied for r in mutations_sent(connected))


def test_a_read_only_profile_sends_no_probe(
    connected: SimServer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli("doctor", "--read-only")
    assert result.code == 0
    word, rest = checks(result)["scope"]
    assert word == "ok"
    assert "read-only (--read-only)" in rest and "did not ask" in rest
    assert mutations_sent(connected) == []


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        # a server answering 200 with a failure for the id: it looked, so the scope allowed it
        (
            (200, '{"status": "failed", "message": "Pipeline not found"}'),
            ("ok", "actions allowed"),
        ),
        ((400, '{"status": "failed", "message": "bad id"}'), ("ok", "actions allowed")),
        ((500, "oops"), ("warn", "whether the token may act is not known")),
        ((200, '{"status": "success", "message": "stopped"}'), ("warn", "cannot exist")),
    ],
)
def test_what_other_answers_to_the_probe_say(
    connected: SimServer, cli: Cli, answer: tuple[int, str], said: tuple[str, str]
) -> None:
    status, body = answer
    connected.add_fault("POST", "/api/v2/actions", status=status, body=body, action=PROBE_ACTION)
    result = cli("doctor")
    assert result.code == 0, result.err
    word, rest = checks(result)["scope"]
    assert (word, said[1] in rest) == (said[0], True), rest
    assert len(mutations_sent(connected)) == 1  # sent once, never retried


def _jwt(claims: dict[str, object]) -> str:
    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJlLW5vdC1jaGVja2Vk"


def test_a_token_whose_scope_is_read_only_is_a_warning_and_exit_0(
    world: object, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    readonly = _jwt({"sub": "ada", "scope": "api-readonly"})
    with SimServer(world, token=TOKEN, readonly_token=readonly) as server:  # type: ignore[arg-type]
        monkeypatch.setenv("OPSTUI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPSTUI_TOKEN", readonly)
        result = cli("doctor")
        assert readonly not in result.out + result.err
        assert result.code == 0
        word, rest = checks(result)["scope"]
        assert word == "warn"
        assert "read-only (scope api-readonly)" in rest
        assert only_the_probe(server)
        # ... and it is what the server enforces: an action with it is refused (403).
        acted = cli("run", "--force", server.world.pipeline_ids()[0])
        assert acted.code == 3


def test_an_unreachable_server_is_exit_4(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, isolated_user: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("OPSTUI_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OPSTUI_TOKEN", TOKEN)
    result = cli("doctor", "--timeout", "2")
    assert result.code == 4
    word, rest = checks(result)["reach"]
    assert word == "failed"
    assert f"127.0.0.1:{port}" in rest


@pytest.mark.parametrize(
    ("shape", "said"), [("array", "a bare array, no count"), ("pipelines", "{pipelines: [...]}")]
)
def test_each_list_envelope_is_named(connected: SimServer, cli: Cli, shape: str, said: str) -> None:
    connected.options.list_shape = shape  # type: ignore[assignment]
    result = cli("doctor")
    assert result.code == 0
    word, rest = checks(result)["list shape"]
    assert word == "ok"
    assert rest.startswith(said)


def test_a_server_ignoring_paging_is_a_warning(connected: SimServer, cli: Cli) -> None:
    connected.options.ignore_paging = True
    result = cli("doctor")
    assert result.code == 0
    word, rest = checks(result)["paging"]
    assert (word, rest.split("  (")[0]) == ("warn", "ignored: page 2 is page 1 again")


def test_status_answers_without_documents_are_a_warning(connected: SimServer, cli: Cli) -> None:
    connected.options.status_shape = "v1"
    result = cli("doctor")
    assert result.code == 0
    word, rest = checks(result)["status shape"]
    assert word == "warn"
    assert "no documents (the v1 shape)" in rest


def test_an_html_list_answer_is_exit_4_and_says_what_came(connected: SimServer, cli: Cli) -> None:
    connected.add_fault("GET", "/api/v2/pipelines", status=200, body="<html>login</html>")
    result = cli("doctor")
    assert result.code == 4
    word, rest = checks(result)["list shape"]
    assert word == "failed"
    assert "an HTML page" in rest


def test_no_server_is_exit_2_with_the_setup_hint(cli: Cli) -> None:
    result = cli("doctor")
    assert result.code == 2
    word, rest = checks(result)["server"]
    assert (word, rest.split("  (")[0]) == ("failed", "no server configured")
    assert "opstui config init" in result.out
    assert "opstui --demo" in result.out


def test_a_bad_config_file_is_exit_2_naming_the_file(cli: Cli, isolated_user: Path) -> None:
    (isolated_user / "config.toml").write_text("[profiles.prod]\nbase_urll = 'x'\n")
    result = cli("doctor", "--profile", "prod")
    assert result.code == 2
    word, rest = checks(result)["config"]
    assert word == "failed"
    assert "config.toml:2" in rest


def test_doctor_adds_its_requests_to_the_users_trace(
    connected: SimServer, cli: Cli, tmp_path: Path
) -> None:
    trace = tmp_path / "trace.jsonl"
    result = cli("doctor", "--trace", str(trace))
    assert result.code == 0
    text = trace.read_text()
    assert TOKEN not in text
    assert len(text.splitlines()) == 4  # two list pages, one status and the scope probe
    assert checks(result)["list shape"][0] == "ok"
