"""opstui: a terminal app for operators of Opsera CI/CD pipelines."""

import sys

# httpx imports its own command line (click, pygments, rich.syntax: ~50 ms) whenever click is
# installed, and uvicorn brings click. opstui never runs httpx's command line: an absent module
# is what httpx's ``try: from ._main import main`` already expects when click is missing.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

__version__ = "0.1.0"
