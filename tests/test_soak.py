"""The soak (tools/soak): its gate and checks, and a 5-second soak of the real app and CLI.

``make soak`` runs it for 60 s and ``make soak-long`` for 10 minutes; here it runs 5 s and only
its invariants are asserted (no crash, nothing sent twice, every audit line whole and in its
place, no token shown), never its speed or its memory, which a loaded machine changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opstui.api import OpseraClient, OpseraError
from opstui.sim.clock import ManualClock
from opstui.sim.server import SimServer
from opstui.sim.world import World
from tests.conftest import TOKEN
from tools.soak import checks
from tools.soak.checks import AppRun
from tools.soak.clis import Invocation
from tools.soak.faults import FaultMix
from tools.soak.gateway import Gateway, Seen, token_for
from tools.soak.run import SoakConfig, render, run_soak

SECRET = "s3cr3t"


def idle(world: World) -> str:
    """A pipeline a run would start."""
    for pipeline_id in world.pipeline_ids():
        doc = world.get_pipeline(pipeline_id)
        if doc is not None and doc.get("state") == "success":
            return pipeline_id
    raise AssertionError("the seeded world has no finished pipeline")


def runs(world: World, pipeline_id: str) -> int:
    doc = world.get_pipeline(pipeline_id)
    assert doc is not None
    return int(doc["workflow"]["run_count"])


def gated(faults: FaultMix | None) -> tuple[SimServer, Gateway]:
    world = World(seed=7, pipelines=12, tasks=0, clock=ManualClock())
    server = SimServer(world, token=TOKEN)
    gateway = Gateway(server.app, sim_token=TOKEN, secret=SECRET, faults=faults, hang=0.5)
    server.app = gateway  # type: ignore[assignment]
    return server, gateway


@pytest.fixture
def gate() -> Iterator[tuple[SimServer, Gateway]]:
    server, gateway = gated(None)
    with server:
        yield server, gateway


async def test_the_gate_names_each_sender_and_what_it_asked(
    gate: tuple[SimServer, Gateway],
) -> None:
    server, gateway = gate
    target = server.world.pipeline_ids()[0]
    async with OpseraClient(server.base_url, token_for("cli01-0003", SECRET)) as client:
        await client.pipeline_status([target])
        await client.action("run", "pipeline", [target])
        wrong = httpx.AsyncClient(headers={"Authorization": f"Bearer {token_for('x', 'wrong')}"})
        async with wrong:
            refused = await wrong.get(server.base_url + "/api/v2/pipelines")
    assert refused.status_code == 401
    assert [(s.who, s.action, s.targets, s.mutating) for s in gateway.seen] == [
        ("cli01-0003", "status", (target,), False),
        ("cli01-0003", "run", (target,), True),
        ("?", "list", (), False),
    ]


def test_a_fault_after_applies_the_action_and_spoils_its_answer() -> None:
    server, gateway = gated(FaultMix(1.0, kinds=["malformed-json"], after=1.0))
    with server:
        target = idle(server.world)
        before = runs(server.world, target)
        answer = httpx.post(
            server.base_url + "/api/v2/actions",
            json={"action": "run", "type": "pipeline", "version": 1, "target": [target]},
            headers={"Authorization": f"Bearer {token_for('app', SECRET)}"},
        )
        after = runs(server.world, target)
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    assert after == before + 1
    assert gateway.struck == {"malformed-json/after": 1}


def test_a_fault_before_answers_instead_of_the_simulator() -> None:
    server, gateway = gated(FaultMix(1.0, kinds=["503-retry-after"], after=0.0))
    with server:
        target = idle(server.world)
        before = runs(server.world, target)
        answer = httpx.post(
            server.base_url + "/api/v2/actions",
            json={"action": "run", "type": "pipeline", "version": 1, "target": [target]},
            headers={"Authorization": f"Bearer {token_for('app', SECRET)}"},
        )
        assert runs(server.world, target) == before
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "1")
    assert gateway.struck == {"503-retry-after/before": 1}


async def test_the_client_never_sends_an_action_twice_through_the_gate() -> None:
    server, gateway = gated(FaultMix(1.0, kinds=["500"], after=0.0))
    with server:
        target = server.world.pipeline_ids()[0]
        async with OpseraClient(server.base_url, token_for("cli00-0000", SECRET)) as client:
            with pytest.raises(OpseraError):
                await client.action("run", "pipeline", [target])
    invocation = Invocation("cli00-0000", 0, ["run", target], "run", [target], True, None)
    check = checks.sent_once(_app(sent=0), [invocation], gateway.seen)
    assert check.ok, check.problems


def _app(sent: int) -> AppRun:
    return AppRun(0, "", {"sent": sent, "rss_end": 0}, [])


def _seen(who: str, action: str = "run", mutating: bool = True) -> Seen:
    return Seen(0.0, who, "POST", "/api/v2/actions", action, ("a",), mutating, None)


def test_a_second_send_or_a_forced_action_never_sent_is_found() -> None:
    forced = Invocation("cli00-0000", 0, ["run", "a", "--force"], "run", ["a"], True, None)
    forced.exit_code = 1
    twice = checks.sent_once(_app(0), [forced], [_seen("cli00-0000"), _seen("cli00-0000")])
    never = checks.sent_once(_app(0), [forced], [_seen("cli00-0000", "status", False)])
    app = checks.sent_once(_app(1), [], [_seen("app"), _seen("app")])
    once = checks.sent_once(_app(1), [forced], [_seen("cli00-0000"), _seen("app")])
    assert twice.ok is False and "sent it 2 times" in twice.problems[0]
    assert never.ok is False and "sent nothing" in never.problems[0]
    assert app.ok is False and "2 mutating requests for 1" in app.problems[0]
    assert once.ok is True


def _line(action: str, target: str, source: str = "cli") -> bytes:
    entry = {
        "action": action,
        "type": "pipeline",
        "targets": [{"id": target, "name": ""}],
        "server": "127.0.0.1",
        "source": source,
        "outcomes": [],
        "time": "2026-01-01T00:00:00+00:00",
    }
    return json.dumps(entry).encode() + b"\n"


def test_a_torn_lost_or_misplaced_audit_line_is_found() -> None:
    first = Invocation("cli00-0000", 0, [], "run", ["a"], False, None, exit_code=0)
    second = Invocation("cli00-0001", 0, [], "stop", ["b"], False, None, exit_code=1)
    pools = [["a", "b"]]
    whole = _line("run", "a") + _line("stop", "b") + _line("approve", "z", "tui")
    torn = _line("run", "a")[:30] + _line("stop", "b") + _line("run", "a")[30:]
    swapped = _line("stop", "b") + _line("run", "a") + _line("approve", "z", "tui")
    lost = _line("run", "a") + _line("approve", "z", "tui")

    def problems(raw: bytes) -> list[str]:
        check, _ = checks.audit(_app(1), [first, second], pools, raw, SECRET)
        return check.problems

    assert problems(whole) == []
    assert any("not JSON" in p for p in problems(torn))
    assert any("lost or out of order" in p for p in problems(swapped))
    assert any("should be cli00-0001" in p for p in problems(lost))
    assert any("does not end with a newline" in p for p in problems(whole[:-1]))
    assert any("a token" in p for p in problems(whole + SECRET.encode() + b"\n"))


def test_five_seconds_of_soak_keep_the_invariants(tmp_path: Path) -> None:
    # 80 pipelines rather than 200: the same churn for the app at less CPU on a shared runner.
    result = run_soak(SoakConfig(seconds=5, pipelines=80, out=tmp_path / "soak"))
    report = render(result)
    judged = {check.name: check for check in result.checks}
    for name in (
        "no crash",
        "nothing sent twice",
        "no audit line lost or torn",
        "token never shown",
        "simulator healthy",
    ):
        assert judged[name].ok, report
    figures = result.figures
    assert figures["cli_invocations"] >= 10, report
    assert figures["requests_app"] > 0, report
    assert figures["faults"] > 0, report
    assert (tmp_path / "soak" / "soak.json").exists()


def test_the_server_log_leaves_out_a_hang_the_shutdown_cancelled_and_keeps_real_errors() -> None:
    import asyncio
    import logging

    from tools.soak.run import _ServerLog

    handler = _ServerLog()

    def record(message: str, error: BaseException | None) -> logging.LogRecord:
        info = (type(error), error, None) if error is not None else None
        return logging.LogRecord("uvicorn.error", logging.ERROR, __file__, 1, message, (), info)

    cancelled = asyncio.CancelledError("Task cancelled, timeout graceful shutdown exceeded")
    handler.emit(record("Cancel 1 running task(s), timeout graceful shutdown exceeded", None))
    handler.emit(record("Exception in ASGI application\n", cancelled))
    assert handler.records == []
    handler.emit(record("Exception in ASGI application\n", ValueError("a real bug")))
    assert len(handler.records) == 1
