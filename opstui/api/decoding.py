"""Bodies into models: JSON read tolerantly, one bad record left out, never the page.

The fast path is pydantic-core's parser (about twice as fast as the stdlib's). Only when it
refuses a body is the body repaired: invalid UTF-8 and lone surrogate escapes (``"\\ud83d"``,
valid JSON to most parsers) become U+FFFD, and integers too long for Python become floats, as a
JavaScript server would hold them. A body that still cannot be read, or that is not of the
documented shape, is an :class:`InvalidResponseError`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pydantic_core

from opstui.api.errors import InvalidResponseError
from opstui.api.models import ActionOutcome, ActionResult, DecodeError, Pipeline, Record, Task
from opstui.api.stepwise import STEPWISE_BYTES, NotStepwise, json_number, parse_stepwise
from opstui.api.text import one_line

__all__ = [
    "MAX_DEPTH",
    "OFF_LOOP_BYTES",
    "Page",
    "action_result",
    "collector_paused",
    "created_pipeline",
    "decode_object",
    "decode_page",
    "decode_page_off_loop",
    "parse_json",
]

OFF_LOOP_BYTES = 256 * 1024
"""A list page larger than this is decoded in a thread (about 150 pipelines)."""
MAX_DEPTH = 200
"""JSON nested deeper than this is refused (pydantic-core's own limit, kept on the repair path)."""

OK_WORDS = frozenset({"success", "executed", "ok", "succeeded", "accepted", "queued", "running"})
FAILED_WORDS = frozenset(
    {"failed", "failure", "error", "errored", "rejected", "denied", "refused", "invalid"}
)
"""Words that say a target failed; any other word (or none) leaves its outcome unknown."""


def _outcome(target: str, word: str, message: str, run_count: int | None) -> ActionOutcome:
    """One target's outcome from the server's word: success, failure, or unknown (never a guess).

    A word that is neither (a number, something new, nothing at all) means the server took the
    request without saying what became of it: the caller re-checks the status to find out.
    """
    lowered = word.lower()
    if lowered in OK_WORDS:
        return ActionOutcome(target, True, word, message, run_count)
    if lowered in FAILED_WORDS:
        return ActionOutcome(target, False, word, message, run_count)
    if lowered == "unknown" and message:
        return ActionOutcome(target, False, "unknown", message, run_count)
    said = f"the server answered {word!r}" if word else "the server gave no status"
    return ActionOutcome(
        target,
        False,
        "unknown",
        f"{said}: it may have been applied" + (f" ({message})" if message else ""),
        run_count,
    )


_SURROGATE = re.compile("[\ud800-\udfff]")

ModelT = TypeVar("ModelT", bound=Record)


class _Unreadable(ValueError):
    """The body is not JSON, even repaired."""


class _CollectorPause:
    """No cyclic garbage collection while a page of models is built.

    Building thousands of small objects triggers collection after collection, each scanning
    everything built so far: measured here, 10,000 pipelines decode in ~0.5 s with the collector
    paused and 1.6-2.6 s without. Nothing built here is garbage, so nothing is lost by waiting.
    Pauses nest across threads: the collector comes back when the last one ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._restore = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:
                self._restore = gc.isenabled()
                gc.disable()
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0 and self._restore:
                    gc.enable()


collector_paused = _CollectorPause()


def _text(value: str) -> str:
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)
    return value


def _repaired(body: bytes) -> Any:
    """The body parsed by the stdlib, every string made valid Unicode, depth bounded."""
    try:
        value = json.loads(body.decode("utf-8-sig", errors="replace"), parse_int=json_number)
    except (ValueError, RecursionError):
        raise _Unreadable from None
    root = [value]
    stack: list[tuple[list[Any] | dict[Any, Any], int]] = [(root, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _Unreadable
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = _text(item)
                elif isinstance(item, list | dict):
                    stack.append((item, depth + 1))
            continue
        if not all(key.isascii() for key in node):
            pairs = [(_text(key), item) for key, item in node.items()]
            node.clear()
            node.update(pairs)
        for key, item in node.items():
            if isinstance(item, str):
                node[key] = _text(item)
            elif isinstance(item, list | dict):
                stack.append((item, depth + 1))
    return root[0]


def parse_json(body: bytes, host: str, what: str) -> Any:
    """The body as JSON, repaired if it must be; else InvalidResponseError.

    The collector is paused while the parser builds objects: a 13 MB answer (10,000 documents)
    otherwise set off three full collections inside the parse, 20-50 ms each, holding the
    interpreter lock that the app's event loop waits for. A body of ``STEPWISE_BYTES`` or more
    is parsed a document at a time (``stepwise``): one call of a C parser over a 13 MB one
    held the lock 60-110 ms."""
    with collector_paused():
        if len(body) >= STEPWISE_BYTES:
            try:
                return parse_stepwise(body, MAX_DEPTH)
            except NotStepwise:
                pass  # the usual way reads it, or says why it cannot
        try:
            return pydantic_core.from_json(body)
        except ValueError:
            pass
        try:
            return _repaired(body)
        except _Unreadable:
            raise InvalidResponseError(f"{host} sent {what} that is not JSON") from None


@dataclass(slots=True)
class Page(Generic[ModelT]):
    """One decoded list page."""

    items: list[ModelT]
    skipped: int
    """Records that could not be read (left out one by one)."""
    count: int | None
    """The server's total, if it sent a usable one."""

    @property
    def records(self) -> int:
        """How many records the server sent on this page, read or not."""
        return len(self.items) + self.skipped


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _models(raw: list[Any], model: type[ModelT]) -> tuple[list[ModelT], int]:
    items: list[ModelT] = []
    skipped = 0
    for record in raw:
        try:
            items.append(model.decode(record))
        except (DecodeError, RecursionError):
            skipped += 1  # a record without a usable id is of no use; the rest still are
    return items, skipped


def decode_page(body: bytes, model: type[ModelT], key: str, host: str) -> Page[ModelT]:
    """Items, records skipped and total count from any list shape the contract allows.

    The collector stays paused until the parsed tree is gone: were it back sooner, its first
    young-generation pass would walk the whole tree (a million objects at 10,000 documents)."""
    with collector_paused():
        return _decode_page(body, model, key, host)


def _decode_page(body: bytes, model: type[ModelT], key: str, host: str) -> Page[ModelT]:
    parsed = parse_json(body, host, "a list")
    count: int | None = None
    if isinstance(parsed, dict):
        found = parsed.get("data")
        if not isinstance(found, list):
            found = parsed.get(key)
        if not isinstance(found, list):
            raise InvalidResponseError(f"{host} sent no list of {key} in its answer")
        count = _count(parsed.get("count"))
        parsed = found
    elif not isinstance(parsed, list):
        raise InvalidResponseError(f"{host} sent an answer that is not a list of {key}")
    items, skipped = _models(parsed, model)
    return Page(items, skipped, count)


async def decode_page_off_loop(
    body: bytes, model: type[ModelT], key: str, host: str
) -> Page[ModelT]:
    """:func:`decode_page`, in a thread for a large page, so an app's keys stay responsive."""
    if len(body) < OFF_LOOP_BYTES:
        return decode_page(body, model, key, host)
    return await asyncio.to_thread(decode_page, body, model, key, host)


def decode_object(body: bytes, host: str, what: str = "an answer") -> dict[str, Any]:
    """A JSON object (an empty body is an empty object); else InvalidResponseError."""
    if not body.strip():
        return {}
    parsed = parse_json(body, host, what)
    if not isinstance(parsed, dict):
        raise InvalidResponseError(f"{host} sent {what} that is not a JSON object")
    return parsed


def _word(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _run_count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def action_result(
    action: str, kind: str, targets: list[str], body: dict[str, Any], redact: Callable[[str], str]
) -> ActionResult:
    """An action's answer, per target: the v2 ``results`` shape or the bare v1 one.

    A target the server did not report on is ``unknown``; a ``failed`` inside a 200 is a
    failure. ``redact`` takes the token out of the server's messages.
    """
    overall = one_line(_word(body.get("status")), 40)
    message = one_line(redact(_word(body.get("message"))))
    data = body.get("data")
    documents = isinstance(data, list | dict)
    docs = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    pipelines: list[Pipeline] = []
    tasks: list[Task] = []
    skipped = 0
    if kind == "pipeline":
        pipelines, skipped = _models(docs, Pipeline)
    else:
        tasks, skipped = _models(docs, Task)
    outcomes: list[ActionOutcome] = []
    results = body.get("results")
    if isinstance(results, list):
        by_target: dict[str, dict[str, Any]] = {}
        for item in results:
            if isinstance(item, dict) and isinstance(item.get("target"), str):
                by_target.setdefault(item["target"], item)
        for target in targets or list(by_target):
            item = by_target.get(target)
            if item is None:
                outcomes.append(
                    ActionOutcome(
                        target, False, "unknown", "the server did not report on this target"
                    )
                )
                continue
            outcomes.append(
                _outcome(
                    target,
                    one_line(_word(item.get("status")), 40),
                    one_line(redact(_word(item.get("message")))),
                    _run_count(item.get("runCount")),
                )
            )
    else:
        # The bare v1 shape speaks for the whole request; a 200 with "failed" is a failure.
        run_count = _run_count(body.get("runCount"))
        word = one_line(overall, 40)
        outcomes = [_outcome(t, word, message, run_count) for t in targets]
    return ActionResult(
        action, kind, overall, message, outcomes, pipelines, tasks, documents, skipped
    )


def created_pipeline(body: dict[str, Any]) -> Pipeline | None:
    """The new document in a create answer: ``data.pipeline``, ``data``, or ``data[0]``.

    The recorded answer is ``{"status", "data": {"pipelineId", "pipeline": {...}}}``; a server
    that answers with the document itself is read too. None when no readable document is there.
    """
    data = body.get("data", body)
    if isinstance(data, dict) and isinstance(data.get("pipeline"), dict):
        data = data["pipeline"]
    elif isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        return None
    items, _ = _models([data], Pipeline)
    return items[0] if items else None
