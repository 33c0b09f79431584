"""The layers of architecture.md, checked in a fresh interpreter each (what a module really drags in)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (lazy imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


PACKAGE = Path(__file__).resolve().parents[1] / "opstui"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("tui", ("opstui.sim", "tools")),
        ("api", ("opstui.tui", "opstui.sim", "opstui.cli", "opstui.config", "textual", "rich")),
        ("sim", ("opstui.api", "opstui.tui", "opstui.cli")),
    ],
)
def test_no_module_of_a_layer_imports_what_it_must_not(
    package: str, forbidden: tuple[str, ...]
) -> None:
    """Lazy imports too (the subprocess check above sees only what an import runs)."""
    bad = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in sorted((PACKAGE / package).rglob("*.py"))
        for name in sorted(_imports(path))
        if any(name == root or name.startswith(root + ".") for root in forbidden)
    ]
    assert not bad, "\n".join(bad)
