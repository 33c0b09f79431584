"""Typed, tolerant, compact views of the documents an Opsera server sends.

Decoding never fails on an unknown field (the whole document is kept, so a clone copies it) nor
on a missing or malformed ``workflow`` (the status is then ``unknown``). Only a record that is not
an object, or has no usable ``_id``, is rejected, because nothing can be done with it.

Plain slotted classes rather than pydantic models: a tenant may hold 10,000 pipelines, and a
command line pays for every model class it builds at import. What a list shows (status, the
current step, the last run) is derived once, when a document is read; the document itself is
kept as compact JSON (read from it again only by :meth:`~_Document.document`,
:attr:`Pipeline.workflow` and :attr:`Pipeline.plan`: the details and a clone). What a view sorts
and searches by (:attr:`~_Document.search_text`, :attr:`~_Document.sort_name`,
:attr:`Pipeline.last_run_time`) is worked out then too, where the decoding runs (a thread, for
a large answer): a refresh that replaced forty thousand pipelines costs the event loop a
lookup a pipeline, not a casefold and a join. Repeated words
(owners, states, tags, types, tools) are shared between documents; the readers of single values
live in :mod:`~opstui.api.fields`.
"""

from __future__ import annotations

import copy
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import pydantic_core

from opstui.api.fields import (
    Tag,
    as_int,
    is_valid_id,
    parse_time,
    read_field,
    read_tags,
    read_types,
    word,
)
from opstui.api.results import ActionOutcome, ActionResult, Listing
from opstui.api.workflow import (
    PipelineStatus,
    Step,
    TaskStatus,
    as_dict,
    as_str,
    current_step_id,
    derive_status,
    locate_step,
    plan_of,
)

__all__ = [
    "ActionOutcome",
    "ActionResult",
    "ActivityEntry",
    "DecodeError",
    "Listing",
    "Pipeline",
    "PipelineStatus",
    "Record",
    "Step",
    "Tag",
    "Task",
    "TaskStatus",
    "derive_status",
    "is_valid_id",
]


_NEVER = float("-inf")


class DecodeError(ValueError):
    """A record that cannot be read (not an object, or no usable id): it is left out."""


def _document_id(data: dict[str, Any]) -> str:
    value = read_field(data, "_id", "id")
    if isinstance(value, dict) and "$oid" in value:  # extended JSON, as some exports send
        value = value["$oid"]
    if not isinstance(value, str) or not is_valid_id(value):
        raise DecodeError("a record needs an id: printable text, with no spaces")
    return value


def _active(data: dict[str, Any]) -> bool:
    value = data.get("active", True)
    return value is not False and value != "false"


class Record:
    """Something a list answer holds: read from one JSON object, or refused."""

    __slots__ = ()

    @classmethod
    def decode(cls, data: Any) -> Self:
        """The record read from a parsed JSON value; :class:`DecodeError` if it cannot be."""
        raise NotImplementedError

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """The record read from ``data`` (a dict a caller built, kept as given)."""
        return cls.decode(data)


class _Document(Record):
    """Fields shared by pipelines and tasks, decoded tolerantly; the whole document is kept."""

    __slots__ = (
        "_source",
        "active",
        "created_at",
        "description",
        "id",
        "name",
        "owner",
        "owner_name",
        "search_text",
        "sort_name",
        "state",
        "tags",
        "updated_at",
    )
    id: str
    name: str
    description: str
    owner: str
    owner_name: str
    active: bool
    tags: tuple[Tag, ...]
    state: str
    created_at: datetime | None
    updated_at: datetime | None
    search_text: str
    """The casefolded text a filter searches: name, id, owner and tags, one space apart."""
    sort_name: str
    """The casefolded name: the order of a sort by name (ties by id)."""
    _source: bytes | dict[str, Any]

    @classmethod
    def decode(cls, data: Any) -> Self:
        """A document as the server sent it (JSON values only), kept as compact JSON."""
        return cls._read(data, compact=True)

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        """A document from a dict a caller built: kept as that dict (any Python values)."""
        return cls._read(data, compact=False)

    @classmethod
    def _read(cls, data: Any, *, compact: bool) -> Self:
        if not isinstance(data, dict):
            raise DecodeError("a record is a JSON object")
        self = cls.__new__(cls)
        self.id = _document_id(data)
        self.name = as_str(data.get("name"))
        self.description = as_str(data.get("description"))
        self.owner = word(data.get("owner"))
        self.owner_name = word(data.get("owner_name"))
        self.active = _active(data)
        self.tags = read_tags(data.get("tags"))
        self.state = word(data.get("state"))
        self.created_at = parse_time(read_field(data, "createdAt", "created_at"))
        self.updated_at = parse_time(read_field(data, "updatedAt", "updated_at"))
        self._read_more(data)
        self.sort_name = self.name.casefold()
        self.search_text = " ".join(
            (self.name, self.id, self.owner_name, self.owner, self.tag_text)
        ).casefold()
        self._source = data
        if compact:
            # what JSON cannot hold (only a caller's own values) is kept as it is
            with suppress(ValueError, RecursionError):
                self._source = pydantic_core.to_json(data)
        return self

    def _read_more(self, data: dict[str, Any]) -> None:
        """What a kind of document reads beyond the shared fields."""

    def _whole(self) -> dict[str, Any]:
        source = self._source
        if isinstance(source, bytes):
            parsed: dict[str, Any] = pydantic_core.from_json(source)
            return parsed
        return source

    @property
    def tag_text(self) -> str:
        """Tags as ``type:value`` words, comma separated."""
        return ", ".join(str(tag) for tag in self.tags)

    def document(self) -> dict[str, Any]:
        """A deep copy of the document exactly as the server sent it, unknown fields included."""
        if isinstance(self._source, bytes):
            return self._whole()  # a fresh parse is a copy already
        return copy.deepcopy(self._source)

    def same_document(self, other: _Document) -> bool:
        """True when ``other`` is the same document, exactly (two read ones: no parsing)."""
        if type(other) is not type(self):
            return False
        if isinstance(self._source, bytes) and isinstance(other._source, bytes):
            return self._source == other._source
        return self._whole() == other._whole()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Document) and self.same_document(other)

    __hash__ = None  # type: ignore[assignment]  # equal by content, so not hashable

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, name={self.name!r}, state={self.state!r})"


class Pipeline(_Document):
    """An Opsera pipeline: what a list shows is read once; the workflow is read when asked."""

    __slots__ = (
        "_plan_length",
        "current_step",
        "current_step_index",
        "last_run_completed",
        "last_run_status",
        "last_run_time",
        "run_count",
        "status",
        "type",
    )
    type: tuple[str, ...]
    status: PipelineStatus
    """The status, as the portal shows it (its ``state`` word, or derived; gates first)."""
    run_count: int
    """How many runs the pipeline has had (0 if it never ran or the server did not say)."""
    current_step_index: int | None
    """Index in :attr:`plan` of the step the portal highlights (at, failed at, ended at)."""
    current_step: Step | None
    """The step the run is at (or ended at), if known."""
    last_run_status: str
    """The last run's status word, as sent (``success``, ``failed``, ...)."""
    last_run_completed: datetime | None
    """When the last run finished, if the server said."""
    last_run_time: float
    """:attr:`last_run_completed` as a timestamp (minus infinity for never): a sort's key."""
    _plan_length: int

    def _read_more(self, data: dict[str, Any]) -> None:
        workflow = data.get("workflow")
        flow = as_dict(workflow)
        last_run = as_dict(flow.get("last_run"))
        self.type = read_types(data.get("type"))
        self.status = derive_status(workflow, self.state)
        self.run_count = as_int(flow.get("run_count")) or 0
        self.last_run_status = word(last_run.get("status"))
        self.last_run_completed = completed = parse_time(last_run.get("completed"))
        self.last_run_time = completed.timestamp() if completed is not None else _NEVER
        index, step, self._plan_length = locate_step(
            workflow, current_step_id(workflow, self.status)
        )
        self.current_step_index, self.current_step = index, step
        if step is not None:  # the same tool words and step names recur in every pipeline
            self.current_step = Step(
                step.id,
                word(step.name),
                word(step.tool_identifier),
                step.active,
                step.configuration,
            )

    @property
    def workflow(self) -> Any:
        """The ``workflow`` object exactly as sent (read from the kept document at each call)."""
        return self._whole().get("workflow")

    @property
    def plan(self) -> list[Step]:
        """The plan's steps, in order (read from the kept document at each call)."""
        return plan_of(self.workflow)

    @property
    def step_text(self) -> str:
        """``3/5 Deploy``, or an empty string when no step applies."""
        if self.current_step_index is None or self.current_step is None:
            return ""
        return f"{self.current_step_index + 1}/{self._plan_length} {self.current_step.name}"

    @property
    def gate(self) -> Step | None:
        """The approval gate the pipeline waits at, if it is awaiting approval."""
        if self.status is not PipelineStatus.AWAITING_APPROVAL:
            return None
        return self.current_step

    @property
    def waiting_since(self) -> datetime | None:
        """When the pipeline reached its gate: the document's last update, while it waits."""
        return self.updated_at if self.gate is not None else None


class Task(_Document):
    """A standalone Opsera task (Salesforce sync, Git sync, cloud creation, ...)."""

    __slots__ = ("last_run", "run_count", "type")
    type: str
    run_count: int
    last_run: Any

    def _read_more(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if isinstance(kind, list):
            kind = ", ".join(as_str(v) for v in kind if as_str(v))
        self.type = word(kind)
        self.run_count = as_int(data.get("run_count")) or 0
        self.last_run = data.get("last_run")

    @property
    def status(self) -> TaskStatus:
        """The task's state word as a status; anything unexpected is ``unknown``."""
        try:
            status = TaskStatus(self.state)
        except ValueError:
            return TaskStatus.UNKNOWN if self.state else TaskStatus.IDLE
        return TaskStatus.UNKNOWN if status is TaskStatus.AWAITING_APPROVAL else status

    @property
    def last_run_status(self) -> str:
        """The last run's status word, as sent."""
        return as_str(as_dict(self.last_run).get("status"))

    @property
    def last_run_completed(self) -> datetime | None:
        """When the last run finished, if the server said."""
        return parse_time(as_dict(self.last_run).get("completed"))


@dataclass(frozen=True, slots=True)
class ActivityEntry(Record):
    """One row of a pipeline's activity log."""

    id: str = ""
    run_count: int | None = None
    step_name: str = ""
    tool_identifier: str = ""
    action: str = ""
    message: str = ""
    status: str = ""
    created_at: datetime | None = None

    @classmethod
    def decode(cls, data: Any) -> Self:
        """An entry read from a JSON object (any field may be missing or malformed)."""
        if not isinstance(data, dict):
            raise DecodeError("a log entry is a JSON object")
        return cls(
            id=as_str(read_field(data, "_id", "id")),
            run_count=as_int(data.get("run_count")),
            step_name=as_str(data.get("step_name")),
            tool_identifier=word(data.get("tool_identifier")),
            action=word(data.get("action")),
            message=as_str(data.get("message")),
            status=word(data.get("status")),
            created_at=parse_time(read_field(data, "createdAt", "created_at")),
        )
