"""The built-in Opsera look-alike: a seeded, clock-driven tenant served over the documented API.

It implements the contract in ``docs/opsera-api.md`` on its own and never imports ``opstui.api``.
Every name but the ``--faults`` parser loads on first use (the server's bring Starlette and
uvicorn), so the command line's parser pays only for ``opstui.sim.faults``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from opstui.sim.faults import FAULTS_HELP, FaultPlan, parse_faults

if TYPE_CHECKING:
    from opstui.sim.clock import Clock, ManualClock, RealClock
    from opstui.sim.server import SimServer, create_app, run_sim
    from opstui.sim.state import RecordedRequest, SimOptions
    from opstui.sim.world import ActionOutcome, Page, TargetResult, World

_LAZY = {
    "SimServer": "opstui.sim.server",
    "create_app": "opstui.sim.server",
    "run_sim": "opstui.sim.server",
    "Clock": "opstui.sim.clock",
    "ManualClock": "opstui.sim.clock",
    "RealClock": "opstui.sim.clock",
    "RecordedRequest": "opstui.sim.state",
    "SimOptions": "opstui.sim.state",
    "ActionOutcome": "opstui.sim.world",
    "Page": "opstui.sim.world",
    "TargetResult": "opstui.sim.world",
    "World": "opstui.sim.world",
}
"""Names imported on first use: the command line pays only for the ``--faults`` help."""

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
    """The world's and the server's names, imported on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
