"""The goal table's CPU figures: the start's CPU ratio beside its wall-clock one, idle at rest."""

from __future__ import annotations

from bench.summary import goal_table


def test_the_start_shows_its_cpu_ratio_and_is_judged_by_the_wall_clock() -> None:
    figures = {
        "start:40": {
            "opstui_s": 0.60,
            "floor_s": 0.42,
            "opstui_cpu_s": 0.50,
            "floor_cpu_s": 0.45,
        }
    }
    (line,) = goal_table(figures)
    assert line.opstui == "0.60 s (1.43x; CPU 1.11x)"
    assert line.met is False


def test_idle_at_rest_is_a_line_of_its_own() -> None:
    figures = {"idle:opstui": {"cpu": 0.024}, "idle-rest:opstui": {"cpu": 0.0075}}
    met = {line.figure: (line.opstui, line.met) for line in goal_table(figures)}
    assert met == {
        "idle CPU, 40 pipelines, default refresh": ("2.40%", False),
        "idle CPU, 40 pipelines, nothing changing": ("0.75%", True),
    }
