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
from datetime import datetime, timedelta
from typing import Any, Unpack

from opstui.sim.clock import Clock, ManualClock
from opstui.sim.common import Doc, is_hex24, iso
from opstui.sim.documents import (
    EDITABLE_FIELDS,
    ActionOutcome,
    Kind,
    TargetResult,
    checked_fields,
    clone,
    new_document,
)
from opstui.sim.engine import Engine, Event
from opstui.sim.errors import BadRequest, NotFound
from opstui.sim.generate import generate
from opstui.sim.names import API_USER
from opstui.sim.query import Orders, Page, Query, select

__all__ = ["ActionOutcome", "Page", "Query", "TargetResult", "World"]


class World(Engine):
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
        self._events: list[Event] = []
        self._pipelines: dict[str, Doc] = {}
        self._tasks: dict[str, Doc] = {}
        self._activity: dict[str, list[Doc]] = {}
        self._pipeline_orders = Orders()
        self._task_orders = Orders()
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
            return select(self._pipelines.values(), orders=self._pipeline_orders, **query)

    def list_tasks(self, **query: Unpack[Query]) -> Page:
        """Tasks, with the same filters as :meth:`list_pipelines`."""
        with self.lock:
            self.sync()
            return select(self._tasks.values(), orders=self._task_orders, **query)

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
        return self._batch(
            "pipeline", ids, lambda doc: self._status_one(doc, "pipeline"), documents=True
        )

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
            doc = new_document(document, "pipeline")
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
        return self._batch("task", ids, lambda doc: self._status_one(doc, "task"), documents=True)

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
            doc = new_document(document, "task")
            doc.setdefault("type", "custom")
            if not isinstance(doc["type"], str):
                raise BadRequest("a task's 'type' must be a string")
            doc["run_count"] = 0
            doc.pop("last_run", None)
            return clone(self._store("task", doc))

    # -- machinery -------------------------------------------------------------------------------

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
        self,
        kind: Kind,
        ids: Iterable[str],
        one: Callable[[Doc], TargetResult],
        *,
        documents: bool = False,
    ) -> ActionOutcome:
        """``one`` applied to each target, in order; with ``documents`` (the ``status`` action) a
        copy of each document that still exists. A mutation's answer carries none: Opsera's v1
        answers carry none either, and the app reads status after acting. Copying 38,000
        documents into a run's answer took most of the simulator's 12 s."""
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
                if documents and doc["_id"] in store:
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
            changes = checked_fields(settings)
            store = self._pipelines if kind == "pipeline" else self._tasks
            doc = store.get(target)
            if doc is None:
                raise NotFound(f"No {kind} found with id {target}")
            doc.update(clone(changes))
            self._touch(doc, self._now)
            result = TargetResult(target, "success", f"{kind.capitalize()} {doc['name']} updated")
            return ActionOutcome([result], [clone(doc)])
