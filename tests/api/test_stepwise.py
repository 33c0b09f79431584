"""A large body parsed a document at a time reads exactly as the usual parser reads it, and
whatever the walk is not for goes the usual way (which repairs it, or refuses it)."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opstui.api.decoding import MAX_DEPTH, parse_json
from opstui.api.stepwise import STEPWISE_BYTES, NotStepwise, parse_stepwise

scalars = st.none() | st.booleans() | st.integers() | st.text() | st.floats(allow_nan=False)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
bodies = st.dictionaries(st.text(), documents | st.lists(documents), max_size=5) | st.lists(
    documents
)


@settings(max_examples=300, deadline=None)
@given(bodies, st.sampled_from([None, 0, 2]))
def test_the_walk_reads_what_the_usual_parser_reads(value: Any, indent: int | None) -> None:
    body = json.dumps(value, indent=indent, ensure_ascii=False).encode()
    assert parse_stepwise(body, MAX_DEPTH) == pydantic_core.from_json(body)


def _answer(targets: int) -> bytes:
    """An answer to an action on many pipelines, as the simulator writes one."""
    results = [
        {"target": f"{i:024x}", "status": "success", "message": "ok"} for i in range(targets)
    ]
    data = [
        {"_id": f"{i:024x}", "name": f"p-{i} ✓", "workflow": {"plan": [{"name": "b"}] * 8}}
        for i in range(targets)
    ]
    return json.dumps({"status": "success", "results": results, "data": data}).encode()


def test_a_large_answer_is_read_whole_and_alike() -> None:
    body = _answer(20_000)
    assert len(body) >= STEPWISE_BYTES
    assert parse_json(body, "h", "an answer") == pydantic_core.from_json(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": ["\\ud83d"]}',  # a lone surrogate escape: the repair path's
        b'\xef\xbb\xbf{"data": []}',  # a byte order mark
        b'{"data": [1, 2]} trailing',
        b'{"data": [1 2]}',
        b'{"data": [1, 2]',
        b'"just a string"',
        b'{"data": [' + b"[" * (MAX_DEPTH + 5) + b"]" * (MAX_DEPTH + 5) + b"]}",
        b'{"a": 1, "b": \xff}',
    ],
)
def test_what_the_walk_is_not_for_goes_the_usual_way(body: bytes) -> None:
    with pytest.raises(NotStepwise):
        parse_stepwise(body, MAX_DEPTH)


def test_a_large_body_with_a_lone_surrogate_is_repaired_not_refused() -> None:
    body = _answer(20_000).replace(b'"p-7 ', b'"p-7 \\ud83d ', 1)
    parsed = parse_json(body, "h", "an answer")
    assert parsed["data"][7]["name"] == "p-7 \ufffd ✓"
    assert len(parsed["data"]) == 20_000


def test_nesting_just_within_the_limit_is_read() -> None:
    depth = MAX_DEPTH - 3  # the top object and the data array are two levels of it
    body = b'{"data": [' + b"[" * depth + b"]" * depth + b"]}"
    assert parse_stepwise(body, MAX_DEPTH) == json.loads(body)


@pytest.mark.parametrize("back", [1, 2, 3, 4, 5])
def test_chunks_miss_no_escape_and_split_no_character(back: int) -> None:
    """The text is decoded and searched a mebibyte at a time: an escape or a character of
    several bytes across a chunk's end is read as if the body were one piece."""
    chunk = 1024 * 1024
    pad = b'{"data": ["' + b"x" * (chunk - 11 - back)
    assert len(pad) == chunk - back
    with pytest.raises(NotStepwise):
        parse_stepwise(pad + b'\\ud83d"]}', MAX_DEPTH)
    body = pad + '✓ done"]}'.encode()
    assert parse_stepwise(body, MAX_DEPTH) == pydantic_core.from_json(body)
