"""``make bench`` still works: its quick mode, headless parts (the app's core and the figures at
scale), run as a user runs it. Nothing here judges a figure: these machines are noisy, and the
bench is not a test. The terminal part (tmux, about 40 s, mostly waiting) is left to ``make
bench``: here it would only measure the other tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("part", "figures"),
    [
        ("core", ["first frame", "first data shown", "decode 1,000", "peak memory, app"]),
        (
            "scale",
            [
                "longest event-loop stall in a refresh, 1,000",
                "mark all shown (*), 1,000",
                "a sort (o), 1,000",
                "one filter keystroke, 1,000",
                "a batch run on 1,000 marked",
                "bytes a minute of live refresh, 1,000",
            ],
        ),
    ],
)
def test_the_quick_bench_measures_every_figure_of_its_part(
    tmp_path: Path, part: str, figures: list[str]
) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", part, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    written = json.loads(out.read_text())
    if part == "core":
        measured = [figure["what"] for figure in written["figures"]]
        for name in figures:
            assert any(what.startswith(name) for what in measured), (name, measured)
        return
    # The goal table of issue 8 has a line for each figure, with a value and its goal.
    goals = {line["figure"]: line for line in written["goals"]}
    for name in figures:
        assert goals[name]["opstui"] and goals[name]["goal"], goals.get(name, sorted(goals))
    [mark_all] = [f for f in written["figures"] if f["what"] == "mark all shown (*), 1,000"]
    assert 0 < mark_all["seconds"] < 3.0, "a frame was seen (the measure did not run out)"
