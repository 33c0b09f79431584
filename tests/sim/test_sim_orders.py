"""The simulator keeps each sort's order from page to page (a listing of fifty thousand sorted
them all for every page): what it answers must be what sorting afresh answers, whatever changed
between two pages."""

from __future__ import annotations

import random
from typing import Any

import pytest

from opstui.sim import ManualClock, World
from opstui.sim.query import SORT_OPTIONS, Orders, select


def ids(page: Any) -> list[str]:
    return [doc["_id"] for doc in page.items]


def fresh(world: World, **query: Any) -> list[str]:
    """The same listing sorted afresh (no kept order)."""
    return ids(select(list(world._pipelines.values()), **query))


@pytest.mark.parametrize("sort", SORT_OPTIONS)
def test_a_kept_order_answers_what_a_fresh_sort_does_through_every_change(sort: str) -> None:
    clock = ManualClock()
    world = World(seed=3, pipelines=60, tasks=0, clock=clock)
    rng = random.Random(sort)
    for turn in range(12):
        # one change a turn, of every kind the world makes: runs that move updatedAt, a rename,
        # a new pipeline, a deleted one, time passing
        pipeline_ids = world.pipeline_ids()
        kind = turn % 5
        if kind == 0:
            world.run_pipelines(rng.sample(pipeline_ids, 3))
        elif kind == 1:
            world.update_pipeline(rng.choice(pipeline_ids), {"name": f"renamed-{turn}"})
        elif kind == 2:
            world.create_pipeline({"name": f"made-{turn}", "workflow": {"plan": []}})
        elif kind == 3:
            world.delete_pipelines([rng.choice(pipeline_ids)])
        clock.advance(7)
        for page in (1, 2, 3):
            query: dict[str, Any] = {"sort": sort, "page_size": 25, "page": page}
            assert ids(world.list_pipelines(**query)) == fresh(world, **query)
        assert ids(world.list_pipelines(sort=sort)) == fresh(world, sort=sort)


def test_a_filter_applied_to_the_kept_order_is_the_filter_applied_before_sorting() -> None:
    world = World(seed=5, pipelines=80, tasks=0, clock=ManualClock())
    world.list_pipelines(sort="name", page_size=10)  # an order is kept
    query: dict[str, Any] = {"sort": "name", "status": "success,failed", "search": "e"}
    answer = ids(world.list_pipelines(**query))
    assert answer and answer == fresh(world, **query)
    assert len(answer) < len(world.pipeline_ids())


def test_an_order_is_kept_while_nothing_moves_and_remade_when_a_sort_key_changes() -> None:
    docs: list[dict[str, Any]] = [
        {"_id": f"{n:024x}", "name": name, "createdAt": f"2026-01-0{n}T00:00:00Z"}
        for n, name in enumerate(["delta", "alpha", "charlie", "bravo"], start=1)
    ]
    orders = Orders()
    first = orders.sorted(list(docs), "name")
    assert orders.sorted(list(docs), "name") is first  # the same documents: not sorted again
    assert [d["name"] for d in first] == ["alpha", "bravo", "charlie", "delta"]
    docs[0]["name"] = "aardvark"  # changed in place: the same objects, another key
    assert [d["name"] for d in orders.sorted(list(docs), "name")][:2] == ["aardvark", "alpha"]
    copies = [dict(d) for d in docs]  # equal documents, but not the same ones
    assert all(
        a is b
        for a, b in zip(
            orders.sorted(copies, "name"), sorted(copies, key=lambda d: d["name"]), strict=True
        )
    )


def test_a_whole_listing_hands_out_a_list_of_its_own() -> None:
    world = World(seed=2, pipelines=20, tasks=0, clock=ManualClock())
    whole = world.list_pipelines(sort="oldest", live=True)
    whole.items.clear()  # a caller may do with its list what it likes
    assert len(world.list_pipelines(sort="oldest", live=True).items) == 20
