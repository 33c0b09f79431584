"""The documents of the simulated tenant: deep copies, checked fields, new documents, and what an
action did to each target. Pure data: nothing here moves the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeVar, cast

from opstui.sim.common import Doc, hex_id
from opstui.sim.errors import BadRequest
from opstui.sim.names import API_USER

__all__ = [
    "EDITABLE_FIELDS",
    "ActionOutcome",
    "Kind",
    "TargetResult",
    "TargetStatus",
    "checked_fields",
    "clone",
    "new_document",
]

EDITABLE_FIELDS: Final = ("name", "description", "active", "tags")
"""What the ``update`` action may change."""

_T = TypeVar("_T")
TargetStatus = Literal["executed", "success", "failed"]
Kind = Literal["pipeline", "task"]


@dataclass(frozen=True)
class TargetResult:
    """What an action did to one target, with v1 semantics."""

    target: str
    status: TargetStatus
    message: str
    run_count: int | None = None


@dataclass
class ActionOutcome:
    """The per-target results of an action; for ``status`` and ``update``, copies of the documents
    of the targets that still exist."""

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


def clone(value: _T) -> _T:
    """A deep copy of JSON-shaped data (dicts, lists, scalars), several times faster than deepcopy."""
    return cast(_T, _clone(value))


def _clone(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def checked_fields(fields: Mapping[str, Any]) -> Doc:
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


def new_document(document: Mapping[str, Any], kind: Kind) -> Doc:
    """A fresh copy of a posted document with its known fields checked and defaults filled in."""
    if not isinstance(document, Mapping):
        raise BadRequest(f"a new {kind} must be a JSON object")
    if "_id" in document:
        raise BadRequest(f"a new {kind} must not carry an '_id': the server assigns one")
    if "name" not in document:
        raise BadRequest(f"a new {kind} needs a 'name'")
    doc: Doc = clone(dict(document))
    doc.update(checked_fields(doc))
    doc.setdefault("description", "")
    doc.setdefault("active", True)
    doc.setdefault("tags", [])
    doc.setdefault("owner_name", API_USER)
    doc.setdefault("owner", hex_id("user", API_USER))
    doc.pop("createdAt", None)
    doc.pop("updatedAt", None)
    return doc
