"""Which action keys apply to a selection of pipelines, and why none does: judged on a handful.

:func:`~opstui.api.rules.why_not` reads only a pipeline's status and whether it is active, so a
selection of ten thousand is judged on one pipeline of each ``(status, active)``: one pass over
the selection at most, not one rule check per action per pipeline. Pure functions; the screens
(:class:`~opstui.tui.screens._acting.ActingScreen`) call them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from opstui.api import Pipeline
from opstui.api.rules import why_not
from opstui.tui.format import safe_text

__all__ = ["ONE_AT_A_TIME", "applicable", "representatives", "why_none_applies"]

ONE_AT_A_TIME = frozenset({"update", "clone"})
"""API actions that take one pipeline."""


def representatives(items: Iterable[Pipeline]) -> list[Pipeline]:
    """One pipeline per ``(status, active)``, first seen first: all :func:`why_not` reads of a
    pipeline, so a selection of ten thousand is judged by a handful."""
    seen: dict[tuple[object, bool], Pipeline] = {}
    for item in items:
        seen.setdefault((item.status, item.active), item)
    return list(seen.values())


def applicable(actions: Mapping[str, str], items: Iterable[Pipeline], count: int) -> frozenset[str]:
    """The screen actions of ``actions`` (screen action -> API action) that apply to at least
    one of the ``count`` pipelines ``items``; stops reading ``items`` once every one applies."""
    pending = [
        action
        for action in actions
        if count and not (actions[action] in ONE_AT_A_TIME and count > 1)
    ]
    available: set[str] = set()
    seen: set[tuple[object, bool]] = set()
    for item in items:
        if not pending:
            break
        kind = (item.status, item.active)
        if kind in seen:
            continue
        seen.add(kind)
        applies = {action for action in pending if why_not(actions[action], item) is None}
        available |= applies
        pending = [action for action in pending if action not in applies]
    return frozenset(available)


def why_none_applies(
    action: str,
    api_action: str,
    kinds: Sequence[Pipeline],
    count: int,
    first: Sequence[Pipeline] = (),
) -> str | None:
    """Why the screen action ``action`` (``api_action``) applies to none of ``count`` selected
    pipelines (``count`` > 0), judged on ``kinds`` (one of each kind); ``first`` are the first
    selected, named in the sentence. None when it applies to one at least."""
    verb = action.capitalize()
    if api_action in ONE_AT_A_TIME and count > 1:
        return f"{verb} works on one pipeline at a time: {count} are marked (u unmarks)."
    if any(why_not(api_action, item) is None for item in kinds):
        return None
    named = first or kinds
    reasons = [(item, why_not(api_action, item)) for item in named[:3]]
    if count == 1:
        return f"{safe_text(named[0].name or named[0].id, 60)} {reasons[0][1]}."
    listed = "; ".join(f"{safe_text(item.name, 40)} {reason}" for item, reason in reasons)
    more = "…" if count > 3 else ""
    return f"{verb} applies to none of the {count} marked: {listed}{more}."
