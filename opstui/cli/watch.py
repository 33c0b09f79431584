"""A poll that runs until it is stopped: ``approvals --watch`` and any later ``--watch``.

One poll at a time, every ``interval`` seconds; a transient failure (unreachable, a timeout, 429,
5xx, a garbled answer) is said on one line and polled through, waiting as the one back-off rule
says (:func:`opstui.backoff.next_delay`, as the app's live refresh waits); any other error (a
refused token first) ends the watch. Ctrl-C, SIGTERM and a closed stdout end it cleanly (0).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from opstui.api import InvalidResponseError, OpseraError, is_transient
from opstui.backoff import next_delay
from opstui.cli.output import Output

__all__ = ["watch"]

T = TypeVar("T")


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM set ``stop`` while the watch runs: a clean end, exit 0.

    Ctrl-C is caught here rather than left to ``asyncio.run``, whose cancellation of the main
    task can be swallowed inside a poll (the HTTP stack shields parts of a request from it).
    """
    loop = asyncio.get_running_loop()
    caught: list[signal.Signals] = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # no signals here (a thread)
            continue
        caught.append(number)
    try:
        yield
    finally:
        for number in caught:
            loop.remove_signal_handler(number)


async def _until_stopped(work: Awaitable[T], stop: asyncio.Event) -> T | None:
    """``work``'s result, or None as soon as ``stop`` is set (``work`` is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


def _polled_through(error: OpseraError) -> bool:
    """A failure worth polling through: the next poll may well succeed."""
    return is_transient(error) or isinstance(error, InvalidResponseError)


async def watch(
    poll: Callable[[], Awaitable[T]],
    show: Callable[[T], None],
    *,
    interval: float,
    out: Output,
    max_polls: int | None = None,
) -> int:
    """Call ``poll`` every ``interval`` seconds and ``show`` each answer, until stopped (0).

    ``max_polls`` ends it after that many polls (tests). Errors that are not transient propagate
    (the command line makes them one line and an exit code).
    """
    stop = asyncio.Event()
    failures = 0
    polls = 0
    with _stop_on_signals(stop):
        while True:
            error: OpseraError | None = None
            try:
                answer = await _until_stopped(poll(), stop)
            except OpseraError as failed:
                if not _polled_through(failed):
                    raise
                error = failed
            if error is not None:
                failures += 1
                delay = next_delay(failures, error, interval)
                out.warn(f"{error.message}; trying again in {delay:g}s")
            else:
                if answer is None:
                    return 0  # Ctrl-C or SIGTERM during the poll
                if failures:
                    out.note("opstui: reconnected")
                failures = 0
                delay = interval
                show(answer)
            polls += 1
            if out.broken or (max_polls and polls >= max_polls):
                return 0
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except TimeoutError:
                continue
            return 0
