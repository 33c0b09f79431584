"""The simulated tenant: pipelines, tasks and activity that live on a clock. Pure Python, no HTTP.

Determinism is the point: every duration and outcome is drawn from a ``random.Random`` seeded with a
string made of the world's seed and what it concerns, and transitions are processed strictly in
(time, creation) order. So two worlds with the same seed, the same clock readings and the same
actions are identical, however often :meth:`World.sync` was called in between.
"""

from __future__ import annotations

import heapq
import json
import random
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal, TypedDict, TypeVar, Unpack, cast

from opstui.sim import activity as msg
from opstui.sim.clock import Clock, ManualClock
from opstui.sim.common import (
    IDLE_STATES,
    Doc,
    derive_status,
    hex_id,
    is_active_step,
    is_gate,
    is_hex24,
    iso,
    plan_of,
    step_fate,
    task_fate,
    tool_of,
)
from opstui.sim.errors import BadRequest, NotFound
from opstui.sim.generate import generate
from opstui.sim.names import API_USER, SCHEDULER

SORT_OPTIONS: Final = (
    "newest",
    "oldest",
    "name",
    "name-descending",
    "lastupdated",
    "earliest-updated",
)
"""Accepted values of ``sortOption``."""

STATUS_FILTERS: Final = {
    "running": "running",
    "paused": "paused",
    "failed": "failed",
    "success": "success",
    "stopped": "stopped",
    "idle": "stopped",
    "awaiting-approval": "awaiting-approval",
    "awaiting_approval": "awaiting-approval",
    "approval": "awaiting-approval",
}
"""Accepted values of the ``status`` filter (comma-separated for several) and what each means."""

EDITABLE_FIELDS: Final = ("name", "description", "active", "tags")
"""What the ``update`` action may change."""

_T = TypeVar("_T")
TargetStatus = Literal["executed", "success", "failed"]
Kind = Literal["pipeline", "task"]

_EventKind = Literal["step", "task", "autorun"]
_Event = tuple[datetime, int, _EventKind, str, int, int]
"""(when, sequence, kind, pipeline or task id, run count, step index or autorun tick)."""


@dataclass(frozen=True)
class TargetResult:
    """What an action did to one target, with v1 semantics."""

    target: str
    status: TargetStatus
    message: str
    run_count: int | None = None


@dataclass
class ActionOutcome:
    """The per-target results of an action, plus copies of the documents of the targets that still exist."""

    results: list[TargetResult]
    documents: list[Doc] = field(default_factory=list)

    @property
    def status(self) -> Literal["success", "partial", "failed"]:
        """``success`` when every target went through, ``failed`` when none did, else ``partial``."""
        ok = sum(1 for result in self.results if result.status != "failed")
        if ok == len(self.results):
            return "success"
        return "failed" if ok == 0 else "partial"

    @property
    def message(self) -> str:
        """One line for the whole action: the target's message if there is one target."""
        if len(self.results) == 1:
            return self.results[0].message
        ok = sum(1 for result in self.results if result.status != "failed")
        return f"{ok} of {len(self.results)} targets succeeded"


@dataclass
class Page:
    """One page of a listing, and how many documents matched in all."""

    items: list[Doc]
    total: int


class World:
    """The simulated Opsera tenant.

    Every public method takes :attr:`lock` and first brings the world up to the clock, so the world is
    safe to share between the server's thread and a test's thread. Everything handed out is a copy,
    except listings asked for with ``live=True`` (the server's fast path): those are the world's own
    documents, to serialize while holding :attr:`lock` and never to mutate.
    """

    def __init__(
        self,
        *,
        seed: int = 7,
        pipelines: int = 40,
        tasks: int = 12,
        clock: Clock | None = None,
        failure_rate: float = 0.12,
        autorun: bool = True,
    ) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be between 0 and 1")
        if pipelines < 0 or tasks < 0:
            raise ValueError("pipelines and tasks must not be negative")
        self.lock = threading.RLock()
        self.seed = seed
        self.clock: Clock = clock if clock is not None else ManualClock()
        self.failure_rate = failure_rate
        self.autorun = autorun
        self._now = self.clock.now()
        self.started_at = self._now
        """Time zero: when the world was made; its history lies before, its future after."""
        self._ids = 0
        self._seq = 0
        self._events: list[_Event] = []
        self._pipelines: dict[str, Doc] = {}
        self._tasks: dict[str, Doc] = {}
        self._activity: dict[str, list[Doc]] = {}
        tenant = generate(
            seed=seed,
            pipelines=pipelines,
            tasks=tasks,
            t0=self._now,
            failure_rate=failure_rate,
            new_id=self._new_id,
        )
        for doc in tenant.pipelines:
            self._pipelines[doc["_id"]] = doc
        for doc in tenant.tasks:
            self._tasks[doc["_id"]] = doc
        self._activity.update(tenant.activity)
        for event in tenant.pending:
            self._schedule(event.when, event.kind, event.key, event.run_count, event.index)
        if autorun:
            rng = random.Random(f"{seed}:autorun:0")
            self._schedule(
                self._now + timedelta(milliseconds=rng.randint(20_000, 40_000)), "autorun", "", 0, 1
            )

    # -- time ------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The world's time: the clock's, but never going backwards."""
        with self.lock:
            now = self.clock.now()
            if now > self._now:
                self._now = now
            return self._now

    def sync(self) -> None:
        """Play every transition due up to the clock's time, strictly in time order."""
        with self.lock:
            now = self.now()
            events = self._events
            while events and events[0][0] <= now:
                when, _, kind, key, run_count, index = heapq.heappop(events)
                if kind == "step":
                    self._step_ended(when, key, run_count, index)
                elif kind == "task":
                    self._task_ended(when, key, run_count)
                else:
                    self._autorun_tick(when, index)

    # -- reads -----------------------------------------------------------------------------------

    def list_pipelines(self, **query: Unpack[Query]) -> Page:
        """Pipelines matching every given filter, sorted, one page of them (all if no page size).

        ``live=True`` hands out the world's own documents instead of copies (see the class docstring).
        """
        with self.lock:
            self.sync()
            return _query(self._pipelines.values(), **query)

    def list_tasks(self, **query: Unpack[Query]) -> Page:
        """Tasks, with the same filters as :meth:`list_pipelines`."""
        with self.lock:
            self.sync()
            return _query(self._tasks.values(), **query)

    def get_pipeline(self, pipeline_id: str) -> Doc | None:
        """A copy of one pipeline document, or None."""
        with self.lock:
            self.sync()
            doc = self._pipelines.get(pipeline_id)
            return clone(doc) if doc is not None else None

    def get_task(self, task_id: str) -> Doc | None:
        """A copy of one task document, or None."""
        with self.lock:
            self.sync()
            doc = self._tasks.get(task_id)
            return clone(doc) if doc is not None else None

    def pipeline_ids(self) -> list[str]:
        """Every pipeline id, in creation order."""
        with self.lock:
            self.sync()
            return list(self._pipelines)

    def task_ids(self) -> list[str]:
        """Every task id, in creation order."""
        with self.lock:
            self.sync()
            return list(self._tasks)

    def activity(self, pipeline_id: str, run_count: int | None = None) -> list[Doc]:
        """A pipeline's activity rows, newest first, optionally of one run only."""
        with self.lock:
            self.sync()
            if pipeline_id not in self._pipelines:
                raise NotFound(f"Pipeline {pipeline_id} was not found")
            rows = self._activity.get(pipeline_id, [])
            picked = [
                row for row in reversed(rows) if run_count is None or row["run_count"] == run_count
            ]
            return [clone(row) for row in picked]

    def snapshot(self) -> Doc:
        """Everything the world holds, as one JSON-ready copy (for comparisons and debugging)."""
        with self.lock:
            self.sync()
            state = {
                "now": iso(self._now),
                "pipelines": list(self._pipelines.values()),
                "tasks": list(self._tasks.values()),
                "activity": self._activity,
                "schedule": [
                    [iso(when), kind, key, run_count, index]
                    for when, _, kind, key, run_count, index in sorted(self._events)
                ],
            }
            result: Doc = json.loads(json.dumps(state))
            return result

    # -- pipeline actions ------------------------------------------------------------------------

    def pipeline_status(self, ids: Iterable[str]) -> ActionOutcome:
        """The ``status`` action: the documents, and a line each."""
        return self._batch("pipeline", ids, lambda doc: self._status_one(doc, "pipeline"))

    def run_pipelines(self, ids: Iterable[str], *, by: str = API_USER) -> ActionOutcome:
        """Start a new run of each pipeline that is idle and active."""
        return self._batch("pipeline", ids, lambda doc: self._run_one(doc, by))

    def stop_pipelines(self, ids: Iterable[str], *, by: str = API_USER) -> ActionOutcome:
        """Stop each pipeline that is running or paused."""
        return self._batch("pipeline", ids, lambda doc: self._stop_one(doc, by))

    def reset_pipelines(self, ids: Iterable[str], *, by: str = API_USER) -> ActionOutcome:
        """Reset each pipeline: cancel any run, clear ``last_step``, state ``stopped``. Always succeeds."""
        return self._batch("pipeline", ids, lambda doc: self._reset_one(doc, by))

    def delete_pipelines(self, ids: Iterable[str]) -> ActionOutcome:
        """Delete each pipeline and its activity."""
        return self._batch("pipeline", ids, self._delete_one)

    def approve_pipelines(
        self, ids: Iterable[str], *, message: str | None = None, by: str = API_USER
    ) -> ActionOutcome:
        """Approve the gate each pipeline waits at; its run goes on with the next step."""
        return self._batch("pipeline", ids, lambda doc: self._approve_one(doc, message, by))

    def reject_pipelines(
        self, ids: Iterable[str], message: str, *, by: str = API_USER
    ) -> ActionOutcome:
        """Reject the gate each pipeline waits at; its run fails there, with ``message`` as the reason."""
        if not isinstance(message, str) or not message.strip():
            raise BadRequest("reject needs a non-blank 'message': the reason")
        return self._batch("pipeline", ids, lambda doc: self._reject_one(doc, message, by))

    def update_pipeline(self, pipeline_id: str, settings: Mapping[str, Any]) -> ActionOutcome:
        """Change a pipeline's name, description, active flag or tags."""
        return self._update("pipeline", pipeline_id, settings)

    def create_pipeline(self, document: Mapping[str, Any]) -> Doc:
        """Store a new pipeline made from ``document`` (e.g. a clone); returns the stored document.

        The server assigns ``_id``, ``createdAt`` and ``updatedAt`` and resets the run state; every other
        field, known or not, is kept. The steps come as ``workflow.plan`` or as a ``workflow`` array
        (stored as ``workflow.plan``). Step ``_id``s are kept and must be 24-hex.
        """
        with self.lock:
            self.sync()
            doc = _new_document(document, "pipeline")
            workflow = doc.get("workflow", {})
            if isinstance(workflow, list):
                workflow = {"plan": workflow}
            if not isinstance(workflow, dict):
                raise BadRequest("'workflow' must be an object with a 'plan', or an array of steps")
            plan = workflow.get("plan", [])
            if not isinstance(plan, list):
                raise BadRequest("'workflow.plan' must be an array of steps")
            seen: set[str] = set()
            for position, step in enumerate(plan):
                if not isinstance(step, dict):
                    raise BadRequest(f"step {position + 1} of the plan must be an object")
                if "_id" not in step:
                    step["_id"] = self._new_id("step")
                if not is_hex24(step["_id"]):
                    raise BadRequest(
                        f"step {position + 1} of the plan: '_id' must be 24 hex characters"
                    )
                if step["_id"] in seen:
                    raise BadRequest(
                        f"step {position + 1} of the plan repeats the '_id' {step['_id']}"
                    )
                seen.add(step["_id"])
            workflow["plan"] = plan
            workflow["run_count"] = 0
            workflow.pop("last_step", None)
            workflow.pop("last_run", None)
            doc["workflow"] = workflow
            doc.setdefault("type", ["sdlc"])
            if not isinstance(doc["type"], list) or not all(
                isinstance(t, str) for t in doc["type"]
            ):
                raise BadRequest("'type' must be an array of strings")
            return clone(self._store("pipeline", doc))

    # -- task actions ----------------------------------------------------------------------------

    def task_status(self, ids: Iterable[str]) -> ActionOutcome:
        """The ``status`` action for tasks."""
        return self._batch("task", ids, lambda doc: self._status_one(doc, "task"))

    def run_tasks(self, ids: Iterable[str]) -> ActionOutcome:
        """Start each task that is idle and active."""
        return self._batch("task", ids, self._run_task_one)

    def stop_tasks(self, ids: Iterable[str]) -> ActionOutcome:
        """Stop each running task."""
        return self._batch("task", ids, self._stop_task_one)

    def update_task(self, task_id: str, settings: Mapping[str, Any]) -> ActionOutcome:
        """Change a task's name, description, active flag or tags."""
        return self._update("task", task_id, settings)

    def create_task(self, document: Mapping[str, Any]) -> Doc:
        """Store a new task made from ``document``; returns the stored document."""
        with self.lock:
            self.sync()
            doc = _new_document(document, "task")
            doc.setdefault("type", "custom")
            if not isinstance(doc["type"], str):
                raise BadRequest("a task's 'type' must be a string")
            doc["run_count"] = 0
            doc.pop("last_run", None)
            return clone(self._store("task", doc))

    # -- machinery -------------------------------------------------------------------------------

    def _new_id(self, kind: str) -> str:
        self._ids += 1
        return hex_id(self.seed, "new", kind, self._ids)

    def _schedule(
        self, when: datetime, kind: _EventKind, key: str, run_count: int, index: int
    ) -> None:
        self._seq += 1
        heapq.heappush(self._events, (when, self._seq, kind, key, run_count, index))

    def _store(self, kind: Kind, fields: Doc) -> Doc:
        now = iso(self._now)
        doc: Doc = {"_id": self._new_id(kind), **fields}
        doc["state"] = "stopped"
        doc["createdAt"] = now
        doc["updatedAt"] = now
        if kind == "pipeline":
            self._pipelines[doc["_id"]] = doc
            self._activity[doc["_id"]] = []
        else:
            self._tasks[doc["_id"]] = doc
        return doc

    def _batch(
        self, kind: Kind, ids: Iterable[str], one: Callable[[Doc], TargetResult]
    ) -> ActionOutcome:
        with self.lock:
            self.sync()
            targets = list(dict.fromkeys(ids))
            store = self._pipelines if kind == "pipeline" else self._tasks
            if targets and not any(target in store for target in targets):
                raise NotFound(f"No {kind} found with id {', '.join(targets)}")
            outcome = ActionOutcome([])
            for target in targets:
                doc = store.get(target)
                if doc is None:
                    outcome.results.append(
                        TargetResult(
                            target, "failed", f"{kind.capitalize()} {target} was not found"
                        )
                    )
                    continue
                outcome.results.append(one(doc))
                if doc["_id"] in store:
                    outcome.documents.append(clone(doc))
            return outcome

    def _update(self, kind: Kind, target: str, settings: Mapping[str, Any]) -> ActionOutcome:
        with self.lock:
            self.sync()
            if not isinstance(settings, Mapping) or not settings:
                raise BadRequest("update needs 'settings': an object with the fields to change")
            unknown = [key for key in settings if key not in EDITABLE_FIELDS]
            if unknown:
                raise BadRequest(
                    f"update cannot change {', '.join(map(repr, unknown))}; "
                    f"it changes only {', '.join(EDITABLE_FIELDS)}"
                )
            changes = _checked_fields(settings)
            store = self._pipelines if kind == "pipeline" else self._tasks
            doc = store.get(target)
            if doc is None:
                raise NotFound(f"No {kind} found with id {target}")
            doc.update(clone(changes))
            self._touch(doc, self._now)
            result = TargetResult(target, "success", f"{kind.capitalize()} {doc['name']} updated")
            return ActionOutcome([result], [clone(doc)])

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


# -- documents -------------------------------------------------------------------------------------


def clone(value: _T) -> _T:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than deepcopy."""
    return cast(_T, _clone(value))


def _clone(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _checked_fields(fields: Mapping[str, Any]) -> Doc:
    """The editable fields among ``fields``, validated (400 on a wrong type or a blank name)."""
    out: Doc = {}
    if "name" in fields:
        name = fields["name"]
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("'name' must be a non-blank string")
        out["name"] = name.strip()
    if "description" in fields:
        if not isinstance(fields["description"], str):
            raise BadRequest("'description' must be a string")
        out["description"] = fields["description"]
    if "active" in fields:
        if not isinstance(fields["active"], bool):
            raise BadRequest("'active' must be true or false")
        out["active"] = fields["active"]
    if "tags" in fields:
        tags = fields["tags"]
        if not isinstance(tags, list) or not all(
            isinstance(tag, dict)
            and isinstance(tag.get("type"), str)
            and isinstance(tag.get("value"), str)
            for tag in tags
        ):
            raise BadRequest('\'tags\' must be an array of {"type": ..., "value": ...} objects')
        out["tags"] = tags
    return out


def _new_document(document: Mapping[str, Any], kind: Kind) -> Doc:
    """A fresh copy of a posted document with its known fields checked and defaults filled in."""
    if not isinstance(document, Mapping):
        raise BadRequest(f"a new {kind} must be a JSON object")
    if "_id" in document:
        raise BadRequest(f"a new {kind} must not carry an '_id': the server assigns one")
    if "name" not in document:
        raise BadRequest(f"a new {kind} needs a 'name'")
    doc: Doc = clone(dict(document))
    doc.update(_checked_fields(doc))
    doc.setdefault("description", "")
    doc.setdefault("active", True)
    doc.setdefault("tags", [])
    doc.setdefault("owner_name", API_USER)
    doc.setdefault("owner", hex_id("user", API_USER))
    doc.pop("createdAt", None)
    doc.pop("updatedAt", None)
    return doc


# -- listing ---------------------------------------------------------------------------------------


class Query(TypedDict, total=False):
    """What a list read can be filtered, sorted and paged by (all optional)."""

    search: str | None
    status: str | None
    type: str | None
    owner: str | None
    tag: str | None
    active: bool | None
    sort: str
    page_size: int | None
    page: int
    live: bool


def _query(
    docs: Iterable[Doc],
    *,
    search: str | None = None,
    status: str | None = None,
    type: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    active: bool | None = None,
    sort: str = "newest",
    page_size: int | None = None,
    page: int = 1,
    live: bool = False,
) -> Page:
    if sort not in SORT_OPTIONS:
        raise BadRequest(f"unknown sortOption {sort!r}; use one of {', '.join(SORT_OPTIONS)}")
    if page < 1:
        raise BadRequest("currentPage must be 1 or more")
    checks: list[Callable[[Doc], bool]] = []
    if search:
        needle = search.casefold()
        checks.append(
            lambda d: (
                needle in str(d.get("name", "")).casefold()
                or needle in str(d.get("description", "")).casefold()
                or needle in str(d.get("_id", "")).casefold()
            )
        )
    if status:
        wanted: set[str] = set()
        for value in status.split(","):
            value = value.strip().casefold()
            if value not in STATUS_FILTERS:
                raise BadRequest(
                    f"unknown status {value!r}; use one of {', '.join(STATUS_FILTERS)}"
                )
            wanted.add(STATUS_FILTERS[value])
        checks.append(lambda d: _status_matches(d, wanted))
    if type:
        kinds = {value.strip().casefold() for value in type.split(",")}
        checks.append(lambda d: bool(kinds & _types_of(d)))
    if owner:
        who = owner.casefold()
        checks.append(
            lambda d: d.get("owner") == owner or who in str(d.get("owner_name", "")).casefold()
        )
    if tag:
        checks.append(_tag_check(tag))
    if active is not None:
        checks.append(lambda d: (d.get("active") is not False) == active)
    matches = [doc for doc in docs if all(check(doc) for check in checks)]
    matches.sort(key=lambda d: str(d.get("_id", "")))
    if sort in ("name", "name-descending"):
        matches.sort(
            key=lambda d: str(d.get("name", "")).casefold(), reverse=sort == "name-descending"
        )
    else:
        stamp = "createdAt" if sort in ("newest", "oldest") else "updatedAt"
        matches.sort(key=lambda d: str(d.get(stamp, "")), reverse=sort in ("newest", "lastupdated"))
    total = len(matches)
    if page_size is not None:
        start = (page - 1) * page_size
        matches = matches[start : start + page_size]
    return Page(matches if live else [clone(doc) for doc in matches], total)


def _status_matches(doc: Doc, wanted: set[str]) -> bool:
    if doc.get("state") in wanted:
        return True
    return (
        "awaiting-approval" in wanted
        and "workflow" in doc
        and derive_status(doc) == "awaiting-approval"
    )


def _types_of(doc: Doc) -> set[str]:
    kinds = doc.get("type")
    if isinstance(kinds, str):
        return {kinds.casefold()}
    if isinstance(kinds, list):
        return {kind.casefold() for kind in kinds if isinstance(kind, str)}
    return set()


def _tag_check(tag: str) -> Callable[[Doc], bool]:
    kind, sep, value = tag.partition(":")
    kind, value = kind.strip().casefold(), value.strip().casefold()

    def check(doc: Doc) -> bool:
        tags = doc.get("tags")
        if not isinstance(tags, list):
            return False
        for item in tags:
            if not isinstance(item, dict):
                continue
            item_type = str(item.get("type", "")).casefold()
            item_value = str(item.get("value", "")).casefold()
            if sep and item_type == kind and item_value == value:
                return True
            if not sep and item_value == kind:
                return True
        return False

    return check
