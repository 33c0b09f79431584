"""Request bodies exactly as the contract writes them, or a refusal before anything is sent.

One place builds every body the client sends: the action table (``POST /api/v2/actions``), the
edit settings, and the clone recipe. Whatever a caller passes, what leaves is inside the
contract, or :class:`RequestRefusedError` says why not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from opstui.api.errors import RequestRefusedError
from opstui.api.fields import is_valid_id
from opstui.api.models import Pipeline
from opstui.api.text import one_line

__all__ = [
    "ACTIONS",
    "OFF_LOOP_IDS",
    "TargetType",
    "action_body",
    "action_body_off_loop",
    "clean_ids",
    "clone_document",
    "clone_name",
    "edit_settings",
]

TargetType = Literal["pipeline", "task"]

OFF_LOOP_IDS = 5_000
"""A batch of this many ids or more is checked and built into its body in a thread."""

ACTIONS: dict[str, frozenset[str]] = {
    "status": frozenset({"pipeline", "task"}),
    "create": frozenset({"pipeline", "task"}),
    "update": frozenset({"pipeline", "task"}),
    "run": frozenset({"pipeline", "task"}),
    "stop": frozenset({"pipeline", "task"}),
    "reset": frozenset({"pipeline"}),
    "delete": frozenset({"pipeline"}),
    "approve": frozenset({"pipeline"}),
    "reject": frozenset({"pipeline"}),
}
"""The documented action table: which target types each action accepts."""

_CLONE_DROPPED = ("_id", "createdAt", "updatedAt")


def clean_ids(ids: Iterable[str], what: str) -> list[str]:
    """Non-blank, printable ids with no spaces, in order, each once; else RequestRefusedError.

    The one id rule (:func:`~opstui.api.fields.is_valid_id`), in linear time.
    """
    if isinstance(ids, str):
        raise RequestRefusedError(f"give a list of {what} ids, not one string")
    try:
        given = list(ids)
    except TypeError:
        raise RequestRefusedError(f"give a list of {what} ids") from None
    targets: dict[str, None] = {}
    for raw in given:
        if not isinstance(raw, str) or not raw.strip():
            raise RequestRefusedError(f"a {what} id cannot be blank")
        target = raw.strip()
        if not is_valid_id(target):
            raise RequestRefusedError(f"{one_line(target, 40)!r} is not a valid {what} id")
        targets[target] = None
    if not targets:
        raise RequestRefusedError(f"no {what} given")
    return list(targets)


def action_body(
    action: str,
    type: str,
    target: Sequence[str] | str | None = None,
    *,
    settings: dict[str, Any] | None = None,
    message: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The body of one action and the ids it targets, or RequestRefusedError.

    ``target`` is a list of ids, except for ``update`` (one id) and ``create`` (none). Pairs
    outside the documented table, and a reject without a reason, are refused.
    """
    if not isinstance(action, str) or action not in ACTIONS:
        raise RequestRefusedError(f"{one_line(action, 40)!r} is not an Opsera action")
    if type not in ACTIONS[action]:
        raise RequestRefusedError(f"{action} is not supported for a {one_line(type, 20)}")
    body: dict[str, Any] = {"action": action, "type": type, "version": 1}
    targets: list[str] = []
    if action == "create":
        if target is not None:
            raise RequestRefusedError("create takes no target")
        if not settings:
            raise RequestRefusedError("create needs settings")
    elif action == "update":
        if not isinstance(target, str):
            raise RequestRefusedError("update takes exactly one id")
        targets = clean_ids([target], type)
        body["target"] = targets[0]
        if not settings:
            raise RequestRefusedError("update needs settings: the fields to change")
    else:
        if target is None or isinstance(target, str):
            raise RequestRefusedError(f"{action} takes a list of ids")
        targets = clean_ids(target, type)
        body["target"] = targets
    if settings is not None:
        if action not in ("create", "update"):
            raise RequestRefusedError(f"{action} takes no settings")
        if not isinstance(settings, dict):
            raise RequestRefusedError(f"the settings of {action} must be an object")
        body["settings"] = settings
    if action == "reject":
        if not isinstance(message, str) or not message.strip():
            raise RequestRefusedError("a reason is required to reject")
        body["message"] = message.strip()
    elif message is not None:
        raise RequestRefusedError(f"{action} takes no message")
    return body, targets


async def action_body_off_loop(
    action: str,
    type: str,
    target: Sequence[str] | str | None = None,
    *,
    settings: dict[str, Any] | None = None,
    message: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """:func:`action_body`, in a thread for a large batch (each id is checked: at 50,000,
    about 90 ms of Python), so an app's keys stay responsive."""
    if isinstance(target, str) or target is None or len(target) < OFF_LOOP_IDS:
        return action_body(action, type, target, settings=settings, message=message)
    return await asyncio.to_thread(
        action_body, action, type, target, settings=settings, message=message
    )


def edit_settings(name: str | None, description: str | None) -> dict[str, Any]:
    """The settings of an update: a non-blank name and/or a description."""
    settings: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise RequestRefusedError("the name cannot be blank")
        settings["name"] = name.strip()
    if description is not None:
        settings["description"] = description
    if not settings:
        raise RequestRefusedError("nothing to update: give a name or a description")
    return settings


def clone_name(new_name: str) -> str:
    """The clone's name, stripped; refused if blank."""
    name = new_name.strip() if isinstance(new_name, str) else ""
    if not name:
        raise RequestRefusedError("the clone needs a name")
    return name


def clone_document(source: Pipeline, name: str) -> dict[str, Any]:
    """The documented clone recipe: the whole document, ids and dates dropped, renamed.

    Unknown fields are kept; step ``_id`` s stay as they are.
    """
    document = source.document()
    for key in _CLONE_DROPPED:
        document.pop(key, None)
    document["name"] = clone_name(name)
    return document
