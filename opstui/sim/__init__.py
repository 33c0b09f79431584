"""The built-in Opsera look-alike: a seeded, clock-driven tenant served over the documented API.

It implements the contract in ``docs/opsera-api.md`` on its own and never imports ``opstui.api``.
The server's names (:class:`SimServer`, :func:`create_app`, :func:`run_sim`) load Starlette and
uvicorn only when first used, so ``opstui.sim.faults`` (the ``--faults`` parser and help) and the
world stay cheap to import for the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from opstui.sim.clock import Clock, ManualClock, RealClock
from opstui.sim.faults import FAULTS_HELP, FaultPlan, parse_faults
from opstui.sim.state import RecordedRequest, SimOptions
from opstui.sim.world import ActionOutcome, Page, TargetResult, World

if TYPE_CHECKING:
    from opstui.sim.server import SimServer, create_app, run_sim

_SERVER_NAMES = frozenset({"SimServer", "create_app", "run_sim"})

__all__ = [
    "FAULTS_HELP",
    "ActionOutcome",
    "Clock",
    "FaultPlan",
    "ManualClock",
    "Page",
    "RealClock",
    "RecordedRequest",
    "SimOptions",
    "SimServer",
    "TargetResult",
    "World",
    "create_app",
    "parse_faults",
    "run_sim",
]


def __getattr__(name: str) -> Any:
    """The server's names, imported on first use."""
    if name in _SERVER_NAMES:
        value = getattr(importlib.import_module("opstui.sim.server"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
