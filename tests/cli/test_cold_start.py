"""What a read's cold start loads: the design that keeps ``opstui list`` close to what httpx and
pydantic cost (issue 8), checked in a real process. Not its speed: which modules it imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opstui.cli.commands import COMMANDS
from opstui.cli.parser import build_parser, parse_arguments
from opstui.config import Settings
from opstui.sim.server import SimServer
from tests.conftest import TOKEN

# Runs the command as `python -m opstui` does, then writes what it imported to stderr.
PROBE = (
    "import atexit, json, runpy, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\nMODULES ' + json.dumps(sorted(k for k, v in sys.modules.items() if v is not None))))\n"
    "sys.argv = ['opstui', *sys.argv[1:]]\n"
    "runpy.run_module('opstui', run_name='__main__')\n"
)

NEVER_FOR_A_READ = [
    "textual",
    "starlette",
    "uvicorn",
    "opstui.tui",
    "pydantic.main",  # no pydantic model is built: the documents are plain classes
    "opstui.cli.actions",
    "opstui.cli.audited",
    "opstui.cli.approvals",
    "opstui.cli.doctor",
    "opstui.cli.scope",
    "opstui.cli.shapes",
    "opstui.cli.audit_cmd",
    "opstui.cli.config_cmd",
    "opstui.cli.app",
    "opstui.config.starter",
    "opstui.audit",
    "opstui.crash",
    "tomllib",  # the config file is empty: nothing to parse
    "httpx._main",  # httpx's own command line, with click and pygments: opstui never runs it
    "pygments",
]


def _imports(argv: list[str], sim: SimServer, scratch: Path) -> tuple[str, set[str]]:
    (scratch / "config.toml").touch()
    env = {
        **os.environ,
        "OPSTUI_BASE_URL": sim.base_url,
        "OPSTUI_TOKEN": TOKEN,
        "OPSTUI_CONFIG": str(scratch / "config.toml"),
        "OPSTUI_AUDIT_LOG": str(scratch / "audit.log"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    err, _, modules = done.stderr.rpartition("\nMODULES ")
    assert err == "", err
    return done.stdout, set(json.loads(modules))


def test_list_json_imports_only_what_a_list_runs(sim: SimServer, tmp_path: Path) -> None:
    out, modules = _imports(["list", "--json"], sim, tmp_path)
    assert {p["id"] for p in json.loads(out)} == set(sim.world.pipeline_ids())
    loaded = [name for name in NEVER_FOR_A_READ if name in modules]
    assert not loaded, f"`opstui list --json` imports {loaded}"
    assert "opstui.cli.reads" in modules  # the probe sees lazy imports (the list ran)


def test_a_plain_http_server_needs_no_tls_context(sim: SimServer) -> None:
    """Loading the CA store costs ~50 ms of a start: not for http://127.0.0.1."""
    assert Settings(base_url=sim.base_url).verify is False
    assert Settings(base_url="https://opsera.example").verify is True
    assert Settings(base_url="https://opsera.example", verify_tls=False).verify is False


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "--json"],
        ["--profile", "list", "list", "--state", "running"],
        ["--timeout", "3", "run", "a1", "b2", "--force"],
        ["task", "stop", "t1"],
        ["config", "init", "--token-env", "X"],
        ["audit", "--since", "2d", "--last", "5"],
        ["sim", "--pipelines", "10"],
    ],
)
def test_one_command_parses_as_the_whole_command_line(argv: list[str]) -> None:
    """The quick path (only the named command's parser) reads exactly what the whole one does."""
    quick = parse_arguments(argv)
    whole = build_parser().parse_args(argv)
    assert {k: v for k, v in vars(quick).items() if k not in ("command", "local")} == {
        k: v for k, v in vars(whole).items() if k not in ("command", "local")
    }
    assert repr(quick.command) == repr(whole.command)
    assert repr(quick.local) == repr(whole.local)


def test_a_word_that_only_looks_like_a_command_falls_back_to_the_whole_line() -> None:
    """``--profile run list``: the quick guess (run) is wrong; the whole command line is right."""
    args = parse_arguments(["--profile", "run", "list"])
    assert args.subcommand == "list"
    assert args.profile == "run"


def test_errors_and_help_come_from_the_whole_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_arguments(["list", "--state", "nonsense"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: opstui list")
    assert "unknown state 'nonsense'" in err
    with pytest.raises(SystemExit):
        parse_arguments(["--help", "list"])
    helped = capsys.readouterr().out
    assert all(name in helped for name in COMMANDS)
