"""What grows in the soak's app: object counts, widgets no screen holds, and (opt-in) tracemalloc.

Off by default. ``SOAK_DIAGNOSE=DIR`` in the soak's environment
(``SOAK_DIAGNOSE=/tmp/d python -m tools.soak --seconds 180``) makes the app process take a
baseline after the warm-up (``SOAK_DIAGNOSE_WARM_UP`` seconds, 60 by default) and write into
DIR (``types.txt`` at the end):

- ``types.txt``: the object types whose count grew since the baseline (gc-tracked objects);
- in each memory sample (``app-memory.jsonl``): Python's allocated blocks, pymalloc's arenas and
  the bytes in use in them, glibc's heap in use and freed-but-kept, the traced bytes (when
  tracing);
- ``types.jsonl``: at each memory sample taken while only the first screen is open, the counts
  of the 150 commonest types, allocated blocks and entries of every ``lru_cache``;
- ``garbage.jsonl`` with ``SOAK_DIAGNOSE_GARBAGE=1``: at each sample, a full collection, and
  what it found unreachable (reference cycles) by type, the widgets among it and the frames
  (exceptions keep their frames); this changes the app's collections, not for memory figures;
- ``detached.txt`` and ``holders.txt`` with ``SOAK_DIAGNOSE_REFERRERS=1``: widgets alive that no
  screen of the app holds, with who holds one of each (a chain of referrers up to the app or a
  screen), and who holds the strips, segments, texts and lists alive, by chain of holders (slow:
  the app stands still meanwhile, long enough for a refresh on its way to fail);
- ``traces.txt`` with ``SOAK_DIAGNOSE_FRAMES=N`` (N > 0): the allocations still alive that grew
  most, by traceback of N frames. Tracing slows the app a lot; counts alone do not.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import json
import os
import re
import sys
import tempfile
import tracemalloc
import types
from collections import Counter
from pathlib import Path
from typing import Any

from textual.app import App
from textual.widget import Widget

ENV = "SOAK_DIAGNOSE"
FRAMES_ENV = "SOAK_DIAGNOSE_FRAMES"
REFERRERS_ENV = "SOAK_DIAGNOSE_REFERRERS"
WARM_UP_ENV = "SOAK_DIAGNOSE_WARM_UP"
GARBAGE_ENV = "SOAK_DIAGNOSE_GARBAGE"


def _garbage_owner(frame: types.FrameType) -> str:
    code = frame.f_code
    return f"{code.co_filename.rsplit('/', 2)[-1]}:{code.co_name}"


def type_counts() -> Counter[str]:
    """How many gc-tracked objects of each type are alive."""
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        kind = type(obj)
        counts[f"{kind.__module__}.{kind.__qualname__}"] += 1
    return counts


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()


def malloc_figures() -> dict[str, int]:
    """glibc's heap: bytes in use (``malloc_used``, including its mmapped blocks) and bytes
    freed but kept (``malloc_free``); empty off glibc."""
    if _LIBC is None:
        return {}
    info = _LIBC.mallinfo2()
    return {"malloc_used": info.uordblks + info.hblkhd, "malloc_free": info.fordblks}


def pymalloc_figures() -> dict[str, int]:
    """Python's own allocator (``sys._debugmallocstats``): its arenas, and the bytes of their
    blocks in use."""
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode("ascii", "replace")
    figures: dict[str, int] = {}
    for key, pattern in (
        ("pymalloc_arenas", r"# arenas allocated current\s*=\s*([\d,]+)"),
        ("pymalloc_used", r"# bytes in allocated blocks\s*=\s*([\d,]+)"),
    ):
        found = re.search(pattern, text)
        if found:
            figures[key] = int(found.group(1).replace(",", ""))
    return figures


def detached_widgets(app: App[Any]) -> list[Widget]:
    """The widgets alive that no screen on the app's stacks holds (or that hold a screen)."""
    live: set[int] = {id(app)}
    for stack in app._screen_stacks.values():
        for screen in stack:
            live.update(id(node) for node in screen.walk_children(with_self=True))
    for installed in app._installed_screens.values():
        if isinstance(installed, Widget):
            live.update(id(node) for node in installed.walk_children(with_self=True))
    return [obj for obj in gc.get_objects() if isinstance(obj, Widget) and id(obj) not in live]


def _describe(obj: object) -> str:
    if isinstance(obj, dict):
        return f"dict(len={len(obj)}, keys={list(obj)[:6]!r:.160})"
    if isinstance(obj, list | tuple | set | frozenset):
        return f"{type(obj).__name__}(len={len(obj)})"
    if isinstance(obj, types.CellType):
        return "cell"
    if isinstance(obj, types.FunctionType):
        code = obj.__code__
        return f"function {obj.__qualname__} ({code.co_filename}:{code.co_firstlineno})"
    if isinstance(obj, types.MethodType):
        return f"bound method {obj.__func__.__qualname__} of {type(obj.__self__).__name__}"
    if isinstance(obj, types.CoroutineType):
        return f"coroutine {obj.__qualname__}"
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def referrer_chain(target: object, roots: set[int], ignore: set[int], depth: int = 16) -> list[str]:
    """A path of referrers from ``target`` up to an object in ``roots`` (breadth first)."""
    seen = {id(target)} | ignore
    frontier: list[tuple[object, list[str]]] = [(target, [_describe(target)])]
    for _ in range(depth):
        following: list[tuple[object, list[str]]] = []
        seen.add(id(following))
        for obj, path in frontier:
            for referrer in gc.get_referrers(obj):
                if id(referrer) in seen or isinstance(referrer, types.FrameType):
                    continue
                seen.add(id(referrer))
                step = [*path, _describe(referrer)]
                if id(referrer) in roots:
                    return step
                following.append((referrer, step))
        frontier = following[:500]
        seen.add(id(frontier))
        if not frontier:
            break
    return ["(no path to the app or a screen)"]


def _owner_label(holder: object, held: object) -> str:
    """``Owner.attribute`` when ``holder`` keeps ``held`` in an attribute, else its type."""
    name = type(holder).__qualname__
    slots = getattr(holder, "__dict__", None)
    if isinstance(slots, dict):
        for key, value in slots.items():
            if value is held:
                return f"{name}.{key}"
    return name


_STOP = (App, Widget, types.ModuleType, types.FunctionType, functools._lru_cache_wrapper)


def ownership(names: set[str], sample: int = 400, depth: int = 7) -> list[str]:
    """Who holds the live objects whose type is in ``names``: for a sample of each, the chain of
    holders up to the first widget, app, module or function, counted by chain."""
    every = gc.get_objects()
    tracked = {id(obj) for obj in every}
    holders: dict[int, list[object]] = {}
    for container in every:
        for referent in gc.get_referents(container):
            if id(referent) in tracked:
                holders.setdefault(id(referent), []).append(container)
    lines: list[str] = []
    for name in sorted(names):
        targets = [obj for obj in every if type(obj).__qualname__ == name]
        chains: Counter[str] = Counter()
        for target in targets[:: max(1, len(targets) // sample)]:
            path: list[str] = []
            obj: object = target
            for _ in range(depth):
                above = [h for h in holders.get(id(obj), []) if not isinstance(h, types.FrameType)]
                if not above:
                    path.append("(nothing)")
                    break
                holder = above[0]
                path.append(
                    _owner_label(holder, obj) + (f"+{len(above) - 1}" if len(above) > 1 else "")
                )
                if isinstance(holder, _STOP):
                    break
                obj = holder
            chains[" <- ".join(path)] += 1
        lines.append(f"\n{name}: {len(targets)} alive; holders of a sample:")
        lines += [f"  {count:5d}  {chain}" for chain, count in chains.most_common(15)]
    return lines


class Diagnosis:
    """A baseline after the warm-up, a comparison at the end."""

    def __init__(self, out: Path, frames: int = 0, warm_up: float = 60.0) -> None:
        self.out = out
        self.frames = frames
        self.warm_up = warm_up
        """Seconds after the start when the baseline is taken."""
        self.baseline: tracemalloc.Snapshot | None = None
        self.types: Counter[str] = Counter()
        self.at: float | None = None
        out.mkdir(parents=True, exist_ok=True)
        if frames > 0:
            tracemalloc.start(frames)

    @classmethod
    def from_environment(cls) -> Diagnosis | None:
        """One when ``SOAK_DIAGNOSE`` names a directory."""
        where = os.environ.get(ENV)
        if not where:
            return None
        frames = int(os.environ.get(FRAMES_ENV, "0"))
        return cls(Path(where), frames, float(os.environ.get(WARM_UP_ENV, "60")))

    @staticmethod
    def traced() -> int:
        """The bytes Python's allocations hold now (0 when not tracing)."""
        return tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0

    def sample(self, app: App[Any], elapsed: float) -> dict[str, Any]:
        """Cheap figures for the memory sample; object counts by type go to ``types.jsonl``
        when only the first screen is open (so that an open dialog is not counted as growth)."""
        lru = [o for o in gc.get_objects() if isinstance(o, functools._lru_cache_wrapper)]
        figures = {
            "traced": self.traced(),
            "blocks": sys.getallocatedblocks(),
            "lru_entries": sum(wrapper.cache_info().currsize for wrapper in lru),
            **pymalloc_figures(),
            **malloc_figures(),
        }
        if len(app.screen_stack) == 1:
            counts = type_counts()
            row = {"t": round(elapsed, 2), **figures, "types": dict(counts.most_common(150))}
            with (self.out / "types.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row) + "\n")
        if os.environ.get(GARBAGE_ENV):
            self._garbage(elapsed)
        return figures

    def _garbage(self, elapsed: float) -> None:
        """What became cyclic garbage since the last sample (a full collection each sample)."""
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            found = gc.collect()
            garbage = list(gc.garbage)
            gc.garbage.clear()
        finally:
            gc.set_debug(0)
        kinds: Counter[str] = Counter(
            f"{type(o).__module__}.{type(o).__qualname__}" for o in garbage
        )
        widgets = Counter(type(o).__qualname__ for o in garbage if isinstance(o, Widget))
        owners = Counter(_garbage_owner(o) for o in garbage if isinstance(o, types.FrameType))
        row = {
            "t": round(elapsed, 2),
            "objects": found,
            "widgets": dict(widgets.most_common(30)),
            "frames": dict(owners.most_common(30)),
            "types": dict(kinds.most_common(60)),
        }
        del garbage
        gc.collect()
        with (self.out / "garbage.jsonl").open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")

    def mark(self, elapsed: float) -> None:
        """The baseline: what is alive after the warm-up."""
        gc.collect()
        self.at = elapsed
        self.types = type_counts()
        if self.frames > 0:
            self.baseline = tracemalloc.take_snapshot()

    def finish(self, app: App[Any], elapsed: float) -> None:
        """Write what grew since the baseline, and who holds the widgets no screen holds."""
        if self.at is None:
            return
        gc.collect()
        counts = type_counts()
        grew = sorted(((counts[k] - self.types.get(k, 0), k) for k in counts), reverse=True)
        lines = [f"object types that grew from {self.at:g} s to {elapsed:g} s (gc-tracked)"]
        lines += [f"{diff:+8d}  {name}  (now {counts[name]})" for diff, name in grew[:80] if diff]
        (self.out / "types.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        if self.baseline is not None:
            self._traces(elapsed)
        if os.environ.get(REFERRERS_ENV):
            self._detached(app)
            held = {"Strip", "FIFOCache", "Segment", "Text", "Style", "list", "RowKey", "Row"}
            lines = ownership(held)
            (self.out / "holders.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _detached(self, app: App[Any]) -> None:
        dead = detached_widgets(app)
        kinds = Counter(type(widget).__qualname__ for widget in dead)
        lines = [f"{len(dead)} widgets alive that no screen holds: {kinds.most_common(20)}"]
        roots = {id(app)} | {id(screen) for screen in app.screen_stack}
        ignore = {id(dead), id(lines)}
        shown: set[str] = set()
        for widget in dead:
            name = type(widget).__qualname__
            if name in shown or len(shown) >= 8:
                continue
            shown.add(name)
            lines.append(f"\n{name} (attached={widget.is_attached}):")
            lines += [f"  <- {step}" for step in referrer_chain(widget, roots, ignore)[1:]]
        (self.out / "detached.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _traces(self, elapsed: float) -> None:
        assert self.baseline is not None
        snapshot = tracemalloc.take_snapshot()
        ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
        stats = snapshot.filter_traces(ignore).compare_to(
            self.baseline.filter_traces(ignore), "traceback"
        )
        total = sum(stat.size_diff for stat in stats)
        lines = [f"traced growth {total / 2**20:+.2f} MiB from {self.at:g} s to {elapsed:g} s"]
        for stat in stats[:40]:
            lines.append(f"\n{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks")
            lines += [f"    {line}" for line in stat.traceback.format(most_recent_first=True)]
        (self.out / "traces.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
