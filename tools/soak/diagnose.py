"""What grows in the soak's app: object counts, widgets no screen holds, and (opt-in) tracemalloc.

Off by default. ``SOAK_DIAGNOSE=DIR`` in the soak's environment
(``SOAK_DIAGNOSE=/tmp/d python -m tools.soak --seconds 180``) makes the app process take a
baseline after the warm-up (``SOAK_DIAGNOSE_WARM_UP`` seconds, 60 by default) and write into
DIR (``types.txt`` at the end):

- ``types.txt``: the object types whose count grew since the baseline (gc-tracked objects);
- in each memory sample (``app-memory.jsonl``): Python's allocated blocks, pymalloc's arenas and
  the bytes in use in them, glibc's heap in use and freed-but-kept, every glibc arena
  (``malloc_info``: threads have their own), the resident bytes by kind of mapping, the
  Textual caches and ``lru_cache`` functions with the most entries (and their caps), the
  caches the widgets on screen hold, the collector's counts, the traced bytes (when tracing);
- ``retained.txt``: at the end, what each ``lru_cache`` and each widget attribute holds alone
  (objects and bytes reachable from it first), the largest first;
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
        libc.fdopen.restype = ctypes.c_void_p
        libc.fdopen.argtypes = [ctypes.c_int, ctypes.c_char_p]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
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


def malloc_arenas() -> dict[str, int]:
    """Every glibc arena (``malloc_info``; ``mallinfo2`` sees the main arena only): how many,
    their bytes taken from the system, and the bytes free in them (top chunks and free lists)."""
    if _LIBC is None:
        return {}
    with tempfile.TemporaryFile() as capture:
        stream = _LIBC.fdopen(os.dup(capture.fileno()), b"w")
        _LIBC.malloc_info(0, stream)
        _LIBC.fclose(stream)
        capture.seek(0)
        text = capture.read().decode("ascii", "replace")
    heaps = re.findall(r'<heap nr="(\d+)">(.*?)</heap>', text, re.S)
    figures = {"malloc_arenas": len(heaps)}
    total = re.search(r'<system type="current" size="(\d+)"/>\s*<system type="max"', text)
    free = re.findall(
        r'<total type="fast" count="\d+" size="(\d+)"/>\s*'
        r'<total type="rest" count="\d+" size="(\d+)"/>',
        text,
    )
    current = re.findall(r'<system type="current" size="(\d+)"/>', text)
    if current:
        figures["malloc_system_all"] = int(current[-1])
        figures["malloc_system_threads"] = sum(int(c) for c in current[1:-1])
    if free:
        figures["malloc_free_all"] = int(free[-1][0]) + int(free[-1][1])
    del total
    return figures


def smaps_figures() -> dict[str, int]:
    """This process's resident bytes by kind of mapping: the brk heap, anonymous mappings of a
    mebibyte (pymalloc's arenas), of 64 MiB-aligned glibc thread heaps (anonymous, 64 MiB or
    less, ``rw-p`` next to a ``---p`` reserve), other anonymous ones, and files."""
    figures: Counter[str] = Counter()
    kind = "file"
    try:
        lines = Path("/proc/self/smaps").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            start, end = (int(part, 16) for part in head[0].split("-"))
            size = end - start
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                kind = "rss_brk"
            elif name.startswith("["):
                kind = "rss_other"
            elif name:
                kind = "rss_file"
            elif size == 2**20 or size == 2**18:
                kind = "rss_arena_1m"
            elif start % (64 * 2**20) == 0 and size <= 64 * 2**20:
                kind = "rss_thread_heap"
            else:
                kind = "rss_anon_other"
        elif head[0] == "Rss:":
            figures[kind] += int(head[1]) * 1024
    return dict(figures)


def lru_caches() -> list[functools._lru_cache_wrapper[Any]]:
    """Every ``lru_cache`` function of a loaded module or of its classes (found through the
    modules: ``gc.get_objects`` misses what ``gc.freeze`` moved out of the collector's sight)."""
    found: dict[int, functools._lru_cache_wrapper[Any]] = {}
    for module in list(sys.modules.values()):
        for value in list(getattr(module, "__dict__", {}).values()):
            inner = list(vars(value).values()) if isinstance(value, type) else []
            for item in [value, *inner]:
                item = getattr(item, "__func__", item)
                if isinstance(item, functools._lru_cache_wrapper):
                    found[id(item)] = item
    return list(found.values())


def widget_caches(app: App[Any]) -> dict[str, str]:
    """The Textual caches the widgets on screen hold in their attributes (``gc.get_objects``
    misses those frozen with the first load): ``Widget.attribute: entries/cap``."""
    from textual.cache import FIFOCache, LRUCache

    found: dict[str, str] = {}
    for widget in app.screen.walk_children(with_self=True):
        for name, value in vars(widget).items():
            if isinstance(value, LRUCache | FIFOCache) and len(value) > 8:
                key = f"{type(widget).__qualname__}.{name}"
                found[key] = f"{len(value)}/{getattr(value, '_maxsize', 0)}"
    return found


def cache_figures() -> dict[str, Any]:
    """Textual's LRU/FIFO caches alive (how many, entries, the fullest few with their caps) and
    the ``lru_cache`` functions with the most entries."""
    from textual.cache import FIFOCache, LRUCache

    caches: list[tuple[int, int, str]] = []
    lru: list[tuple[int, int, str]] = []
    for obj in gc.get_objects():
        if isinstance(obj, LRUCache | FIFOCache):
            caches.append((len(obj), getattr(obj, "_maxsize", 0), type(obj).__name__))
    for wrapper in lru_caches():
        info = wrapper.cache_info()
        name = f"{getattr(wrapper, '__module__', '?')}.{getattr(wrapper, '__qualname__', '?')}"
        lru.append((info.currsize, info.maxsize or 0, name))
    caches.sort(reverse=True)
    lru.sort(reverse=True)
    return {
        "textual_caches": len(caches),
        "textual_cache_entries": sum(size for size, _, _ in caches),
        "textual_cache_top": [f"{k} {n}/{m}" for n, m, k in caches[:6]],
        "lru_top": [f"{name} {n}/{m}" for n, m, name in lru[:12]],
        "threads": len(os.listdir("/proc/self/task")),
    }


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


_OPAQUE = (type, types.ModuleType, types.FunctionType, types.FrameType, types.CodeType)


def _reach(root: object, seen: set[int], stop: set[int]) -> tuple[int, int, Counter[str]]:
    """Objects (and their bytes by ``sys.getsizeof``) reachable from ``root`` not yet ``seen``,
    not crossing classes, modules, functions, frames, widgets or the app (``stop``)."""
    count = size = 0
    kinds: Counter[str] = Counter()
    todo = [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or id(obj) in stop or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        count += 1
        size += sys.getsizeof(obj)
        kinds[type(obj).__qualname__] += 1
        todo.extend(gc.get_referents(obj))
    return count, size, kinds


def retained(app: App[Any]) -> list[str]:
    """What each cache and each widget holds alone, in bytes (by ``sys.getsizeof``): every
    ``lru_cache`` first, then the widgets' own attributes, by widget type; the first to reach an
    object is charged with it."""
    widgets = [obj for obj in gc.get_objects() if isinstance(obj, Widget)]
    for stack in app._screen_stacks.values():
        for screen in stack:
            widgets.extend(screen.walk_children(with_self=True))
    stop = {id(app)} | {id(w) for w in widgets}
    seen: set[int] = set()
    rows: list[tuple[int, int, str, str]] = []
    for wrapper in lru_caches():
        count, size, kinds = _reach(wrapper, seen, stop)
        if count > 50:
            name = (
                f"lru {wrapper.__module__}.{wrapper.__qualname__} ({wrapper.cache_info().currsize})"
            )
            rows.append((size, count, name, str(kinds.most_common(5))))
    by_type: dict[str, list[int]] = {}
    kinds_of: dict[str, Counter[str]] = {}
    for widget in {id(w): w for w in widgets}.values():
        for attribute, value in list(vars(widget).items()):
            name = f"{type(widget).__qualname__}.{attribute}"
            total = by_type.setdefault(name, [0, 0, 0])
            count, size, kinds = _reach(value, seen, stop)
            total[0] += size
            total[1] += count
            total[2] += 1
            kinds_of.setdefault(name, Counter()).update(kinds)
    for name, (size, count, n) in by_type.items():
        rows.append((size, count, f"{name} x{n}", str(kinds_of[name].most_common(5))))
    rows.sort(reverse=True)
    return [
        f"{size / 2**20:8.2f} MiB {count:8d} objs  {name}  {kinds}"
        for size, count, name, kinds in rows[:40]
    ]


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
        lru = lru_caches()
        figures = {
            "traced": self.traced(),
            "blocks": sys.getallocatedblocks(),
            "lru_entries": sum(wrapper.cache_info().currsize for wrapper in lru),
            **pymalloc_figures(),
            **malloc_figures(),
            **malloc_arenas(),
            **smaps_figures(),
            **cache_figures(),
            "widget_caches": widget_caches(app),
            "gc_counts": gc.get_count(),
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
        (self.out / "retained.txt").write_text("\n".join(retained(app)) + "\n", encoding="utf-8")
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
