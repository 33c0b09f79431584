"""Changes summed as they come (the pages of a full list) say what the old fold said, each step
costing its own size."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from opstui.api import PipelineStatus
from opstui.tui.changed import ChangeSum, PipelinesChanged

IDS = st.sampled_from([f"p{i}" for i in range(8)])
STATUSES = st.sampled_from(list(PipelineStatus)[:4])
IdSet = st.frozensets(IDS, max_size=5)

changes = st.builds(
    # As a store makes them: nothing both added and removed, nothing removed updated or moved.
    lambda added, removed, updated, moved, first: PipelinesChanged(
        {},
        added,
        removed - added,
        {key: move for key, move in moved.items() if key not in removed - added},
        first,
        updated - (removed - added),
    ),
    IdSet,
    IdSet,
    IdSet,
    # A store's change holds real moves only (before and after differ).
    st.dictionaries(IDS, st.tuples(STATUSES, STATUSES).filter(lambda m: m[0] != m[1]), max_size=4),
    st.booleans(),
)


def reference_then(self: PipelinesChanged, later: PipelinesChanged) -> PipelinesChanged:
    """The rule as first written, one new change per step (copying every id so far)."""
    removed = (self.removed | later.removed) - later.added
    added = (self.added | later.added) - removed
    updated = (self.updated | later.updated) - removed
    moved = dict(self.status_changed)
    for key, (before, after) in later.status_changed.items():
        moved[key] = (moved[key][0] if key in moved else before, after)
    for key in [k for k, (before, after) in moved.items() if before == after or k in removed]:
        del moved[key]
    return PipelinesChanged(
        later.pipelines, added, removed, moved, self.first or later.first, updated
    )


def _fields(change: PipelinesChanged) -> tuple[object, ...]:
    return (
        change.added,
        change.removed,
        change.updated,
        dict(change.status_changed),
        change.first,
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(changes, min_size=1, max_size=8))
def test_a_sum_says_what_the_fold_of_then_says(sequence: list[PipelinesChanged]) -> None:
    expected = reference_then(PipelinesChanged({}), sequence[0])
    for change in sequence[1:]:
        expected = reference_then(expected, change)
    summed = ChangeSum()
    for change in sequence:
        summed.add(change)
    assert _fields(summed.result()) == _fields(expected)
    if len(sequence) > 1:
        first, second = sequence[:2]
        assert _fields(first.then(second)) == _fields(reference_then(first, second))


def test_a_pipeline_removed_then_added_back_is_added_not_removed() -> None:
    running = (PipelineStatus.RUNNING, PipelineStatus.FAILED)
    summed = ChangeSum()
    summed.add(
        PipelinesChanged({}, frozenset(), frozenset(), {"a": running}, False, frozenset({"a"}))
    )
    summed.add(PipelinesChanged({}, removed=frozenset({"a", "b"})))
    summed.add(PipelinesChanged({}, added=frozenset({"a"}), updated=frozenset({"a"})))
    result = summed.result()
    assert result.removed == {"b"}
    assert result.added == result.updated == {"a"}
    assert result.status_changed == {}  # the move went with the removal
