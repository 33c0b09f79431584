"""The keys as they really are: Textual's bindings with the user's ``[keymap]`` applied.

``[keymap]`` maps a binding id (``approve``) to keys (``"ctrl+a"``), through Textual's own
keymap (:meth:`App.set_keymap`). This module reads the bindings back, so that the help screen
and the command palette show where a key really is, and checks a keymap before it is used: an id
that no binding has, or two bindings on one key of a screen because of the keymap, is a problem
said once at start-up (and in the help screen), never a key that silently does something else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from textual.binding import Binding, BindingsMap, BindingType
from textual.keys import _character_to_key, key_to_character

__all__ = [
    "Bound",
    "KeyScope",
    "KeySpec",
    "class_bindings",
    "conflicts",
    "key_label",
    "keys_text",
    "normalize_keymap",
    "remapped",
    "resolve",
    "unknown_ids",
]

_LABELS = {"slash": "/", "backslash": "\\", "space": "space", "escape": "escape"}


def key_label(key: str) -> str:
    """A key as a person types it: ``?`` for ``question_mark``, ``ctrl+r`` as it is."""
    key = key.strip()
    if key in _LABELS:
        return _LABELS[key]
    character = key_to_character(key)
    if character is not None and len(character) == 1 and character.isprintable():
        return character if not character.isspace() else key
    return key


def normalize_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """The keymap with keys in Textual's long form (``?`` → ``question_mark``), ids stripped."""
    return {
        binding_id.strip(): ",".join(
            _character_to_key(key.strip()) if len(key.strip()) == 1 else key.strip()
            for key in keys.split(",")
            if key.strip()
        )
        for binding_id, keys in keymap.items()
    }


def class_bindings(cls: type) -> list[Binding]:
    """Every binding of ``cls`` and its bases, base classes first (as Textual merges them)."""
    bindings: list[Binding] = []
    for base in reversed(cls.__mro__):
        declared: Iterable[BindingType] = base.__dict__.get("BINDINGS", ())
        for _, binding in BindingsMap(declared):
            bindings.append(binding)
    return bindings


def remapped(bindings: Iterable[Binding], keymap: Mapping[str, str]) -> list[Binding]:
    """``bindings`` with the keymap applied: a binding whose id it names moves to its keys."""
    result: list[Binding] = []
    for binding in bindings:
        keys = keymap.get(binding.id) if binding.id else None
        if keys:
            result.extend(binding.with_key(key, key_display=None) for key in keys.split(","))
        else:
            result.append(binding)
    return result


@dataclass(frozen=True)
class KeyScope:
    """Keys read together: a screen's bindings and the app's under it (a dialog's alone)."""

    name: str
    """What a person calls it: ``pipelines``, ``approvals inbox``."""
    bindings: Sequence[Binding]
    """Its bindings, before the keymap."""


def unknown_ids(keymap: Mapping[str, str], bindings: Iterable[Binding]) -> list[str]:
    """One sentence per id of ``keymap`` that none of ``bindings`` has."""
    known = {binding.id for binding in bindings if binding.id}
    return [
        f"keymap: no key has the id {binding_id!r}"
        for binding_id in keymap
        if binding_id not in known
    ]


def conflicts(keymap: Mapping[str, str], scope: KeyScope) -> list[str]:
    """One sentence per key of ``scope`` that two bindings share because of ``keymap``.

    Only a key the keymap put a binding on counts: the defaults are what they are (a dialog's
    ``q`` closing it over the app's ``q`` quitting is meant).
    """
    by_key: dict[str, list[Binding]] = {}
    for binding in remapped(scope.bindings, keymap):
        by_key.setdefault(binding.key, []).append(binding)
    problems = []
    for key, on_key in by_key.items():
        names = sorted({binding.id or binding.action for binding in on_key})
        if len(names) > 1 and any(binding.id in keymap for binding in on_key if binding.id):
            listed = " and ".join(repr(name) for name in names)
            problems.append(f"keymap: {listed} are both on {key_label(key)} ({scope.name})")
    return problems


@dataclass(frozen=True)
class Bound:
    """A help row's keys, read from the bindings: the keys of ``ids``, joined by ``joiner``."""

    ids: tuple[str, ...]
    joiner: str = ", "
    prefix: str = ""
    """Keys no binding holds, shown first (``up/down, `` before ``j/k``)."""


KeySpec = str | Bound
"""A help row's keys: literal text (keys no binding holds, like ``enter``), or :class:`Bound`."""


def keys_text(bindings: Iterable[Binding], binding_id: str) -> str:
    """The keys the binding ``binding_id`` is on now (``r``, ``ctrl+a,f2``); empty if none."""
    labels: list[str] = []
    for binding in bindings:
        if binding.id == binding_id:
            label = key_label(binding.key)
            if label not in labels:
                labels.append(label)
    return ",".join(labels)


def resolve(spec: KeySpec, bindings: Sequence[Binding]) -> str:
    """The keys a help row shows: literal, or read from ``bindings`` (the keymap applied)."""
    if isinstance(spec, str):
        return spec
    found = [text for text in (keys_text(bindings, i) for i in spec.ids) if text]
    if not found:
        return spec.prefix.rstrip(", ")
    return spec.prefix + spec.joiner.join(found)
