"""``run_sim``, the foreground simulator behind ``opstui sim``, in a real subprocess."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from typing import IO

import httpx
import pytest

from opstui.sim.server import _is_loopback

SCRIPT = "from opstui.sim.server import run_sim; run_sim(port=0, pipelines=6, seed=3, speed=10)"


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT semantics differ on Windows")
def test_run_sim_prints_how_to_connect_and_stops_cleanly_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(proc.stdout, out), daemon=True).start()
        printed: list[str] = []
        while not printed or not printed[-1].startswith("Press Ctrl-C"):
            printed.append(out.get(timeout=15).rstrip("\n"))
        assert "seed 3" in printed[0]
        export = next(line for line in printed if line.startswith("export "))
        fields = dict(part.split("=", 1) for part in export.removeprefix("export ").split())
        url, token = fields["OPSTUI_BASE_URL"], fields["OPSTUI_TOKEN"]
        assert url.startswith("http://127.0.0.1:")
        assert len(token) >= 24, "a random token"
        assert url in printed[0]

        answer = httpx.get(f"{url}/api/v2/pipelines", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert answer.json()["count"] == 6
        assert httpx.get(f"{url}/api/v2/pipelines").status_code == 401

        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert token not in err


def test_loopback_detection() -> None:
    assert _is_loopback("127.0.0.1")
    assert _is_loopback("::1")
    assert _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0")
    assert not _is_loopback("example.com")


FAULTY = (
    "from opstui.sim.server import run_sim; from opstui.sim.faults import parse_faults; "
    "run_sim(port=0, pipelines=6, seed=3, faults=parse_faults('latency=1ms,seed=5'))"
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT semantics differ on Windows")
def test_run_sim_with_faults_stops_cleanly_with_a_request_hanging() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-u", "-c", FAULTY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outcome: list[BaseException | httpx.Response] = []
    try:
        out: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(proc.stdout, out), daemon=True).start()
        printed: list[str] = []
        while not printed or not printed[-1].startswith("Press Ctrl-C"):
            printed.append(out.get(timeout=15).rstrip("\n"))
        assert "faults: latency=1ms,seed=5" in printed
        export = next(line for line in printed if line.startswith("export "))
        fields = dict(part.split("=", 1) for part in export.removeprefix("export ").split())
        url, token = fields["OPSTUI_BASE_URL"], fields["OPSTUI_TOKEN"]
        admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
        assert admin.get("/_sim/faults").json()["spec"] == "latency=1ms,seed=5"
        assert admin.put("/_sim/faults", json={"spec": "hang=1"}).json()["spec"] == "hang=1"

        def wait_forever() -> None:
            try:
                outcome.append(admin.get("/api/v2/pipelines", timeout=60))
            except httpx.HTTPError as error:
                outcome.append(error)

        waiting = threading.Thread(target=wait_forever)
        waiting.start()
        summary: dict[str, object] = {}
        for _ in range(500):  # the admin endpoints answer though every other request hangs
            summary = admin.get("/_sim/requests/summary").json()
            if summary["received"] == 1:
                break
        assert summary["faults"] == {"hang": 1}

        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
        waiting.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "Traceback" not in err
    assert "Cancel" not in err, "no task had to be cancelled: the hanging request was let go"
    (result,) = outcome
    assert isinstance(result, httpx.RemoteProtocolError)
