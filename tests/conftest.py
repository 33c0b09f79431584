"""Fixtures shared by every test: a seeded simulator on loopback, and an isolated user."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opstui.sim.clock import ManualClock
from opstui.sim.server import SimOptions, SimServer
from opstui.sim.world import World

TOKEN = "test-token-5f0c1e2d"
"""The simulator's token in tests; every test that checks for leaks searches for it."""
READONLY_TOKEN = "readonly-token-9a8b7c"


@pytest.fixture(autouse=True)
def isolated_user(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep the developer's own config, environment and audit log out of every test."""
    home = tmp_path_factory.mktemp("home")
    for name in (
        "OPSTUI_BASE_URL",
        "OPSTUI_TOKEN",
        "OPSTUI_PROFILE",
        "OPSTUI_TIMEOUT",
        "OPSTUI_REFRESH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPSTUI_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("OPSTUI_AUDIT_LOG", str(home / "audit.log"))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".state"))
    (home / "config.toml").write_text("")
    return home


@pytest.fixture
def clock() -> ManualClock:
    """A clock that moves only when a test says so."""
    return ManualClock()


@pytest.fixture
def world(clock: ManualClock) -> World:
    """The default seeded world: 40 lived-in pipelines and 12 tasks."""
    return World(seed=7, pipelines=40, tasks=12, clock=clock)


@pytest.fixture(scope="session")
def sim_server() -> Iterator[SimServer]:
    """One simulator for the whole run (starting and stopping one costs ~0.2 s)."""
    placeholder = World(seed=7, pipelines=1, tasks=0, clock=ManualClock(), autorun=False)
    with SimServer(placeholder, token=TOKEN, readonly_token=READONLY_TOKEN) as server:
        yield server


@pytest.fixture
def sim(sim_server: SimServer, world: World) -> Iterator[SimServer]:
    """The simulator on 127.0.0.1 serving this test's ``world``: default options, no faults,
    an empty request log."""
    sim_server.world = world
    sim_server.options = SimOptions()
    sim_server.clear_faults()
    sim_server.clear_requests()
    yield sim_server
    sim_server.clear_faults()
