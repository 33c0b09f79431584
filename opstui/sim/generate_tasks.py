"""The seeded generator's tasks: each from a generator seeded with the world's seed and its index.

Split from :mod:`opstui.sim.generate` (the pipelines) along its seam; the draws, and so the
tenant a seed gives, are the same as before the split.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from opstui.sim.common import Doc, hex_id, iso, task_fate
from opstui.sim.generated import (
    DAY,
    MINUTE,
    PendingEvent,
    Scenario,
    log_uniform_ms,
    unique,
    user_id,
)
from opstui.sim.names import ENVS, PEOPLE, TASKS

__all__ = ["task_doc", "task_scenarios"]


def task_scenarios(n: int, rng: random.Random) -> list[Scenario]:
    """One of each state first, then a realistic mix, shuffled."""
    base: list[Scenario] = ["running", "success", "failed", "never", "stopped"]
    order = base[:n]
    population: list[Scenario] = ["success", "failed", "running", "never", "stopped"]
    weights = [0.5, 0.2, 0.1, 0.1, 0.1]
    while len(order) < n:
        order.append(rng.choices(population, weights)[0])
    rng.shuffle(order)
    return order


def task_doc(
    seed: int,
    t0: datetime,
    failure_rate: float,
    i: int,
    scenario: Scenario,
    used_names: set[str],
) -> tuple[Doc, PendingEvent | None]:
    """Task ``i`` of the tenant, as it stands at ``t0``, and the end of its run if it runs."""
    rng = random.Random(f"{seed}:task:{i}")
    tid = hex_id(seed, "task", i)
    name, kind, description = TASKS[i % len(TASKS)]
    owner = rng.choice(PEOPLE)
    env = rng.choices(ENVS, [5, 3, 2])[0]
    created = t0 - timedelta(milliseconds=rng.randint(10 * DAY, 300 * DAY))
    doc: Doc = {
        "_id": tid,
        "name": unique(name, used_names),
        "description": description,
        "type": kind,
        "owner": user_id(owner),
        "owner_name": owner.name,
        "active": not (scenario == "never" and rng.random() < 0.3),
        "tags": [{"type": "env", "value": env}],
        "state": "stopped",
        "run_count": 0,
        "createdAt": iso(created),
        "updatedAt": iso(created),
    }
    if scenario == "never":
        return doc, None
    run_count = rng.randint(1, 120)
    doc["run_count"] = run_count
    ago = log_uniform_ms(rng, 2 * MINUTE, 3 * DAY)
    if scenario == "running":
        fate = task_fate(seed, tid, run_count, failure_rate)
        started = t0 - timedelta(milliseconds=max(1, int(fate.duration_ms * rng.random())))
        doc["state"] = "running"
        doc["updatedAt"] = iso(started)
        if run_count > 1:
            previous = started - timedelta(milliseconds=ago)
            status = rng.choice(["success", "success", "failed"])
            doc["last_run"] = {"status": status, "completed": iso(previous)}
        pending = PendingEvent(
            started + timedelta(milliseconds=fate.duration_ms), "task", tid, run_count, 0
        )
        return _task_key_order(doc), pending
    completed = t0 - timedelta(milliseconds=ago)
    doc["state"] = scenario
    doc["last_run"] = {"status": scenario, "completed": iso(completed)}
    doc["updatedAt"] = iso(completed)
    return _task_key_order(doc), None


def _task_key_order(doc: Doc) -> Doc:
    """Put ``last_run`` right after ``run_count``, as the contract lists the fields."""
    order: Sequence[str] = (
        "_id",
        "name",
        "description",
        "type",
        "owner",
        "owner_name",
        "active",
        "tags",
        "state",
        "run_count",
        "last_run",
        "createdAt",
        "updatedAt",
    )
    return {key: doc[key] for key in order if key in doc}
