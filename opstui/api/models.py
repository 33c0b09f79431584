"""Typed, tolerant views of the documents an Opsera server sends.

Decoding never fails on an unknown field (it is kept, so a clone copies it) nor on a missing or
malformed ``workflow`` (the status is then ``unknown``). Only an object without an ``_id`` is
rejected, because nothing can be done with it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from opstui.api.workflow import (
    PipelineStatus,
    Step,
    TaskStatus,
    as_dict,
    as_str,
    current_step_id,
    derive_status,
    plan_of,
)

__all__ = [
    "ActionOutcome",
    "ActionResult",
    "ActivityEntry",
    "Listing",
    "Pipeline",
    "PipelineStatus",
    "Step",
    "Tag",
    "Task",
    "TaskStatus",
    "derive_status",
    "is_valid_id",
]


def is_valid_id(value: str) -> bool:
    """An id a person can read and type: printable, no spaces (Opsera's are 24 hex digits)."""
    # Every whitespace but the ASCII space is unprintable already: one scan in C, not one a char.
    return bool(value) and value.isprintable() and " " not in value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 string or epoch number as an aware UTC datetime; anything else is None."""
    try:
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, bool):
            return None
        elif isinstance(value, int | float):
            seconds = value / 1000 if value > 1e11 else value  # milliseconds, as JavaScript sends
            moment = datetime.fromtimestamp(seconds, UTC)
        elif isinstance(value, str) and value.strip():
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Tag(BaseModel):
    """A ``{type, value}`` tag; a bare string is read as a tag with no type."""

    model_config = ConfigDict(extra="allow")

    type: str = ""
    value: str = ""

    def __str__(self) -> str:
        return f"{self.type}:{self.value}" if self.type else self.value


def _tags(value: Any) -> list[Tag]:
    if not isinstance(value, list):
        return []
    tags: list[Tag] = []
    for item in value:
        if isinstance(item, str):
            tags.append(Tag(value=item))
        elif isinstance(item, dict):
            tags.append(Tag(type=as_str(item.get("type")), value=as_str(item.get("value"))))
    return tags


class _Document(BaseModel):
    """Fields shared by pipelines and tasks, decoded tolerantly; unknown fields are kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(alias="_id", min_length=1)
    name: str = ""
    description: str = ""
    owner: str = ""
    owner_name: str = ""
    active: bool = True
    tags: list[Tag] = Field(default_factory=list)
    state: str = ""
    created_at: datetime | None = Field(default=None, alias="createdAt")
    updated_at: datetime | None = Field(default=None, alias="updatedAt")

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, _Document):
            model._raw = data
        return model

    @field_validator("id", mode="before")
    @classmethod
    def _id_text(cls, value: Any) -> Any:
        if isinstance(value, dict) and "$oid" in value:  # extended JSON, as some exports send
            value = value["$oid"]
        if isinstance(value, str) and not is_valid_id(value):
            raise ValueError("an id is printable, with no spaces")  # the record is skipped
        return value

    @field_validator("name", "description", "owner", "owner_name", "state", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_str(value)

    @field_validator("active", mode="before")
    @classmethod
    def _active(cls, value: Any) -> bool:
        return value is not False and value != "false"

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, value: Any) -> list[Tag]:
        return _tags(value)

    @field_validator("created_at", "updated_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> datetime | None:
        return parse_time(value)

    @property
    def tag_text(self) -> str:
        """Tags as ``type:value`` words, comma separated."""
        return ", ".join(str(tag) for tag in self.tags)

    def document(self) -> dict[str, Any]:
        """A deep copy of the document exactly as the server sent it, unknown fields included."""
        if self._raw:
            return copy.deepcopy(self._raw)
        return self.model_dump(by_alias=True, mode="json", exclude_unset=True)


class Pipeline(_Document):
    """An Opsera pipeline. ``workflow`` is kept raw; everything derived from it is tolerant."""

    type: list[str] = Field(default_factory=list)
    workflow: Any = None

    @field_validator("type", mode="before")
    @classmethod
    def _types(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            return [value] if value else []
        if isinstance(value, list):
            return [item for item in (as_str(v) for v in value) if item]
        return []

    @cached_property
    def status(self) -> PipelineStatus:
        """The status, as the portal shows it (its ``state`` word, or derived; gates first)."""
        return derive_status(self.workflow, self.state)

    @cached_property
    def plan(self) -> list[Step]:
        """The plan's steps, in order."""
        return plan_of(self.workflow)

    @property
    def run_count(self) -> int:
        """How many runs the pipeline has had (0 if it never ran or the server did not say)."""
        return _as_int(as_dict(self.workflow).get("run_count")) or 0

    @cached_property
    def current_step_index(self) -> int | None:
        """Index in :attr:`plan` of the step the portal highlights (at, failed at, ended at)."""
        step_id = current_step_id(self.workflow, self.status)
        if not step_id:
            return None
        for index, step in enumerate(self.plan):
            if step.id == step_id:
                return index
        return None

    @property
    def current_step(self) -> Step | None:
        """The step the run is at (or ended at), if known."""
        index = self.current_step_index
        return None if index is None else self.plan[index]

    @property
    def step_text(self) -> str:
        """``3/5 Deploy``, or an empty string when no step applies."""
        index = self.current_step_index
        if index is None:
            return ""
        return f"{index + 1}/{len(self.plan)} {self.plan[index].name}"

    @property
    def last_run_status(self) -> str:
        """The last run's status word, as sent (``success``, ``failed``, ...)."""
        return as_str(as_dict(as_dict(self.workflow).get("last_run")).get("status"))

    @property
    def last_run_completed(self) -> datetime | None:
        """When the last run finished, if the server said."""
        return parse_time(as_dict(as_dict(self.workflow).get("last_run")).get("completed"))

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

    type: str = ""
    run_count: int = 0
    last_run: Any = None

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(as_str(v) for v in value if as_str(v))
        return as_str(value)

    @field_validator("run_count", mode="before")
    @classmethod
    def _runs(cls, value: Any) -> int:
        return _as_int(value) or 0

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


class ActivityEntry(BaseModel):
    """One row of a pipeline's activity log."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str = Field(default="", alias="_id")
    run_count: int | None = None
    step_name: str = ""
    tool_identifier: str = ""
    action: str = ""
    message: str = ""
    status: str = ""
    created_at: datetime | None = Field(default=None, alias="createdAt")

    @field_validator(
        "id", "step_name", "tool_identifier", "action", "message", "status", mode="before"
    )
    @classmethod
    def _text(cls, value: Any) -> str:
        return as_str(value)

    @field_validator("run_count", mode="before")
    @classmethod
    def _runs(cls, value: Any) -> int | None:
        return _as_int(value)

    @field_validator("created_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> datetime | None:
        return parse_time(value)


ItemT = TypeVar("ItemT")


class Listing(list[ItemT]):
    """What a read brought back, and how far it can be trusted to be the whole truth.

    A plain list of the records, with two facts beside it:

    - ``skipped``: records the server sent that could not be read (each was left out, not the
      page; a person is told how many);
    - ``complete``: for a list read, True only when every page was read in a stable order and
      nothing moved between the pages, so that absence from it means the record is gone. For a
      ``status`` read, True when the answer carried the documents (a v1-shaped answer does not).
      Absence from an incomplete listing never means deletion.
    """

    def __init__(
        self, items: Iterable[ItemT] = (), *, skipped: int = 0, complete: bool = True
    ) -> None:
        super().__init__(items)
        self.skipped = skipped
        self.complete = complete

    def __repr__(self) -> str:
        return f"Listing({len(self)} items, skipped={self.skipped}, complete={self.complete})"


@dataclass(frozen=True, slots=True)
class ActionOutcome:
    """What happened to one target of an action."""

    target: str
    ok: bool
    status: str
    """The server's word: ``executed``, ``success``, ``failed``, ..."""
    message: str = ""
    run_count: int | None = None

    @property
    def unknown(self) -> bool:
        """True when the server did not say what happened to this target (it may have been)."""
        return self.status == "unknown"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """The outcome of one action request, per target."""

    action: str
    type: str
    status: str
    """The server's overall word (``success``, ``partial``, ``failed``, ...)."""
    message: str
    outcomes: list[ActionOutcome]
    pipelines: list[Pipeline] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    documents: bool = False
    """True when the answer carried documents (``data``); the bare v1 shape carries none."""
    skipped: int = 0
    """Documents in the answer that could not be read (left out one by one)."""

    @property
    def ok(self) -> bool:
        """True when every target succeeded."""
        return all(outcome.ok for outcome in self.outcomes)

    @property
    def failed(self) -> list[ActionOutcome]:
        """The targets the action failed for."""
        return [outcome for outcome in self.outcomes if not outcome.ok]
