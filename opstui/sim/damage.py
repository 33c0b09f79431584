"""How a fault damages an answer: pure functions over bytes and JSON values, no HTTP.

Each takes the answer a request would have got (or a stand-in, for a fault that struck before the
world saw the request) and a ``random.Random`` that picks the details, so the damage is seeded too.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any, Final

import pydantic_core

HUGE_BYTES: Final = 4 * 1024 * 1024
"""How much padding a ``huge`` fault adds to an answer."""

PADDING_FIELD: Final = "x_sim_padding"
"""The unknown field that carries a ``huge`` answer's padding (unknown fields must be kept)."""

STAND_IN: Final = b'{"status":"success","message":"accepted"}'
"""The answer a fault damages when it strikes before the world saw the request."""

_PADDING_TEXT: Final = "Opsera simulator padding: a very large answer, still valid JSON. "


def dumps(value: Any) -> bytes:
    """JSON the way the simulator writes it: compact, UTF-8, a NaN or infinity as null (the
    simulator refuses them in bodies, so none is stored). Written by pydantic-core: a page of a
    thousand pipelines in 16 ms where the standard library took 38 (about half of what a page
    cost the simulator)."""
    return pydantic_core.to_json(value, inf_nan_mode="null")


def loads(body: bytes) -> Any:
    """The JSON value of an answer's body, or ``None`` when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def html_page(status: int) -> bytes:
    """The error page a reverse proxy sends in place of an answer."""
    titles = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {titles.get(status, 'Internal Server Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def error_body(message: str) -> bytes:
    """The contract's error body."""
    return dumps({"status": "failed", "message": message})


def malformed(body: bytes, rng: random.Random) -> bytes:
    """``body`` as JSON no parser accepts: cut short, with a stray tail, bad UTF-8, or not JSON."""
    if len(body) < 4:
        body = STAND_IN
    variant = rng.choice(("cut", "tail", "utf8", "quotes", "text"))
    if variant == "cut":
        return body[: rng.randint(1, len(body) - 2)]
    if variant == "tail":
        return body + b'}{"'
    if variant == "utf8":
        at = rng.randint(1, len(body) - 1)
        return body[:at] + b"\xff\xfe\xc3" + body[at:]
    if variant == "quotes":
        return body.replace(b'"', b"'") if b'"' in body else b"{'status': 'success'}"
    return b"upstream connect error or disconnect/reset before headers. reset reason: overflow"


def _records(value: Any) -> list[Any] | None:
    """The list of records in an answer: a bare array, or the ``data``/``pipelines``/``tasks`` array."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        for key in ("data", "pipelines", "tasks"):
            if isinstance(value.get(key), list):
                records: list[Any] = value[key]
                return records
    return None


def wrong_shape(value: Any, rng: random.Random) -> Any | None:
    """``value`` with one thing of the wrong shape, or None when nothing in it can go wrong.

    One of: ``data: null``, ``results: null``, ``count`` as a string, ``status`` as a number, or one
    record without ``_id``, with ``name: {}``, with ``workflow: "x"``, or null itself.
    """
    options: list[str] = []
    if isinstance(value, dict):
        if "data" in value:
            options.append("data-null")
        if "results" in value:
            options.append("results-null")
        if isinstance(value.get("count"), int):
            options.append("count-string")
        if isinstance(value.get("status"), str):
            options.append("status-number")
    records = _records(value)
    dicts = [i for i, item in enumerate(records or []) if isinstance(item, dict)]
    if records is not None and dicts:
        options += ["no-id", "name-object", "null-record"]
        if any("workflow" in records[i] for i in dicts):
            options.append("workflow-string")
    if not options:
        return None
    variant = rng.choice(options)
    if isinstance(value, dict) and variant in ("data-null", "results-null"):
        value[variant.removesuffix("-null")] = None
    elif isinstance(value, dict) and variant == "count-string":
        value["count"] = str(value["count"])
    elif isinstance(value, dict) and variant == "status-number":
        value["status"] = 500
    elif records is not None and variant == "workflow-string":
        index = rng.choice([i for i in dicts if "workflow" in records[i]])
        records[index]["workflow"] = "x"
    elif records is not None:
        index = rng.choice(dicts)
        if variant == "no-id":
            records[index].pop("_id", None)
        elif variant == "name-object":
            records[index]["name"] = {}
        else:
            records[index] = None
    return value


def padded(value: Any, size: int = HUGE_BYTES) -> Any | None:
    """``value`` grown by about ``size`` bytes of padding in unknown fields, still valid.

    The padding is spread over the records when there are some, else put on the answer itself;
    None when there is nowhere to put it (an empty array, a bare value).
    """
    records = [item for item in (_records(value) or []) if isinstance(item, dict)]
    targets: list[dict[str, Any]] = records or ([value] if isinstance(value, dict) else [])
    if not targets:
        return None
    share = max(size // len(targets), 1)
    text = (_PADDING_TEXT * (share // len(_PADDING_TEXT) + 1))[:share]
    for target in targets:
        target[PADDING_FIELD] = text
    return value


def v1_body(answer: Mapping[str, Any]) -> dict[str, Any] | None:
    """A v2 action answer in the bare v1 shape ``{"status", "message", "runCount"?}``, or None.

    One target: its own status, message and run count. Several: ``executed`` or ``success`` when
    every target went through, else ``failed``, with the overall message. No documents either way.
    """
    results = answer.get("results")
    if not isinstance(results, list) or not results:
        return None
    if len(results) == 1 and isinstance(results[0], dict):
        result = results[0]
        bare: dict[str, Any] = {"status": result.get("status"), "message": result.get("message")}
        if "runCount" in result:
            bare["runCount"] = result["runCount"]
        return bare
    statuses = {item.get("status") for item in results if isinstance(item, dict)}
    status = "failed"
    if answer.get("status") == "success":
        status = "executed" if statuses == {"executed"} else "success"
    return {"status": status, "message": answer.get("message")}
