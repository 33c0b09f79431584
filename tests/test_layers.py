"""The layers of architecture.md, checked in a fresh interpreter each (what a module really drags in)."""

from __future__ import annotations

import subprocess
import sys

import pytest

LAYERS = [
    # module, packages it must never load
    # (rich may come in with httpx, whose own command line uses it; the client never does)
    ("opstui.api", ["textual", "opstui.tui", "opstui.sim", "opstui.config", "platformdirs"]),
    ("opstui.sim.server", ["opstui.api", "opstui.tui", "textual"]),
    ("opstui.config", ["textual", "rich", "opstui.tui", "opstui.api"]),
    ("opstui.audit", ["textual", "rich", "opstui.tui", "opstui.api"]),
    ("opstui.crash", ["textual", "rich", "opstui.tui", "opstui.api"]),
    ("opstui.connect", ["textual", "opstui.tui", "opstui.sim", "starlette", "uvicorn"]),
    ("opstui.sim.faults", ["starlette", "uvicorn", "opstui.api", "opstui.tui"]),
]


@pytest.mark.parametrize(("module", "forbidden"), LAYERS)
def test_layer_does_not_reach_around(module: str, forbidden: list[str]) -> None:
    code = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "bad = [m for m in sys.argv[2:] if m in sys.modules]; "
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, module, *forbidden],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{module} imports {done.stdout.strip()} {done.stderr.strip()}"


def test_the_command_line_does_not_load_textual_for_a_read() -> None:
    code = "import sys, opstui.cli; print('textual' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", "opstui list must not pay for importing Textual"
