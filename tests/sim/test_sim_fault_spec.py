"""Fault specs, the fault engine's draws, and the damage done to answers: no HTTP here."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest

from opstui.sim.damage import HUGE_BYTES, PADDING_FIELD, malformed, padded, v1_body, wrong_shape
from opstui.sim.faults import (
    FAILURE_KINDS,
    FAULTS_HELP,
    KINDS,
    FaultPlan,
    parse_faults,
)
from opstui.sim.strikes import FaultEngine

ACTIONS = "/api/v2/actions"

# -- the spec --------------------------------------------------------------------------------------


def test_the_example_spec_of_the_issue() -> None:
    plan = parse_faults(
        "5xx=0.05,429=0.02,retry-after=2,latency=50ms,jitter=100ms,hang=0.01,reset=0.02,"
        "truncate=0.01,malformed=0.01,html=0.01,empty=0.01,gzip-lie=0.01,wrong-shape=0.01,"
        "huge=0.005,v1=1,seed=3"
    )
    assert plan.rates == {
        "5xx": 0.05,
        "429": 0.02,
        "hang": 0.01,
        "reset": 0.02,
        "truncate": 0.01,
        "malformed": 0.01,
        "html": 0.01,
        "empty": 0.01,
        "gzip-lie": 0.01,
        "wrong-shape": 0.01,
        "huge": 0.005,
        "v1": 1.0,
    }
    assert (plan.retry_after, plan.latency, plan.jitter, plan.seed) == (2, 0.05, 0.1, 3)
    assert plan.active
    assert parse_faults(plan.spec()) == plan, "the spec string reads back to the same plan"


@pytest.mark.parametrize("spec", ["", "   ", "none", "off"])
def test_a_blank_spec_is_no_faults(spec: str) -> None:
    plan = parse_faults(spec)
    assert plan == FaultPlan()
    assert not plan.active
    assert plan.spec() == ""


def test_spellings_are_forgiving() -> None:
    plan = parse_faults(" 5XX = 5% , gzip_lie=0.5 ,, latency=0.25s, retry-after=3s ")
    assert plan.rates["5xx"] == pytest.approx(0.05)
    assert plan.rates["gzip-lie"] == 0.5
    assert (plan.latency, plan.retry_after) == (0.25, 3)


def test_chaos_spreads_its_rate_over_the_failure_kinds() -> None:
    rates = parse_faults("chaos=0.2").rates
    assert sum(rates[kind] for kind in FAILURE_KINDS) == pytest.approx(0.2)
    assert all(rates[kind] > 0 for kind in FAILURE_KINDS)
    assert rates["v1"] == 0, "v1 answers are valid: chaos leaves them alone"
    assert rates["5xx"] > rates["reset"] > rates["hang"]


def test_kinds_named_beside_chaos_keep_their_rate_and_the_rest_is_spread() -> None:
    plan = parse_faults("chaos=0.2,hang=0,5xx=0.1,v1=0.5")
    rates = plan.rates
    assert (rates["hang"], rates["5xx"], rates["v1"]) == (0, 0.1, 0.5)
    assert sum(rates[kind] for kind in FAILURE_KINDS) == pytest.approx(0.2)
    assert parse_faults(plan.spec()) == plan
    assert parse_faults("chaos=0.1,5xx=0.3").rates["reset"] == 0, "named rates beyond chaos win"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("5xx", "'5xx' is not key=value"),
        ("5xx=", "'5xx=' is not key=value"),
        ("=0.1", "'=0.1' is not key=value"),
        ("boom=0.1", "unknown key 'boom'"),
        ("5xx=lots", "5xx must be a rate between 0 and 1"),
        ("5xx=1.5", "5xx must be a rate between 0 and 1"),
        ("reset=-0.1", "reset must be a rate between 0 and 1"),
        ("hang=nan", "hang must be a rate"),
        ("chaos=2", "chaos must be a rate"),
        ("5xx=0.6,reset=0.6", "add up to 1.2, more than 1"),
        ("latency=50", "latency must be a duration like 50ms or 0.2s"),
        ("jitter=fast", "jitter must be a duration"),
        ("latency=2m", "latency must be a duration"),
        ("latency=61s", "latency must be at most 60s"),
        ("retry-after=soon", "retry-after must be a whole number of seconds"),
        ("retry-after=-1", "retry-after must be a whole number of seconds"),
        ("seed=x", "seed must be an integer"),
        ("5xx=0.1,5xx=0.2", "5xx is given twice"),
    ],
)
def test_a_bad_spec_says_what_is_wrong_in_one_line(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^faults: ") as caught:
        parse_faults(spec)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text


def test_the_help_text_names_every_kind() -> None:
    for kind in (*KINDS, "chaos", "retry-after", "latency", "jitter", "seed"):
        assert kind in FAULTS_HELP
    assert "%" not in FAULTS_HELP, "argparse would read a % as a format"
    assert FAULTS_HELP.count("\n") == 0


# -- the engine's draws ----------------------------------------------------------------------------


Request = tuple[str, str, str | None]


def draws(plan: FaultPlan, requests: list[Request]) -> list[Any]:
    engine = FaultEngine(plan)
    out = []
    for method, path, action in requests:
        decision = engine.decide(method, path, action)
        strike = decision.strike
        out.append((round(decision.delay, 9), strike and (strike.kind, strike.when)))
    return out


REQUESTS: list[Request] = [("GET", "/api/v2/pipelines", None)] * 30 + [
    ("POST", ACTIONS, "run")
] * 30


def test_the_same_seed_strikes_the_same_requests() -> None:
    plan = parse_faults("chaos=0.5,latency=10ms,jitter=20ms,seed=11")
    first = draws(plan, REQUESTS)
    assert first == draws(plan, REQUESTS)
    assert first != draws(parse_faults("chaos=0.5,latency=10ms,jitter=20ms,seed=12"), REQUESTS)
    assert all(0.01 <= delay <= 0.03 for delay, _ in first)
    assert len({delay for delay, _ in first}) > 1, "jitter varies"


def test_draws_of_one_endpoint_do_not_depend_on_the_others() -> None:
    plan = parse_faults("chaos=0.5,seed=5")
    mixed = [REQUESTS[i // 2 + (30 if i % 2 else 0)] for i in range(60)]
    alone = draws(plan, REQUESTS)
    interleaved = draws(plan, mixed)
    assert interleaved[1::2] == alone[30:]
    assert interleaved[0::2] == alone[:30]


def test_a_new_plan_starts_its_draws_over() -> None:
    plan = parse_faults("5xx=0.5,seed=2")
    engine = FaultEngine(plan)
    first = [engine.decide("GET", "/api/v2/tasks", None).strike for _ in range(20)]
    engine.plan = plan
    again = [engine.decide("GET", "/api/v2/tasks", None).strike for _ in range(20)]
    assert [s and s.kind for s in first] == [s and s.kind for s in again]


def test_the_rates_are_kept_over_many_requests() -> None:
    engine = FaultEngine(parse_faults("5xx=0.3,reset=0.1,seed=1"))
    kinds: Counter[str | None] = Counter()
    for _ in range(4000):
        strike = engine.decide("POST", ACTIONS, "run").strike
        kinds[strike.kind if strike else None] += 1
    assert kinds["5xx"] == pytest.approx(1200, rel=0.1)
    assert kinds["reset"] == pytest.approx(400, rel=0.15)
    assert set(kinds) == {"5xx", "reset", None}


def test_the_plan_strikes_errors_before_and_reshapes_after() -> None:
    engine = FaultEngine(parse_faults("5xx=0.25,html=0.25,reset=0.25,huge=0.25,seed=9"))
    whens: dict[str, set[str]] = {}
    for _ in range(400):
        strike = engine.decide("POST", ACTIONS, "stop").strike
        assert strike is not None
        whens.setdefault(strike.kind, set()).add(strike.when)
    assert whens == {
        "5xx": {"before"},
        "html": {"before"},
        "reset": {"before", "after"},
        "huge": {"after"},
    }


def test_v1_strikes_only_action_answers() -> None:
    engine = FaultEngine(parse_faults("v1=1"))
    assert engine.decide("GET", "/api/v2/pipelines", None).strike is None
    strike = engine.decide("POST", ACTIONS, "status").strike
    assert strike is not None
    assert (strike.kind, strike.when) == ("v1", "after")


def test_one_shots_come_first_match_their_action_and_run_out() -> None:
    engine = FaultEngine(parse_faults("5xx=1"))
    engine.add("post", "/api/v2/actions/", kind="reset", when="after", action="approve", times=2)
    assert engine.decide("POST", ACTIONS, "status").strike.kind == "5xx"  # type: ignore[union-attr]
    for _ in range(2):
        strike = engine.decide("POST", ACTIONS, "approve").strike
        assert strike is not None
        assert (strike.kind, strike.when) == ("reset", "after")
    assert engine.pending() == []
    assert engine.decide("POST", ACTIONS, "approve").strike.kind == "5xx"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kind", "when"),
    [("status", "before"), ("5xx", "before"), ("hang", "before"), ("reset", "before")]
    + [(k, "after") for k in ("truncate", "malformed", "empty", "gzip-lie", "huge", "v1")],
)
def test_one_shot_defaults(kind: str, when: str) -> None:
    engine = FaultEngine()
    engine.add("GET", "/x", kind=kind)
    assert engine.pending()[0].when == when


def test_one_shot_mistakes_are_value_errors() -> None:
    engine = FaultEngine()
    with pytest.raises(ValueError, match="unknown fault kind 'boom'"):
        engine.add("GET", "/x", kind="boom")
    with pytest.raises(ValueError, match="strikes only after"):
        engine.add("GET", "/x", kind="wrong-shape", when="before")
    with pytest.raises(ValueError, match="when must be"):
        engine.add("GET", "/x", kind="reset", when="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times must be 1 or more"):
        engine.add("GET", "/x", times=0)
    assert engine.pending() == []


# -- the damage ------------------------------------------------------------------------------------


def listing() -> dict[str, Any]:
    docs = [
        {"_id": f"{i:024x}", "name": f"p{i}", "workflow": {"plan": []}, "state": "stopped"}
        for i in range(5)
    ]
    return {"data": docs, "count": 5}


def variants_seen(value: Any) -> dict[str, Any]:
    """What ``wrong_shape`` did to ``value`` over many seeds, named."""
    seen: dict[str, Any] = {}
    for seed in range(300):
        changed = wrong_shape(json.loads(json.dumps(value)), random.Random(seed))
        assert changed is not None
        assert changed != value
        json.dumps(changed, allow_nan=False)  # still valid JSON
        seen[_variant(value, changed)] = changed
    return seen


def _variant(before: Any, after: Any) -> str:
    if isinstance(after, dict):
        for key in ("data", "results"):
            if key in after and after[key] is None:
                return f"{key}: null"
        if isinstance(after.get("count"), str):
            return "count as a string"
        if isinstance(after.get("status"), int):
            return "status as a number"
    records = after["data"] if isinstance(after, dict) else after
    for item in records:
        if item is None:
            return "a null record"
        if "_id" not in item:
            return "a record without _id"
        if item.get("name") == {}:
            return "name: {}"
        if item.get("workflow") == "x":
            return 'workflow: "x"'
    raise AssertionError(f"no change found in {after!r}")


def test_wrong_shapes_of_a_listing() -> None:
    assert set(variants_seen(listing())) == {
        "data: null",
        "count as a string",
        "a null record",
        "a record without _id",
        "name: {}",
        'workflow: "x"',
    }


def test_wrong_shapes_of_an_action_answer() -> None:
    answer = {
        "status": "success",
        "message": "ok",
        "results": [{"target": "a", "status": "success", "message": "ok"}],
        "data": listing()["data"][:1],
    }
    seen = variants_seen(answer)
    assert {"data: null", "status as a number", "a record without _id"} <= set(seen)
    assert seen["data: null"]["results"] == answer["results"], "one thing goes wrong at a time"


def test_a_bare_value_cannot_take_a_wrong_shape() -> None:
    assert wrong_shape([], random.Random(1)) is None
    assert wrong_shape("text", random.Random(1)) is None


def test_padding_makes_answers_huge_and_keeps_them_valid() -> None:
    value = padded(listing())
    assert value is not None
    text = json.dumps(value)
    assert len(text) >= HUGE_BYTES
    assert [doc["_id"] for doc in value["data"]] == [doc["_id"] for doc in listing()["data"]]
    assert all(len(doc[PADDING_FIELD]) >= HUGE_BYTES // 5 for doc in value["data"])
    answer = padded({"status": "failed", "message": "no"}, size=1000)
    assert answer is not None
    assert len(answer[PADDING_FIELD]) == 1000
    assert padded([]) is None


@pytest.mark.parametrize("seed", range(40))
def test_malformed_bodies_are_never_json(seed: int) -> None:
    body = json.dumps(listing()).encode()
    broken = malformed(body, random.Random(seed))
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        json.loads(broken)


def test_the_v1_shape() -> None:
    one = {"status": "success", "message": "m", "results": [{"target": "a", "status": "executed",
           "message": "Pipeline a run 4 started", "runCount": 4}], "data": [{}]}  # fmt: skip
    assert v1_body(one) == {
        "status": "executed",
        "message": "Pipeline a run 4 started",
        "runCount": 4,
    }
    two = {
        "status": "partial",
        "message": "1 of 2 targets succeeded",
        "results": [{"status": "executed"}, {"status": "failed"}],
    }
    assert v1_body(two) == {"status": "failed", "message": "1 of 2 targets succeeded"}
    both = {"status": "success", "message": "2 of 2", "results": [{"status": "success"}] * 2}
    assert v1_body(both) == {"status": "success", "message": "2 of 2"}
    assert v1_body({"status": "failed", "message": "no"}) is None


def test_the_fault_spec_is_cheap_to_import_for_the_command_line() -> None:
    code = (
        "import sys; from opstui.sim.faults import FAULTS_HELP, parse_faults; "
        "print([m for m in ('starlette', 'uvicorn', 'opstui.sim.server') if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
