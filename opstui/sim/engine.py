"""How the simulated tenant moves: runs through their steps and gates, tasks, the scheduler, and
what each action does to one target. :class:`Engine` is the part of :class:`~opstui.sim.world.World`
that changes documents; the world holds the lock, the clock and the public methods.
"""

from __future__ import annotations

import heapq
import random
import threading
from datetime import datetime, timedelta
from typing import Any, Literal

from opstui.sim import activity as msg
from opstui.sim.common import (
    IDLE_STATES,
    Doc,
    derive_status,
    hex_id,
    is_active_step,
    is_gate,
    iso,
    plan_of,
    step_fate,
    task_fate,
    tool_of,
)
from opstui.sim.documents import Kind, TargetResult
from opstui.sim.names import SCHEDULER

__all__ = ["Engine", "Event", "EventKind"]

EventKind = Literal["step", "task", "autorun"]
Event = tuple[datetime, int, EventKind, str, int, int]
"""(when, sequence, kind, pipeline or task id, run count, step index or autorun tick)."""


class Engine:
    """The world's machinery: runs, steps, gates, tasks and the scheduler; callers hold the lock."""

    seed: int
    failure_rate: float
    lock: threading.RLock
    _now: datetime
    _ids: int
    _seq: int
    _events: list[Event]
    _pipelines: dict[str, Doc]
    _tasks: dict[str, Doc]
    _activity: dict[str, list[Doc]]

    # -- machinery -------------------------------------------------------------------------------

    def _new_id(self, kind: str) -> str:
        self._ids += 1
        return hex_id(self.seed, "new", kind, self._ids)

    def _schedule(
        self, when: datetime, kind: EventKind, key: str, run_count: int, index: int
    ) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, key, run_count, index))

    def _touch(self, doc: Doc, when: datetime) -> None:
        doc["updatedAt"] = iso(when)

    def _log(
        self, doc: Doc, when: datetime, step: Any, action: str, message: str, status: str
    ) -> None:
        rows = self._activity.setdefault(doc["_id"], [])
        run_count = doc["workflow"].get("run_count", 0)
        row = msg.make_row(
            self._new_id("row"),
            run_count,
            when,
            step=step,
            action=action,
            message=message,
            status=status,
        )
        rows.append(row)

    @staticmethod
    def _current_step(doc: Doc) -> tuple[int, Any]:
        """The plan index and step that ``last_step.running`` points at, or (-1, None)."""
        last = doc["workflow"].get("last_step")
        running = last.get("running") if isinstance(last, dict) else None
        step_id = running.get("step_id") if isinstance(running, dict) else None
        for index, step in enumerate(plan_of(doc)):
            if isinstance(step, dict) and step.get("_id") == step_id:
                return index, step
        return -1, None

    @staticmethod
    def _next_active(doc: Doc, start: int) -> int | None:
        plan = plan_of(doc)
        for index in range(max(start, 0), len(plan)):
            if is_active_step(plan[index]):
                return index
        return None

    # -- the pipeline engine ---------------------------------------------------------------------

    def _start_run(self, doc: Doc, when: datetime, by: str) -> int:
        workflow = doc["workflow"]
        run_count = int(workflow.get("run_count") or 0) + 1
        workflow["run_count"] = run_count
        workflow["last_step"] = {}
        self._log(doc, when, None, "run started", msg.run_started(run_count, by), "running")
        first = self._next_active(doc, 0)
        assert first is not None, "callers check that the plan has an active step"
        self._enter_step(doc, when, first)
        return run_count

    def _enter_step(self, doc: Doc, when: datetime, index: int) -> None:
        step = plan_of(doc)[index]
        workflow = doc["workflow"]
        if is_gate(step):
            workflow["last_step"] = {
                "status": "stopped",
                "running": {"step_id": step.get("_id"), "paused": True, "status": "pending"},
            }
            doc["state"] = "paused"
            self._touch(doc, when)
            self._log(doc, when, step, "awaiting approval", msg.awaiting_approval(step), "pending")
            return
        workflow["last_step"] = {
            "status": "running",
            "running": {"step_id": step.get("_id"), "paused": False, "status": "running"},
        }
        doc["state"] = "running"
        self._touch(doc, when)
        self._log(doc, when, step, "started", msg.step_started(step), "running")
        run_count = workflow["run_count"]
        fate = step_fate(self.seed, doc["_id"], run_count, index, self.failure_rate)
        self._schedule(
            when + timedelta(milliseconds=fate.duration_ms), "step", doc["_id"], run_count, index
        )

    def _advance(self, doc: Doc, when: datetime, done: int) -> None:
        """Step ``done`` went through: enter the next active step, or finish the run."""
        following = self._next_active(doc, done + 1)
        if following is None:
            step = plan_of(doc)[done]
            self._finish(
                doc, when, "success", step, msg.run_completed(doc["workflow"]["run_count"])
            )
        else:
            self._enter_step(doc, when, following)

    def _finish(
        self, doc: Doc, when: datetime, outcome: Literal["success", "failed"], step: Any, line: str
    ) -> None:
        workflow = doc["workflow"]
        workflow["last_step"] = {"status": "stopped", outcome: {"step_id": step.get("_id")}}
        workflow["last_run"] = {"status": outcome, "completed": iso(when)}
        doc["state"] = outcome
        self._touch(doc, when)
        self._log(
            doc,
            when,
            None,
            f"run {'completed' if outcome == 'success' else 'failed'}",
            line,
            outcome,
        )

    def _step_ended(self, when: datetime, pipeline_id: str, run_count: int, index: int) -> None:
        doc = self._pipelines.get(pipeline_id)
        if (
            doc is None
            or doc["state"] != "running"
            or doc["workflow"].get("run_count") != run_count
        ):
            return
        current, step = self._current_step(doc)
        if current != index:
            return
        fate = step_fate(self.seed, pipeline_id, run_count, index, self.failure_rate)
        if fate.fails:
            self._log(doc, when, step, "failed", msg.step_failed(tool_of(step)), "failed")
            self._finish(doc, when, "failed", step, msg.run_failed(run_count, step))
            return
        self._log(
            doc, when, step, "completed", msg.step_completed(step, fate.duration_ms), "success"
        )
        self._advance(doc, when, index)

    def _autorun_tick(self, when: datetime, tick: int) -> None:
        rng = random.Random(f"{self.seed}:autorun:{tick}")
        idle = [
            doc
            for doc in self._pipelines.values()
            if doc.get("active") is True
            and doc["state"] in IDLE_STATES
            and self._next_active(doc, 0) is not None
        ]
        if idle:
            self._start_run(rng.choice(idle), when, SCHEDULER)
        if rng.random() < 0.35:
            idle_tasks = [
                doc
                for doc in self._tasks.values()
                if doc.get("active") is True and doc["state"] in IDLE_STATES
            ]
            if idle_tasks:
                self._start_task(rng.choice(idle_tasks), when)
        self._schedule(
            when + timedelta(milliseconds=rng.randint(20_000, 40_000)), "autorun", "", 0, tick + 1
        )

    # -- one target each -------------------------------------------------------------------------

    @staticmethod
    def _status_one(doc: Doc, kind: Kind) -> TargetResult:
        status = derive_status(doc) if kind == "pipeline" else doc["state"]
        return TargetResult(doc["_id"], "success", f"{kind.capitalize()} {doc['name']} is {status}")

    def _run_one(self, doc: Doc, by: str) -> TargetResult:
        name = doc["name"]
        if doc["state"] == "running":
            return TargetResult(doc["_id"], "failed", f"Pipeline {name} is already running")
        if doc["state"] == "paused":
            return TargetResult(
                doc["_id"],
                "failed",
                f"Pipeline {name} is currently in a paused state; "
                "approve, reject, stop or reset it before starting a new run",
            )
        if doc.get("active") is not True:
            return TargetResult(doc["_id"], "failed", f"Pipeline {name} is not active")
        if self._next_active(doc, 0) is None:
            return TargetResult(doc["_id"], "failed", f"Pipeline {name} has no active steps to run")
        run_count = self._start_run(doc, self._now, by)
        return TargetResult(
            doc["_id"], "executed", f"Pipeline {name} run {run_count} started", run_count
        )

    def _stop_one(self, doc: Doc, by: str) -> TargetResult:
        if doc["state"] not in ("running", "paused"):
            return TargetResult(doc["_id"], "failed", f"Pipeline {doc['name']} is not running")
        _, step = self._current_step(doc)
        workflow = doc["workflow"]
        workflow["last_step"] = {"status": "stopped"}
        workflow["last_run"] = {"status": "stopped", "completed": iso(self._now)}
        doc["state"] = "stopped"
        self._touch(doc, self._now)
        self._log(
            doc, self._now, step, "stopped", msg.run_stopped(workflow["run_count"], by), "stopped"
        )
        return TargetResult(doc["_id"], "success", f"Pipeline {doc['name']} stopped")

    def _reset_one(self, doc: Doc, by: str) -> TargetResult:
        workflow = doc["workflow"]
        if doc["state"] in ("running", "paused"):
            workflow["last_run"] = {"status": "stopped", "completed": iso(self._now)}
        workflow["last_step"] = {}
        doc["state"] = "stopped"
        self._touch(doc, self._now)
        self._log(doc, self._now, None, "reset", msg.pipeline_reset(by), "stopped")
        return TargetResult(doc["_id"], "success", f"Pipeline {doc['name']} reset")

    def _delete_one(self, doc: Doc) -> TargetResult:
        del self._pipelines[doc["_id"]]
        self._activity.pop(doc["_id"], None)
        return TargetResult(doc["_id"], "success", f"Pipeline {doc['name']} deleted")

    def _approve_one(self, doc: Doc, note: str | None, by: str) -> TargetResult:
        if derive_status(doc) != "awaiting-approval":
            return TargetResult(
                doc["_id"], "failed", f"Pipeline {doc['name']} is not awaiting approval"
            )
        index, step = self._current_step(doc)
        note = note.strip() if isinstance(note, str) and note.strip() else None
        self._log(doc, self._now, step, "approved", msg.approved(by, note), "success")
        self._advance(doc, self._now, index)
        return TargetResult(doc["_id"], "success", f"Pipeline {doc['name']} approved")

    def _reject_one(self, doc: Doc, reason: str, by: str) -> TargetResult:
        if derive_status(doc) != "awaiting-approval":
            return TargetResult(
                doc["_id"], "failed", f"Pipeline {doc['name']} is not awaiting approval"
            )
        _, step = self._current_step(doc)
        run_count = doc["workflow"]["run_count"]
        self._log(doc, self._now, step, "rejected", reason, "failed")
        self._finish(doc, self._now, "failed", step, msg.run_rejected(run_count, step))
        return TargetResult(doc["_id"], "success", f"Pipeline {doc['name']} rejected")

    # -- tasks -----------------------------------------------------------------------------------

    def _start_task(self, doc: Doc, when: datetime) -> int:
        run_count = int(doc.get("run_count") or 0) + 1
        doc["run_count"] = run_count
        doc["state"] = "running"
        self._touch(doc, when)
        fate = task_fate(self.seed, doc["_id"], run_count, self.failure_rate)
        self._schedule(
            when + timedelta(milliseconds=fate.duration_ms), "task", doc["_id"], run_count, 0
        )
        return run_count

    def _task_ended(self, when: datetime, task_id: str, run_count: int) -> None:
        doc = self._tasks.get(task_id)
        if doc is None or doc["state"] != "running" or doc.get("run_count") != run_count:
            return
        fate = task_fate(self.seed, task_id, run_count, self.failure_rate)
        outcome = "failed" if fate.fails else "success"
        doc["state"] = outcome
        doc["last_run"] = {"status": outcome, "completed": iso(when)}
        self._touch(doc, when)

    def _run_task_one(self, doc: Doc) -> TargetResult:
        name = doc["name"]
        if doc["state"] == "running":
            return TargetResult(doc["_id"], "failed", f"Task {name} is already running")
        if doc.get("active") is not True:
            return TargetResult(doc["_id"], "failed", f"Task {name} is not active")
        run_count = self._start_task(doc, self._now)
        return TargetResult(
            doc["_id"], "executed", f"Task {name} run {run_count} started", run_count
        )

    def _stop_task_one(self, doc: Doc) -> TargetResult:
        if doc["state"] != "running":
            return TargetResult(doc["_id"], "failed", f"Task {doc['name']} is not running")
        doc["state"] = "stopped"
        doc["last_run"] = {"status": "stopped", "completed": iso(self._now)}
        self._touch(doc, self._now)
        return TargetResult(doc["_id"], "success", f"Task {doc['name']} stopped")
