"""Notifications for the events an operator must not miss: a gate opened, a run failed.

Each event has a key (pipeline, run, gate), so the same event never notifies twice, however often
the data is refreshed. What already waited or had failed when the app started is remembered, not
announced. However many events one refresh brings, they make one toast ("12 runs failed: a, b,
c…"), one ring of the terminal bell and, if asked for, one desktop notification, which travels as
the terminal's own escape, OSC 9 or OSC 777, and so also crosses SSH (and tmux, wrapped).

News is grouped the way an alert manager groups it: the first news after a quiet spell is told at
once; news that lands within :data:`NEWS_GAP_SECONDS` of the last toast waits for the gap to pass,
then comes with the rest as one toast (one bell), and only what is still true then (a gate approved
meanwhile is not news any more). A busy tenant that fails all the time makes one toast every
twenty seconds, not a stack of them over the table at 80x24 and a bell at every poll; the table
and the status line's counts show every change at once. (Each toast also costs the app a layout of
the whole screen as it comes and goes: the largest part of its CPU while nobody types.)

The notifier remembers only the keys of what is true now (the gates that wait, the runs that
failed): a pipeline that leaves its gate or its failure drops its key, so memory stays bounded by
the number of current gates and failures however long the app runs.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from opstui.api import Pipeline, PipelineStatus
from opstui.api.text import one_line
from opstui.config import DesktopNotify

__all__ = [
    "NEWS_GAP_SECONDS",
    "TOAST_SECONDS",
    "Event",
    "EventKey",
    "Notifier",
    "desktop_escape",
    "event_key",
    "event_of",
    "summary",
]

EventKind = Literal["gate", "failure"]
Severity = Literal["information", "warning", "error"]
EventKey = tuple[str, ...]
"""What makes an event happen once: (pipeline, run, "gate", step) or (pipeline, run, "failed")."""

TOAST_SECONDS = 8.0
"""How long a news toast stays on screen."""

NEWS_GAP_SECONDS = 20.0
"""The least time between two news toasts (news meanwhile is held, then told as one)."""

NAMES_SHOWN = 3
"""How many pipelines a summary names before it trails off with ``…``."""


@dataclass(frozen=True, slots=True)
class Event:
    """Something worth a notification, with the key that makes it happen once."""

    kind: EventKind
    pipeline_id: str
    key: EventKey
    text: str
    """The whole story on one line: ``deploy failed at Build (run 4)``."""
    name: str = ""
    """The pipeline's name, cleaned, for summaries of many events."""


def event_key(pipeline: Pipeline) -> EventKey | None:
    """The key of the event a pipeline's current state stands for, if any (cheap: no text)."""
    status = pipeline.status
    if status is PipelineStatus.AWAITING_APPROVAL:
        step = pipeline.current_step
        return (pipeline.id, str(pipeline.run_count), "gate", step.id if step else "")
    if status is PipelineStatus.FAILED:
        return (pipeline.id, str(pipeline.run_count), "failed")
    return None


def event_of(pipeline: Pipeline) -> Event | None:
    """The event a pipeline's current state stands for, if any."""
    key = event_key(pipeline)
    return None if key is None else _event(pipeline, key)


def _event(pipeline: Pipeline, key: EventKey) -> Event:
    name = one_line(pipeline.name or pipeline.id, 60)
    step = pipeline.current_step
    step_name = one_line(step.name, 40) if step else ""
    where = f" at {step_name}" if step_name else ""
    if key[2] == "gate":
        return Event("gate", pipeline.id, key, f"{name} awaits approval{where}", name)
    run = key[1]
    return Event("failure", pipeline.id, key, f"{name} failed{where} (run {run})", name)


def _names(events: Sequence[Event]) -> str:
    first = heapq.nsmallest(NAMES_SHOWN, (event.name for event in events), key=str.casefold)
    return ", ".join(first) + ("…" if len(events) > NAMES_SHOWN else "")


def summary(events: Sequence[Event]) -> list[str]:
    """What one refresh's events say, one line per kind (gates first).

    One event of a kind tells its whole story; more make a count and the first few names in
    alphabetical order:
    ``3 gates wait for approval: a, b, c`` and ``12 runs failed: d, e, f…``.
    """
    lines: list[str] = []
    gates = [event for event in events if event.kind == "gate"]
    failures = [event for event in events if event.kind == "failure"]
    if len(gates) == 1:
        lines.append(gates[0].text)
    elif gates:
        lines.append(f"{len(gates)} gates wait for approval: {_names(gates)}")
    if len(failures) == 1:
        lines.append(failures[0].text)
    elif failures:
        lines.append(f"{len(failures)} runs failed: {_names(failures)}")
    return lines


def desktop_escape(kind: DesktopNotify, title: str, body: str, *, tmux: bool = False) -> str:
    """The escape sequence that asks the terminal for a desktop notification ('' when off).

    Title and body are folded to one printable line (no controls, no bidi or other format
    characters, no line separators); a ``;`` in the title, which OSC 777 reads as the end of
    the title, becomes ``,``.
    """
    title, body = one_line(title, 60).replace(";", ","), one_line(body, 200)
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
    """Turns refreshed pipelines into notifications: each event once, one of each per refresh."""

    def __init__(
        self,
        *,
        toast: Callable[[str, Severity], None],
        emit: Callable[[str], None],
        bell: bool = True,
        desktop: DesktopNotify = "off",
        tmux: bool = False,
        gap: float = 0.0,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """``gap``: the least seconds between two announcements, by ``now`` (news that comes
        sooner is held, and :meth:`release` or a later observation tells it)."""
        self._toast = toast
        self._emit = emit
        self.bell = bell
        self.desktop = desktop
        self.tmux = tmux
        self._keys: dict[str, EventKey] = {}
        """The key of each pipeline's current gate or failure (only those that have one)."""
        self._primed = False
        self.gap = gap
        self._now = now
        self._last: datetime | None = None
        """When the last announcement was made (with a gap)."""
        self._held: dict[EventKey, Event] = {}
        """News not told yet: it came within ``gap`` of the last announcement."""

    @property
    def remembered(self) -> AbstractSet[EventKey]:
        """The keys remembered: those of the gates and failures seen at the last observation."""
        return frozenset(self._keys.values())

    def observe(self, pipelines: Iterable[Pipeline]) -> list[Event]:
        """Look at the latest pipelines (all of them); notify and return the events not seen before.

        The first call only remembers what is already there: a gate that waited before the app
        started is shown in the table and the inbox, not announced as news. Keys of states that
        are gone (approved, re-run, deleted) are forgotten, so a new run can notify again.
        """
        everything = list(pipelines)
        seen = {pipeline.id for pipeline in everything}
        return self.observe_changes(everything, [key for key in self._keys if key not in seen])

    def observe_changes(
        self, changed: Iterable[Pipeline], removed: Iterable[str] = (), *, announce: bool = True
    ) -> list[Event]:
        """Look at the pipelines a refresh changed (and those it removed); notify and return the
        events not seen before. Costs what changed, not what the app holds.

        The first call, and every call with ``announce=False`` (the pages of the first full
        list, still landing), only remember what they see: it was there before the app started.
        """
        fresh: list[Event] = []
        keys = self._keys
        # Only remembering (the first load's pages): no event is built, no text is cleaned (at
        # fifty thousand pipelines the failed ones' texts took about 0.5 s of the event loop).
        remember = not announce or not self._primed
        for pipeline_id in removed:
            keys.pop(pipeline_id, None)
        for pipeline in changed:
            key = event_key(pipeline)
            before = keys.get(pipeline.id)
            if key is None:
                if before is not None:
                    del keys[pipeline.id]
                continue
            if key == before:
                continue
            keys[pipeline.id] = key
            if not remember:
                fresh.append(_event(pipeline, key))
        if remember:
            self._primed = True
            return []
        for event in fresh:
            self._held[event.key] = event
        self.release()
        return fresh

    @property
    def held(self) -> list[Event]:
        """News waiting for the gap after the last announcement to pass."""
        return list(self._held.values())

    def release(self) -> list[Event]:
        """Tell the news held, once the gap since the last announcement has passed; only what
        is still true (a gate approved meanwhile is dropped). Returns what it told."""
        if not self._held:
            return []
        now = None
        if self.gap > 0 and self._now is not None:
            now = self._now()
            if self._last is not None and (now - self._last).total_seconds() < self.gap:
                return []
        keys = self._keys
        events = [
            event for event in self._held.values() if keys.get(event.pipeline_id) == event.key
        ]
        self._held.clear()
        if events:
            self._last = now
            self._announce(events)
        return events

    def _announce(self, events: list[Event]) -> None:
        lines = summary(events)
        failed = any(event.kind == "failure" for event in events)
        self._toast("\n".join(lines), "error" if failed else "warning")
        if self.bell:
            self._emit("\x07")
        if self.desktop == "off":
            return
        if len(events) == 1:
            title = "Approval needed" if events[0].kind == "gate" else "Run failed"
        else:
            title = "opstui"
        self._emit(desktop_escape(self.desktop, title, "; ".join(lines), tmux=self.tmux))
