"""The built-in Opsera look-alike: a seeded, clock-driven tenant served over the documented API.

It implements the contract in ``docs/opsera-api.md`` on its own and never imports ``opstui.api``.
"""

from opstui.sim.clock import Clock, ManualClock, RealClock
from opstui.sim.server import RecordedRequest, SimOptions, SimServer, create_app, run_sim
from opstui.sim.world import ActionOutcome, Page, TargetResult, World

__all__ = [
    "ActionOutcome",
    "Clock",
    "ManualClock",
    "Page",
    "RealClock",
    "RecordedRequest",
    "SimOptions",
    "SimServer",
    "TargetResult",
    "World",
    "create_app",
    "run_sim",
]
