"""Fixtures for the simulator's tests: a manual clock, seeded worlds, servers and clients."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from opstui.sim import ManualClock, SimOptions, SimServer, World

TOKEN = "test-token-c0ffee"
READONLY = "readonly-token-beef"
GATES = ("approval", "user-action", "servicenow")
"""Tool identifiers of the steps that wait for a person, as the contract lists them."""

Derive = Callable[[dict[str, Any]], str]
MakeClient = Callable[..., httpx.Client]


def derive_status(doc: dict[str, Any]) -> str:
    """The contract's status derivation (the portal's order), written again here, independently of
    the simulator."""
    workflow = doc.get("workflow")
    last = workflow.get("last_step") if isinstance(workflow, dict) else None
    running = (last.get("running") if isinstance(last, dict) else None) or {}
    if running.get("paused"):
        steps = {step["_id"]: step for step in workflow.get("plan", [])}
        step = steps.get(running.get("step_id"))
        if step is not None and step["tool"]["tool_identifier"] in GATES:
            return "awaiting approval"
    if doc.get("state") in ("failed", "running", "paused", "success"):
        return str(doc["state"])
    if not isinstance(workflow, dict) or not isinstance(last, dict | None):
        return "unknown"
    last = last or {}
    if (last.get("success") or {}).get("step_id"):
        return "success"
    if (last.get("failed") or {}).get("step_id"):
        return "failed"
    if last.get("status") == "running":
        return "running"
    if last.get("status") == "stopped" and (
        running.get("status") == "pending" or running.get("paused")
    ):
        return "paused"
    return "stopped"


@pytest.fixture
def derive() -> Derive:
    """The independent status derivation."""
    return derive_status


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at the default start."""
    return ManualClock()


@pytest.fixture
def world(clock: ManualClock) -> World:
    """A seeded world without the autorun schedule, so only the test starts runs."""
    return World(seed=7, clock=clock, autorun=False)


@pytest.fixture(scope="session")
def ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: building one per client costs tens of milliseconds."""
    return ssl.create_default_context()


@pytest.fixture(scope="session")
def server() -> Iterator[SimServer]:
    """One simulator for the whole run; each test gets it serving a fresh world (see ``sim``)."""
    placeholder = World(seed=7, pipelines=1, tasks=0, clock=ManualClock(), autorun=False)
    with SimServer(placeholder, token=TOKEN, readonly_token=READONLY) as running:
        yield running


@pytest.fixture
def sim(server: SimServer, world: World) -> Iterator[SimServer]:
    """The simulator serving this test's ``world``: default options, no faults (neither a plan nor
    one-shots), an empty log and no counts."""
    server.world = world
    server.options = SimOptions()
    server.clear_faults()
    server.clear_requests()
    yield server
    server.clear_faults()


@pytest.fixture
def make_client(sim: SimServer, ssl_context: ssl.SSLContext) -> Iterator[MakeClient]:
    """Makes clients of ``sim`` with a given token (None: no Authorization header)."""
    made: list[httpx.Client] = []

    def make(token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        http = httpx.Client(base_url=sim.base_url, headers=headers, timeout=5, verify=ssl_context)
        made.append(http)
        return http

    yield make
    for http in made:
        http.close()


@pytest.fixture
def client(make_client: MakeClient) -> httpx.Client:
    """A client of ``sim`` with the full token."""
    return make_client()
