"""Notifications for the events an operator must not miss: a gate opened, a run failed.

Each event has a key (pipeline, run, gate), so the same event never notifies twice, however often
the data is refreshed or the status flickers. What already waited or had failed when the app
started is remembered, not announced. Besides the in-app toast, by default the terminal bell
rings (once per refresh, not once per event), and optionally a desktop notification travels as
the terminal's own escape, OSC 9 or OSC 777, which also crosses SSH (and tmux, wrapped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from opstui.api import Pipeline, PipelineStatus
from opstui.config import DesktopNotify

__all__ = ["Event", "Notifier", "desktop_escape", "event_of"]

EventKind = Literal["gate", "failure"]
Severity = Literal["information", "warning", "error"]

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_DESKTOP = 3
"""More events than this in one refresh make one summary instead of one notification each."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something worth a notification, with the key that makes it happen once."""

    kind: EventKind
    pipeline_id: str
    key: tuple[str, ...]
    text: str


def _clean(text: str, limit: int = 120) -> str:
    text = " ".join(_UNSAFE.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_of(pipeline: Pipeline) -> Event | None:
    """The event a pipeline's current state stands for, if any."""
    name = _clean(pipeline.name or pipeline.id, 60)
    step = pipeline.current_step
    step_name = _clean(step.name, 40) if step else ""
    run = str(pipeline.run_count)
    if pipeline.status is PipelineStatus.AWAITING_APPROVAL:
        where = f" at {step_name}" if step_name else ""
        return Event(
            "gate",
            pipeline.id,
            (pipeline.id, run, "gate", step.id if step else ""),
            f"{name} awaits approval{where}",
        )
    if pipeline.status is PipelineStatus.FAILED:
        where = f" at {step_name}" if step_name else ""
        return Event(
            "failure",
            pipeline.id,
            (pipeline.id, run, "failed"),
            f"{name} failed{where} (run {run})",
        )
    return None


def desktop_escape(kind: DesktopNotify, title: str, body: str, *, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal for a desktop notification ('' when off)."""
    title, body = _clean(title, 60).replace(";", ","), _clean(body, 200)
    if kind == "osc9":
        sequence = f"\x1b]9;{title}: {body}\x07"
    elif kind == "osc777":
        sequence = f"\x1b]777;notify;{title};{body}\x07"
    else:
        return ""
    if tmux:  # tmux passes an escape through only inside its own DCS, with every ESC doubled
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


class Notifier:
    """Turns refreshed pipelines into notifications, each event once."""

    def __init__(
        self,
        *,
        toast: Callable[[str, Severity], None],
        emit: Callable[[str], None],
        bell: bool = True,
        desktop: DesktopNotify = "off",
        tmux: bool = False,
    ) -> None:
        self._toast = toast
        self._emit = emit
        self.bell = bell
        self.desktop = desktop
        self.tmux = tmux
        self._seen: set[tuple[str, ...]] = set()
        self._primed = False

    def observe(self, pipelines: Iterable[Pipeline]) -> list[Event]:
        """Look at the latest pipelines; notify and return the events not seen before.

        The first call only remembers what is already there: a gate that waited before the app
        started is shown in the table and the inbox, not announced as news.
        """
        fresh: list[Event] = []
        for pipeline in pipelines:
            event = event_of(pipeline)
            if event is None or event.key in self._seen:
                continue
            self._seen.add(event.key)
            fresh.append(event)
        if not self._primed:
            self._primed = True
            return []
        if fresh:
            self._announce(fresh)
        return fresh

    def _announce(self, events: list[Event]) -> None:
        for event in events:
            self._toast(event.text, "warning" if event.kind == "gate" else "error")
        if self.bell:
            self._emit("\x07")
        if self.desktop == "off":
            return
        if len(events) > MAX_DESKTOP:
            gates = sum(1 for e in events if e.kind == "gate")
            body = f"{gates} gate(s) await approval, {len(events) - gates} run(s) failed"
            self._emit(desktop_escape(self.desktop, "opstui", body, tmux=self.tmux))
            return
        for event in events:
            title = "Approval needed" if event.kind == "gate" else "Run failed"
            self._emit(desktop_escape(self.desktop, title, event.text, tmux=self.tmux))
