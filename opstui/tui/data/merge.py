"""How two versions of a pipeline merge: the newer by ``updatedAt`` wins, the held one if same.

Pure functions, no state: :class:`~opstui.tui.store.PipelineStore` merges with :func:`newer`,
and a reader runs :func:`prepare` in a thread first for a large answer, so that the merge on the
event loop only checks, per pipeline, that the one held is still the same object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from opstui.api import Pipeline

__all__ = ["newer", "prepare", "same"]


def prepare(pipelines: Iterable[Pipeline], held: Mapping[str, Pipeline]) -> dict[str, Pipeline]:
    """What can be done before a merge, in a thread: derive each document's status, and find
    those ``held`` already holds unchanged (returned, by id: the merge then only checks that the
    held one is still the same object)."""
    unchanged: dict[str, Pipeline] = {}
    for pipeline in pipelines:
        _ = pipeline.status
        old = held.get(pipeline.id)
        if old is not None and same(old, pipeline):
            unchanged[pipeline.id] = old
    return unchanged


def same(old: Pipeline, new: Pipeline) -> bool:
    """True when two versions of a pipeline show the same thing (the workflow compared whole).

    The same document, byte for byte, first: that is what almost every pipeline of a refresh
    is, and it parses nothing (comparing the workflows parses both kept documents)."""
    if old.same_document(new):
        return True
    return (
        old.updated_at == new.updated_at
        and old.name == new.name
        and old.active == new.active
        and old.owner_name == new.owner_name
        and old.owner == new.owner
        and old.description == new.description
        and old.type == new.type
        and old.tag_text == new.tag_text
        and old.workflow == new.workflow
    )


def newer(old: Pipeline, pipeline: Pipeline) -> Pipeline:
    """The version of a pipeline to hold: the newer by ``updatedAt``, the held one if same.

    Keeping the same object keeps what was derived from it (status, plan, step, the filter's
    text), so a refresh costs a comparison per unchanged pipeline, not a re-derivation. And a
    full list that left before an action must not undo what the action's own status read
    brought back: of two documents, the one updated later wins.
    """
    if same(old, pipeline):
        return old
    if (
        old.updated_at is not None
        and pipeline.updated_at is not None
        and old.updated_at > pipeline.updated_at
    ):
        return old
    return pipeline
