"""Issue 8's goal table, from figures the bench measured (the bench itself runs in ``make bench``)."""

from __future__ import annotations

from bench.summary import goal_table, render

MIB = 2**20


def test_each_goal_is_judged_against_its_floor_and_limit() -> None:
    figures = {
        "start:40": {"opstui_s": 0.52, "floor_s": 0.42},
        "start:10000": {"opstui_s": 0.60, "floor_s": 2.8, "opstui_all_s": 1.3},
        "stall:10000": {"seconds": 0.049},
        "stall:50000": {"seconds": 0.2},
        "key:opstui:10000": {"p50_s": 0.02, "p99_s": 0.04, "max_s": 0.1, "lost": 0},
        "key:floor:10000": {"p50_s": 0.02, "p99_s": 0.03, "max_s": 0.03, "lost": 0},
        "view:a sort (o):10000": {"seconds": 0.3},
        "batch:10000": {"requests": 1, "seconds": 0.05},
        "batch:50000": {"requests": 1, "answered": 0, "seconds": 0.05},
        "bytes:10000": {"ratio": 0.08},
        "peak:opstui:10000": {"bytes": 130 * MIB},
        "idle:opstui": {"cpu": 0.004},
        "cli": {"cli_s": 0.3, "imports_s": 0.25},
    }
    met = {line.figure: line.met for line in goal_table(figures)}
    assert met == {
        "start to data on screen, 40": False,  # 0.52 / 0.42 is 1.24x: over 1.2x
        "start to data on screen, 10,000": True,  # 0.60 <= 1.5 * 0.42 and 1.3 <= 0.42 + 1.0
        "longest event-loop stall in a refresh, 10,000": True,
        "longest event-loop stall in a refresh, 50,000": False,
        "Down key to frame during live refresh, 10,000": True,
        "a sort (o), 10,000": False,
        "a batch run on 10,000 marked": True,
        "a batch run on 50,000 marked": False,  # sent, but its answer never came: outcome unknown
        "bytes a minute of live refresh, 10,000": True,
        "peak memory during live refresh, 10,000": False,
        "idle CPU, 40 pipelines, default refresh": True,
        "CLI cold start, opstui list --json, 40": True,
    }


def test_what_was_not_measured_is_left_out_or_unjudged() -> None:
    lines = goal_table({"start:10000": {"opstui_s": 0.6, "floor_s": 2.8}})
    assert [(line.figure, line.met) for line in lines] == [
        ("start to data on screen, 10,000", None)  # no 40-pipeline floor to compare with
    ]
    assert "| start to data on screen, 10,000 |" in render(lines, markdown=True)
    assert render(lines).splitlines()[2].endswith("?")
