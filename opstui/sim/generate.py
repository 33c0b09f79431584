"""The seeded generator of a lived-in tenant: pipelines, tasks and their history at time zero.

Everything here is derived from ``random.Random`` instances seeded with strings built from the world's
seed, so the same seed always gives the same tenant. Here live the pipeline documents and the runs
they have had; their workflow plans are drawn in :mod:`opstui.sim.generate_plans`, the tasks in
:mod:`opstui.sim.generate_tasks`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from opstui.sim import activity as msg
from opstui.sim.common import Doc, hex_id, is_active_step, is_gate, iso, step_fate
from opstui.sim.generate_plans import workflow_plan
from opstui.sim.generate_tasks import task_doc, task_scenarios
from opstui.sim.generated import (
    DAY,
    HOUR,
    MINUTE,
    Generated,
    IdSource,
    PendingEvent,
    Scenario,
    log_uniform_ms,
    unique,
    user_id,
)
from opstui.sim.names import (
    AI_ML_NAMES,
    ENVS,
    PAUSE_REASONS,
    PEOPLE,
    REJECT_REASONS,
    SCHEDULER,
    SDLC_SUFFIXES,
    SERVICES,
    SFDC_NAMES,
)

_IDLE: tuple[Scenario, ...] = ("never", "success", "failed", "stopped")


class _Row(NamedTuple):
    offset_ms: int
    step: Any
    action: str
    message: str
    status: str


@dataclass
class _Script:
    """One run, relative to its start: its rows and how it ended."""

    rows: list[_Row]
    end_ms: int
    outcome: Scenario
    index: int
    duration_ms: int = 0


def generate(
    *,
    seed: int,
    pipelines: int,
    tasks: int,
    t0: datetime,
    failure_rate: float,
    new_id: IdSource,
) -> Generated:
    """Build the lived-in tenant as it stands at ``t0``."""
    builder = _Builder(seed, t0, failure_rate, new_id)
    out = Generated()
    rng = random.Random(f"{seed}:generate")
    scenarios = _pipeline_scenarios(pipelines, rng)
    names: set[str] = set()
    for i, scenario in enumerate(scenarios):
        doc, rows, pending = builder.pipeline(i, scenario, names)
        out.pipelines.append(doc)
        out.activity[doc["_id"]] = rows
        if pending is not None:
            out.pending.append(pending)
    idle = [
        doc for doc, scenario in zip(out.pipelines, scenarios, strict=True) if scenario in _IDLE
    ]
    if len(out.pipelines) >= 10 and idle and all(doc["active"] for doc in out.pipelines):
        idle[-1]["active"] = False  # a tenant always has an inactive pipeline or two
    task_rng = random.Random(f"{seed}:generate-tasks")
    task_names: set[str] = set()
    for i, task_scenario in enumerate(task_scenarios(tasks, task_rng)):
        task, task_pending = task_doc(seed, t0, failure_rate, i, task_scenario, task_names)
        out.tasks.append(task)
        if task_pending is not None:
            out.pending.append(task_pending)
    return out


def _pipeline_scenarios(n: int, rng: random.Random) -> list[Scenario]:
    """One of each state first (so even a small tenant shows them all), then a realistic mix."""
    base: list[Scenario] = [
        "awaiting",
        "running",
        "success",
        "failed",
        "stopped",
        "never",
        "paused",
    ]
    order = base[:n]
    if n >= 30:
        order.append("paused")
    population: list[Scenario] = ["success", "awaiting", "running", "failed", "stopped", "never"]
    weights = [0.38, 0.13, 0.13, 0.16, 0.1, 0.1]
    while len(order) < n:
        order.append(rng.choices(population, weights)[0])
    rng.shuffle(order)
    return order


class _Builder:
    def __init__(self, seed: int, t0: datetime, failure_rate: float, new_id: IdSource) -> None:
        self.seed = seed
        self.t0 = t0
        self.failure_rate = failure_rate
        self.new_id = new_id

    # -- pipelines -------------------------------------------------------------------------------

    def pipeline(
        self, i: int, scenario: Scenario, used_names: set[str]
    ) -> tuple[Doc, list[Doc], PendingEvent | None]:
        seed = self.seed
        rng = random.Random(f"{seed}:pipeline:{i}")
        pid = hex_id(seed, "pipeline", i)
        kind = rng.choices(["sdlc", "sfdc", "ai-ml"], [0.75, 0.15, 0.1])[0]
        env = rng.choices(ENVS, [5, 3, 2])[0]
        owner = rng.choice(PEOPLE)
        if kind == "sdlc":
            service = rng.choice(SERVICES)
            subject, team = service.name, service.team
            name = unique(f"{service.name}-{rng.choice(SDLC_SUFFIXES)}", used_names)
            description = f"Builds, tests and ships {service.name} to {env}"
        elif kind == "sfdc":
            name = unique(rng.choice(SFDC_NAMES), used_names)
            subject, team = name, "salesforce"
            description = f"Salesforce release train: {name.replace('-', ' ')}"
        else:
            name = unique(rng.choice(AI_ML_NAMES), used_names)
            subject, team = name, "ml"
            description = f"Machine-learning pipeline: {name.replace('-', ' ')}"
        gate = scenario == "awaiting" or rng.random() < 0.35
        plan = workflow_plan(seed, pid, kind, subject, env, gate, rng)
        tags = [{"type": "env", "value": env}, {"type": "team", "value": team}]
        if rng.random() < 0.3:
            tags.append({"type": "cost-center", "value": f"cc-{rng.randint(1000, 1099)}"})
        active = not (scenario in _IDLE and rng.random() < 0.1)

        workflow: Doc = {"run_count": 0, "plan": plan}
        doc: Doc = {
            "_id": pid,
            "name": name,
            "description": description,
            "owner": user_id(owner),
            "owner_name": owner.name,
            "type": [kind],
            "active": active,
            "tags": tags,
            "state": "stopped",
            "workflow": workflow,
            "account": "acme",
            "roles": [{"user": owner.email, "role": "administrator"}],
            "createdAt": "",
            "updatedAt": "",
        }
        rows: list[Doc] = []
        pending: PendingEvent | None = None
        if scenario == "never":
            created = self.t0 - timedelta(milliseconds=rng.randint(HOUR, 200 * DAY))
            updated = created + timedelta(milliseconds=rng.randint(0, HOUR))
            doc["createdAt"], doc["updatedAt"] = iso(created), iso(updated)
            return doc, rows, None

        run_count = rng.randint(1, 80)
        workflow["run_count"] = run_count
        history = random.Random(f"{seed}:{pid}:history")
        current = self._script(pid, plan, run_count, scenario, history)
        start = self._anchor_current(current, history)
        # Earlier runs, most recent first, each ending a while before the next one started.
        earlier: list[tuple[datetime, _Script, int]] = []
        cursor = start
        for n in range(run_count - 1, max(0, run_count - 3), -1):
            script = self._script(pid, plan, n, "success", history, natural=True)
            end = cursor - timedelta(milliseconds=rng.randint(20 * MINUTE, 36 * HOUR))
            run_start = end - timedelta(milliseconds=script.end_ms)
            earlier.append((run_start, script, n))
            cursor = run_start
        runs = [*reversed(earlier), (start, current, run_count)]
        for run_start, script, n in runs:
            for row in script.rows:
                when = run_start + timedelta(milliseconds=row.offset_ms)
                rows.append(
                    msg.make_row(
                        self.new_id("row"),
                        n,
                        when,
                        step=row.step,
                        action=row.action,
                        message=row.message,
                        status=row.status,
                    )
                )
        created = runs[0][0] - timedelta(milliseconds=rng.randint(DAY, 300 * DAY))
        doc["createdAt"] = iso(created)
        doc["updatedAt"] = rows[-1]["createdAt"]

        end = start + timedelta(milliseconds=current.end_ms)
        step = plan[current.index]
        if current.outcome in ("success", "failed", "stopped"):
            workflow["last_step"] = (
                {"status": "stopped"}
                if current.outcome == "stopped"
                else {"status": "stopped", current.outcome: {"step_id": step["_id"]}}
            )
            workflow["last_run"] = {"status": current.outcome, "completed": iso(end)}
        else:
            if len(earlier) > 0:
                previous_start, previous, _ = earlier[0]
                completed = previous_start + timedelta(milliseconds=previous.end_ms)
                workflow["last_run"] = {"status": previous.outcome, "completed": iso(completed)}
            if current.outcome == "running":
                workflow["last_step"] = {
                    "status": "running",
                    "running": {"step_id": step["_id"], "paused": False, "status": "running"},
                }
                pending = PendingEvent(
                    end + timedelta(milliseconds=current.duration_ms),
                    "step",
                    pid,
                    run_count,
                    current.index,
                )
            else:
                workflow["last_step"] = {
                    "status": "stopped",
                    "running": {"step_id": step["_id"], "paused": True, "status": "pending"},
                }
        doc["state"] = "paused" if current.outcome in ("awaiting", "paused") else current.outcome
        # Keep the contract's key order: last_step and last_run after the plan.
        for key in ("last_step", "last_run"):
            if key in workflow:
                workflow[key] = workflow.pop(key)
        return doc, rows, pending

    def _anchor_current(self, script: _Script, rng: random.Random) -> datetime:
        """When the current run started, so that it ends (or stands) where its scenario says."""
        if script.outcome == "running":
            elapsed = max(1, int(script.duration_ms * rng.uniform(0.1, 0.9)))
            return self.t0 - timedelta(milliseconds=script.end_ms + elapsed)
        if script.outcome == "awaiting":
            ago = log_uniform_ms(rng, 2 * MINUTE, 8 * HOUR)
        elif script.outcome == "paused":
            ago = log_uniform_ms(rng, 5 * MINUTE, 5 * HOUR)
        else:
            ago = log_uniform_ms(rng, 2 * MINUTE, 3 * DAY)
        return self.t0 - timedelta(milliseconds=script.end_ms + ago)

    def _script(
        self,
        pid: str,
        plan: list[Doc],
        run_count: int,
        scenario: Scenario,
        rng: random.Random,
        *,
        natural: bool = False,
    ) -> _Script:
        """Play one run of ``plan`` from offset 0; it ends as ``scenario`` says (or as fate says)."""
        active = [i for i, step in enumerate(plan) if is_active_step(step)]
        work = [i for i in active if not is_gate(plan[i])]
        gates = [i for i in active if is_gate(plan[i])]
        stop_at = -1
        if not natural:
            if scenario == "awaiting":
                stop_at = rng.choice(gates)
            elif scenario == "failed":
                stop_at = rng.choice(active)
            elif scenario in ("running", "stopped", "paused"):
                stop_at = rng.choice(work)
        starter = rng.choice([*(p.name for p in PEOPLE[:6]), SCHEDULER, SCHEDULER])
        rows = [_Row(0, None, "run started", msg.run_started(run_count, starter), "running")]
        t = 0
        for i in active:
            step = plan[i]
            if is_gate(step):
                rows.append(
                    _Row(t, step, "awaiting approval", msg.awaiting_approval(step), "pending")
                )
                if i == stop_at and scenario == "awaiting":
                    return _Script(rows, t, "awaiting", i)
                t += rng.randint(MINUTE, 90 * MINUTE)
                if (i == stop_at and scenario == "failed") or (natural and rng.random() < 0.1):
                    rows.append(_Row(t, step, "rejected", rng.choice(REJECT_REASONS), "failed"))
                    rows.append(
                        _Row(t, None, "run failed", msg.run_rejected(run_count, step), "failed")
                    )
                    return _Script(rows, t, "failed", i)
                approver = rng.choice(PEOPLE).name
                rows.append(_Row(t, step, "approved", msg.approved(approver), "success"))
                continue
            fate = step_fate(self.seed, pid, run_count, i, self.failure_rate)
            rows.append(_Row(t, step, "started", msg.step_started(step), "running"))
            if i == stop_at and scenario == "running":
                return _Script(rows, t, "running", i, fate.duration_ms)
            if i == stop_at and scenario in ("stopped", "paused"):
                t += int(fate.duration_ms * rng.uniform(0.2, 0.8))
                if scenario == "stopped":
                    by = rng.choice(PEOPLE).name
                    rows.append(_Row(t, step, "stopped", msg.run_stopped(run_count, by), "stopped"))
                    return _Script(rows, t, "stopped", i)
                rows.append(_Row(t, step, "paused", rng.choice(PAUSE_REASONS), "pending"))
                return _Script(rows, t, "paused", i)
            t += fate.duration_ms
            fails = fate.fails if natural else (i == stop_at and scenario == "failed")
            if fails:
                tool = step["tool"]["tool_identifier"]
                rows.append(_Row(t, step, "failed", msg.step_failed(tool), "failed"))
                rows.append(_Row(t, None, "run failed", msg.run_failed(run_count, step), "failed"))
                return _Script(rows, t, "failed", i)
            rows.append(
                _Row(t, step, "completed", msg.step_completed(step, fate.duration_ms), "success")
            )
        rows.append(_Row(t, None, "run completed", msg.run_completed(run_count), "success"))
        return _Script(rows, t, "success", active[-1])
