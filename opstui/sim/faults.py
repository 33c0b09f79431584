"""Faults on demand: what may go wrong with an answer, how often, and which request it strikes.

Two ways to ask for faults, both deterministic:

- **A plan of rates** (``opstui sim --faults SPEC``, ``PUT /_sim/faults``, :func:`parse_faults`), e.g.
  ``5xx=0.05,429=0.02,retry-after=2,latency=50ms,jitter=100ms,reset=0.02,v1=1,seed=3``. For every
  request the plan draws from a ``random.Random`` seeded with the plan's seed, the request's method,
  path and action, and how many such requests came before; so a given sequence of requests meets the
  same faults on every run, however requests to other endpoints interleave.
- **One-shot faults** (``SimServer.add_fault``, :meth:`opstui.sim.strikes.FaultEngine.add`): "the
  next ``POST /api/v2/actions`` whose action is ``approve`` is applied, then its connection is reset".

A fault strikes either **before** the world sees the request (nothing is applied) or **after** the
world applied it and answered (only the answer is damaged or lost): that is what makes "outcome
unknown" real for a client. The kinds:

=============  ===============================================================  ============
kind           what the client gets                                             when
=============  ===============================================================  ============
status         the raw ``status``/``body``/``headers`` given (one-shot only)   before*
5xx            500, 502, 503 or 504 with a JSON error body                      before*
429            429 with ``Retry-After`` (``retry-after=N`` seconds)             before*
html           a proxy's ``text/html`` error page (502, 503 or 504)             before*
hang           no answer at all, until the client gives up or the server stops  either
reset          status line and headers, part of the body, then a TCP reset     either
truncate       a ``Content-Length`` promising more than is sent, then a close  either
malformed      a complete answer whose JSON is broken                          either
empty          an empty body                                                    either
gzip-lie       ``Content-Encoding: gzip`` on a body that is not gzip            either
wrong-shape    valid JSON of the wrong shape (``data: null``, a record without  after
               ``_id``, ``name: {}``, ``workflow: "x"``, ``count: "40"``, ...)
huge           the answer padded with unknown fields to several MB, still valid after
v1             an action answered in the v1 shape ``{"status", "message",       after
               "runCount"?}``; a ``status`` action without documents
=============  ===============================================================  ============

(*) The plan uses the "when" shown; "either" is drawn half and half. One-shot faults default to
"before" for the kinds marked before* and for ``hang`` and ``reset``, to "after" for the others; a
fault that strikes before the world answered damages a stand-in answer instead of the real one.

``latency`` and ``jitter`` add ``latency + uniform(0, jitter)`` to every request. ``chaos=P`` makes a
share ``P`` of requests meet some fault, spread over the kinds from ``5xx`` to ``huge`` (not ``v1``):
kinds named explicitly keep their own rate and the rest of ``P`` is spread over the others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

When = Literal["before", "after"]

FAILURE_KINDS: Final = (
    "5xx",
    "429",
    "hang",
    "reset",
    "truncate",
    "malformed",
    "html",
    "empty",
    "gzip-lie",
    "wrong-shape",
    "huge",
)
"""The kinds a plan draws from, one at most per request, in the order their rates are laid out."""

KINDS: Final = (*FAILURE_KINDS, "v1")
"""Every kind a plan can name. ``v1`` is drawn on its own, for action answers no other fault struck."""

ONE_SHOT_KINDS: Final = ("status", *KINDS)
"""Every kind a one-shot fault can be; ``status`` is a raw answer made of the given status, body and
headers."""

BEFORE_KINDS: Final = frozenset({"status", "5xx", "429", "html"})
"""Kinds that replace the answer with an error: the plan strikes them before the world sees the
request."""

AFTER_ONLY_KINDS: Final = frozenset({"wrong-shape", "huge", "v1"})
"""Kinds that reshape the world's real answer, so they can only strike after it."""

ONE_SHOT_BEFORE_DEFAULT: Final = BEFORE_KINDS | {"hang", "reset"}
"""One-shot kinds that strike before the world unless told ``when="after"``."""

CHAOS_WEIGHTS: Final[Mapping[str, float]] = {
    "5xx": 3,
    "429": 2,
    "hang": 0.5,
    "reset": 1,
    "truncate": 1,
    "malformed": 1,
    "html": 1,
    "empty": 1,
    "gzip-lie": 1,
    "wrong-shape": 1,
    "huge": 0.5,
}
"""How ``chaos=P`` spreads ``P`` over the failure kinds (hangs and huge answers are slow: fewer)."""

SERVER_ERRORS: Final = (500, 502, 503, 504)
PROXY_ERRORS: Final = (502, 503, 504)
MAX_DELAY: Final = 60.0
"""The most ``latency`` or ``jitter`` may be, in seconds."""

FAULTS_HELP: Final = (
    "inject faults: comma-separated key=value pairs. Rates between 0 and 1 for "
    "5xx, 429, hang, reset, truncate, malformed, html, empty, gzip-lie, wrong-shape, huge "
    "(one of them at most per request) and v1 (action answers in the v1 shape); "
    "chaos=RATE spreads one rate over every kind but v1; retry-after=SECONDS (with 429); "
    "latency=50ms and jitter=100ms add a delay to every request; seed=N picks which requests "
    "are struck. Example: 5xx=0.05,429=0.02,retry-after=2,latency=50ms,reset=0.02,seed=3 "
    "or chaos=0.2. The running simulator shows and changes them at GET/PUT /_sim/faults."
)
"""Help text for ``opstui sim --faults`` (no ``%`` in it, so argparse can take it as it is)."""


@dataclass(frozen=True)
class FaultPlan:
    """Rates of faults and delays for every request; the empty plan (the default) injects nothing.

    Build one with :func:`parse_faults`; :meth:`spec` gives it back as a spec string.
    """

    explicit: Mapping[str, float] = field(default_factory=dict)
    """The rates named in the spec, by kind."""
    chaos: float = 0.0
    """The share of requests that meet a fault, spread over the failure kinds not named."""
    retry_after: int = 1
    """The ``Retry-After`` of a 429, in seconds."""
    latency: float = 0.0
    """Seconds added to every request."""
    jitter: float = 0.0
    """Up to this many more seconds, drawn uniformly for every request."""
    seed: int = 0
    """Which requests are struck: the same seed strikes the same requests."""

    @property
    def rates(self) -> dict[str, float]:
        """The rate of every kind (0 for none), with ``chaos`` spread over the unnamed ones."""
        rates = {kind: float(self.explicit.get(kind, 0.0)) for kind in KINDS}
        if self.chaos > 0:
            named = sum(self.explicit.get(kind, 0.0) for kind in FAILURE_KINDS)
            rest = max(self.chaos - named, 0.0)
            unnamed = [kind for kind in FAILURE_KINDS if kind not in self.explicit]
            weight = sum(CHAOS_WEIGHTS[kind] for kind in unnamed)
            for kind in unnamed:
                rates[kind] = rest * CHAOS_WEIGHTS[kind] / weight
        return rates

    @property
    def active(self) -> bool:
        """Whether the plan injects anything at all."""
        return self.latency > 0 or self.jitter > 0 or any(self.rates.values())

    def spec(self) -> str:
        """The plan as a spec string, which :func:`parse_faults` reads back to this plan."""
        parts = [
            f"{kind}={_number(self.explicit[kind])}" for kind in KINDS if kind in self.explicit
        ]
        if self.chaos:
            parts.append(f"chaos={_number(self.chaos)}")
        if self.retry_after != 1:
            parts.append(f"retry-after={self.retry_after}")
        if self.latency:
            parts.append(f"latency={_number(round(self.latency * 1000, 6))}ms")
        if self.jitter:
            parts.append(f"jitter={_number(round(self.jitter * 1000, 6))}ms")
        if self.seed:
            parts.append(f"seed={self.seed}")
        return ",".join(parts)

    def as_json(self) -> dict[str, Any]:
        """The plan for ``GET /_sim/faults``: the spec, every effective rate, the delays, the seed."""
        return {
            "spec": self.spec(),
            "rates": self.rates,
            "chaos": self.chaos,
            "retry_after": self.retry_after,
            "latency_ms": self.latency * 1000,
            "jitter_ms": self.jitter * 1000,
            "seed": self.seed,
        }


def parse_faults(spec: str) -> FaultPlan:
    """The plan a spec string describes; a blank spec (or ``none``) is the empty plan.

    Raises ``ValueError`` with a one-line message naming the bad part of the spec.
    """
    if not isinstance(spec, str):
        raise ValueError("faults: the spec must be a string like 5xx=0.05,seed=3")
    explicit: dict[str, float] = {}
    values: dict[str, Any] = {}
    seen: set[str] = set()
    if spec.strip().lower() in ("", "none", "off"):
        return FaultPlan()
    for part in spec.split(","):
        item = part.strip()
        if not item:
            continue
        key, sep, raw = item.partition("=")
        key = key.strip().lower().replace("_", "-")
        raw = raw.strip()
        if not sep or not key or not raw:
            raise ValueError(f"faults: {item!r} is not key=value (e.g. 5xx=0.05)")
        if key in seen:
            raise ValueError(f"faults: {key} is given twice")
        seen.add(key)
        if key in KINDS:
            explicit[key] = _rate(key, raw)
        elif key == "chaos":
            values["chaos"] = _rate(key, raw)
        elif key in ("latency", "jitter"):
            values[key] = _duration(key, raw)
        elif key == "retry-after":
            values["retry_after"] = _whole(key, raw.removesuffix("s"), raw)
        elif key == "seed":
            values["seed"] = _whole(key, raw, raw, signed=True)
        else:
            known = ", ".join([*KINDS, "chaos", "retry-after", "latency", "jitter", "seed"])
            raise ValueError(f"faults: unknown key {key!r}; use {known}")
    total = sum(explicit.get(kind, 0.0) for kind in FAILURE_KINDS)
    if total > 1 + 1e-9:
        raise ValueError(
            f"faults: the rates of {', '.join(k for k in FAILURE_KINDS if k in explicit)} "
            f"add up to {total:g}, more than 1"
        )
    return FaultPlan(explicit=explicit, **values)


def _number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def _rate(key: str, raw: str) -> float:
    text = raw.removesuffix("%")
    try:
        value = float(text) / (100 if text != raw else 1)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"faults: {key} must be a rate between 0 and 1 (or 0% to 100%), not {raw!r}"
        )
    return value


_DURATION: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)")


def _duration(key: str, raw: str) -> float:
    match = _DURATION.fullmatch(raw.lower())
    if match is None:
        raise ValueError(f"faults: {key} must be a duration like 50ms or 0.2s, not {raw!r}")
    seconds = float(match[1]) / (1000 if match[2] == "ms" else 1)
    if seconds > MAX_DELAY:
        raise ValueError(f"faults: {key} must be at most {MAX_DELAY:g}s, not {raw!r}")
    return seconds


def _whole(key: str, text: str, raw: str, *, signed: bool = False) -> int:
    pattern = r"-?\d+" if signed else r"\d+"
    if re.fullmatch(pattern, text.strip()) is None:
        kind = "an integer" if signed else "a whole number of seconds"
        raise ValueError(f"faults: {key} must be {kind}, not {raw!r}")
    return int(text)


def normal_path(path: str) -> str:
    """A request path without its trailing slashes (``/`` stays)."""
    return path.rstrip("/") or "/"
