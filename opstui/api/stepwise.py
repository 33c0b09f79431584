"""A large JSON body parsed a document at a time, so that the app's event loop is never kept
waiting for the whole of it.

A parser written in C keeps the interpreter lock for as long as one call lasts: a 13 MB answer
to an action on 10,000 pipelines (each target's outcome and document) took 60-110 ms in one
call of pydantic-core's parser, and for all that time the event loop, in the other thread,
could not take a key. Parsed here, the top-level object goes member by member and each array in
it (the list of documents, the outcomes) element by element, each a short call of the stdlib's
scanner: between two of them Python hands the lock over as it always does (every 5 ms).

Only bodies every parser reads alike come here: valid UTF-8 without surrogate escapes, nested
no deeper than the usual path allows. The rest, and anything this walk does not read to its
end, goes the usual way (``decoding.parse_json``), which reads it or says why it cannot.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

__all__ = ["MAX_INT_DIGITS", "STEPWISE_BYTES", "NotStepwise", "json_number", "parse_stepwise"]

STEPWISE_BYTES = 4 * 1024 * 1024
"""A body this large is parsed a document at a time (about 3,000 pipelines' documents). Below
it one call holds the lock 20 ms at most, and costs half the CPU of the walk: a list page of
1,000 goes the fast way."""

MAX_INT_DIGITS = 4000
"""Integers longer than this are read as floats, as a JavaScript server holds them (and below
Python's 4300-digit limit on ``int(str)``): the one rule of both paths that use the stdlib."""
_SPACE = re.compile(r"[ \t\n\r]*")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_CHUNK = 1024 * 1024


class NotStepwise(ValueError):
    """This body is not for the walk: the usual parser reads it, or says why it cannot."""


def json_number(digits: str) -> int | float:
    """An integer of the JSON text, read by :data:`MAX_INT_DIGITS`' rule."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else float(digits)


_DECODER = json.JSONDecoder(parse_int=json_number)


def parse_stepwise(body: bytes, max_depth: int) -> Any:
    """The body as JSON, a document at a time; :class:`NotStepwise` when it is not for the walk
    (not UTF-8, a surrogate escape, a top level that is neither an object nor an array, nested
    deeper than ``max_depth``, or any error)."""
    try:
        walk = _Walk(_text(body), max_depth)
        value = walk.top()
    except (ValueError, IndexError, RecursionError):
        raise NotStepwise("not read to its end") from None
    return value


def _text(body: bytes) -> str:
    """The body as text, a chunk at a time: over 66 MB (50,000 documents) one search for
    surrogate escapes took 36 ms and one decode 28 ms, each a call that holds the lock."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(body)
    parts = []
    for start in range(0, len(body), _CHUNK):
        # the search starts a few bytes before the chunk: an escape across two is found too
        if _SURROGATE_ESCAPE.search(body, max(0, start - 5), start + _CHUNK):
            raise NotStepwise("a surrogate escape: the repair path reads it")
        parts.append(decoder.decode(view[start : start + _CHUNK]))
    parts.append(decoder.decode(b"", final=True))
    return "".join(parts)


class _Walk:
    def __init__(self, text: str, max_depth: int) -> None:
        self.text = text
        self.max_depth = max_depth

    def skip(self, at: int) -> int:
        """The place of the next character that is not white space."""
        found = _SPACE.match(self.text, at)
        return at if found is None else found.end()

    def top(self) -> Any:
        text = self.text
        at = self.skip(0)
        value: Any
        if text[at] == "{":
            value, at = self.members(at + 1)
        elif text[at] == "[":
            value, at = self.elements(at + 1, depth=1)
        else:
            raise NotStepwise("the top level is not an object or an array")
        if self.skip(at) != len(text):
            raise NotStepwise("something after the value")
        return value

    def value(self, at: int, depth: int) -> tuple[Any, int]:
        """One value, in one call of the scanner (checked for depth when it may be too deep)."""
        value, end = _DECODER.raw_decode(self.text, at)
        if isinstance(value, list | dict):
            brackets = self.text.count("[", at, end) + self.text.count("{", at, end)
            if depth + brackets > self.max_depth and depth + _depth(value) > self.max_depth:
                raise NotStepwise("nested too deep")
        return value, end

    def elements(self, at: int, depth: int) -> tuple[list[Any], int]:
        text = self.text
        items: list[Any] = []
        at = self.skip(at)
        if text[at] == "]":
            return items, at + 1
        while True:
            item, at = self.value(at, depth)
            items.append(item)
            at = self.skip(at)
            if text[at] == "]":
                return items, at + 1
            if text[at] != ",":
                raise NotStepwise("no comma between two elements")
            at = self.skip(at + 1)

    def members(self, at: int) -> tuple[dict[str, Any], int]:
        text = self.text
        members: dict[str, Any] = {}
        at = self.skip(at)
        if text[at] == "}":
            return members, at + 1
        while True:
            if text[at] != '"':
                raise NotStepwise("a member without a name")
            name, at = _DECODER.raw_decode(text, at)
            at = self.skip(at)
            if text[at] != ":":
                raise NotStepwise("no colon after a name")
            at = self.skip(at + 1)
            if text[at] == "[":
                value, at = self.elements(at + 1, depth=2)
            else:
                value, at = self.value(at, depth=1)
            members[name] = value
            at = self.skip(at)
            if text[at] == "}":
                return members, at + 1
            if text[at] != ",":
                raise NotStepwise("no comma between two members")
            at = self.skip(at + 1)


def _depth(value: Any) -> int:
    """How deep ``value`` nests (1 for a flat list or object), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        items = node.values() if isinstance(node, dict) else node
        stack.extend((item, depth + 1) for item in items if isinstance(item, list | dict))
    return deepest
