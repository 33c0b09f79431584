"""PipelineView: a view's order worked out once, kept by pipeline object, changed by what changed.

Pipelines are the seeded simulator's documents read by the client's own model; every order the
view keeps is compared with the one a plain sort of the filtered pipelines gives.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from opstui.api import Pipeline, PipelineStatus
from opstui.sim.clock import ManualClock
from opstui.sim.world import World
from opstui.tui.widgets.pipeline_view import PipelineView, SortKey, sort_pipelines

SORTS: list[tuple[SortKey, bool]] = [
    (key, descending) for key in ("name", "state", "last", "run") for descending in (False, True)
]


def haystack(pipeline: Pipeline) -> str:
    """What a filter searches, worked out here apart from the model's own."""
    words = (pipeline.name, pipeline.id, pipeline.owner_name, pipeline.owner, pipeline.tag_text)
    return " ".join(words).casefold()


def documents(count: int = 300) -> list[dict[str, Any]]:
    world = World(seed=7, pipelines=count, tasks=0, clock=ManualClock())
    return world.list_pipelines(page_size=count).items


def by_id(docs: list[dict[str, Any]]) -> dict[str, Pipeline]:
    return {doc["_id"]: Pipeline.model_validate(doc) for doc in docs}


def expected(
    pipelines: dict[str, Pipeline],
    sort: SortKey,
    descending: bool,
    status: PipelineStatus | None = None,
    words: tuple[str, ...] = (),
) -> list[str]:
    shown = [
        p
        for p in pipelines.values()
        if (status is None or p.status is status) and all(w in haystack(p) for w in words)
    ]
    return [p.id for p in sort_pipelines(shown, sort, descending)]


@pytest.mark.parametrize(("sort", "descending"), SORTS)
def test_every_sort_filter_and_quick_view_matches_a_plain_sort(
    sort: SortKey, descending: bool
) -> None:
    pipelines = by_id(documents())
    view = PipelineView()
    view.sync(pipelines)
    for status, words in (
        (None, ()),
        (PipelineStatus.AWAITING_APPROVAL, ()),
        (None, ("deploy",)),
        (PipelineStatus.FAILED, ("e", "a")),
        (None, ("no-such-pipeline",)),
    ):
        view.set_view(status=status, words=words, sort=sort, descending=descending)
        assert view.order == expected(pipelines, sort, descending, status, words)
        assert view.shown == frozenset(view.order)


def test_sorts_break_ties_by_name_then_id() -> None:
    pipelines = by_id(documents())
    view = PipelineView()
    view.sync(pipelines)
    view.set_view(sort="state")
    urgency = [list(PipelineStatus).index(pipelines[key].status) for key in view.order]
    assert len(set(urgency)) > 1
    same = [key for key in view.order if pipelines[key].status is PipelineStatus.SUCCESS]
    names = [(pipelines[key].name.casefold(), key) for key in same]
    assert names == sorted(names)


@pytest.mark.parametrize(("sort", "descending"), [("name", True), ("state", False), ("run", True)])
def test_a_refresh_moves_only_what_changed_and_lands_where_a_full_sort_would(
    sort: SortKey, descending: bool
) -> None:
    docs = documents()
    pipelines = by_id(docs)
    view = PipelineView()
    view.set_view(sort=sort, descending=descending, words=("e",))
    assert view.sync(pipelines)  # everything is new
    before = view.order

    fresh = dict(pipelines)
    changed = [docs[3], docs[40], docs[41], docs[200]]
    for index, doc in enumerate(changed):
        doc = copy.deepcopy(doc)
        doc["name"] = f"{'zz' if index % 2 else 'aa'}-renamed-{index}"
        doc["workflow"]["run_count"] = 10_000 + index
        fresh[doc["_id"]] = Pipeline.model_validate(doc)
    gone = docs[7]["_id"]
    del fresh[gone]
    new_doc = copy.deepcopy(docs[9])
    new_doc["_id"] = "f" * 24
    new_doc["name"] = "brand-new-pipeline"
    fresh[new_doc["_id"]] = Pipeline.model_validate(new_doc)

    touched = view.sync(fresh)
    assert touched == {doc["_id"] for doc in changed} | {gone, new_doc["_id"]}
    assert view.order == expected(fresh, sort, descending, words=("e",))
    assert view.order is not before, "a new order is a new list (the table keeps it by reference)"

    unchanged = view.order
    assert view.sync(dict(fresh)) == set(), "the same objects: nothing to do"
    assert view.order is unchanged


@pytest.mark.parametrize(("sort", "descending"), [("name", False), ("state", False), ("run", True)])
def test_an_update_of_the_ids_a_refresh_touched_lands_where_a_full_sync_would(
    sort: SortKey, descending: bool
) -> None:
    docs = documents()
    pipelines = by_id(docs)
    view = PipelineView()
    view.set_view(sort=sort, descending=descending, words=("e",))
    view.sync(pipelines)

    fresh = dict(pipelines)
    changed = [docs[3]["_id"], docs[41]["_id"]]
    for index, key in enumerate(changed):
        doc = copy.deepcopy(docs[[d["_id"] for d in docs].index(key)])
        doc["name"] = f"zz-renamed-{index}"
        doc["workflow"]["run_count"] = 20_000 + index
        fresh[key] = Pipeline.model_validate(doc)
    gone = docs[7]["_id"]
    del fresh[gone]
    added = copy.deepcopy(docs[9])
    added["_id"] = "e" * 24
    fresh[added["_id"]] = Pipeline.model_validate(added)
    said = {*changed, gone, added["_id"], docs[60]["_id"]}  # one said but not changed

    assert view.update(fresh, said) == {*changed, gone, added["_id"]}
    assert view.order == expected(fresh, sort, descending, words=("e",))
    assert view.update(fresh, ()) == set(), "nothing said, nothing done"

    # A refresh that did not say all it touched: the counts do not add up, a full sync runs.
    fewer = dict(fresh)
    del fewer[docs[100]["_id"]]
    assert view.update(fewer, ()) == {docs[100]["_id"]}
    assert view.order == expected(fewer, sort, descending, words=("e",))


def test_many_changes_sort_everything_again_with_the_same_result() -> None:
    docs = documents()
    pipelines = by_id(docs)
    view = PipelineView()
    view.set_view(sort="last", descending=True)
    view.sync(pipelines)
    fresh = by_id(docs)  # every object new: past the share where one sort beats insertions
    assert view.sync(fresh) == set(fresh)
    assert view.order == expected(fresh, "last", True)


@pytest.mark.parametrize("change", ["states", "names", "one gone"])
def test_a_new_sort_after_a_refresh_sorts_as_a_plain_sort_would(change: str) -> None:
    """The order by name is kept between sorts: a refresh that renamed, added or removed a
    pipeline must not leave a stale one behind (a refresh of states keeps it)."""
    docs = documents()
    view = PipelineView()
    view.sync(by_id(docs))
    view.set_view(sort="state")  # the order by name is worked out and kept
    fresh = by_id(docs)
    for index in (5, 50, 150):
        doc = copy.deepcopy(docs[index])
        doc["workflow"]["run_count"] = 30_000 + index
        if change == "names":
            doc["name"] = f"{'0' if index % 2 else 'zz'}-renamed-{index}"
        fresh[doc["_id"]] = Pipeline.model_validate(doc)
    if change == "one gone":
        del fresh[docs[8]["_id"]]
    view.update(fresh, [docs[index]["_id"] for index in (5, 8, 50, 150)])
    for sort, descending in (("run", True), ("last", False), ("name", True), ("state", True)):
        view.set_view(sort=sort, descending=descending)
        assert view.order == expected(fresh, sort, descending), (sort, descending)


def test_a_new_view_reports_whether_the_order_may_have_moved() -> None:
    view = PipelineView()
    view.sync(by_id(documents(40)))
    assert view.set_view(sort="name") is False
    assert view.set_view(sort="name", words=("x",)) is True
    assert view.set_view(sort="name", words=("x",)) is False
    assert view.set_view(sort="run", words=("x",)) is True


def test_the_text_a_filter_searches_is_worked_out_once_when_a_pipeline_is_read() -> None:
    pipelines = list(by_id(documents(60)).values())
    assert all(p.search_text == haystack(p) for p in pipelines)
    doc = {
        "_id": "64f0c0ffee",
        "name": "Straße-Deploy",
        "owner": "U-Ops",
        "owner_name": "Ops Team",
        "tags": [{"type": "Env", "value": "PROD"}],
    }
    read = Pipeline.decode(doc)
    assert read.sort_name == "strasse-deploy"  # casefolded: a sort by name ignores case
    for word in ("strasse-deploy", "64f0c0ffee", "u-ops", "ops team", "env:prod"):
        assert word in read.search_text
    assert read.last_run_time == float("-inf")  # never ran: last in a sort by last run
