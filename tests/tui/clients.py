"""The real client for the app's tests, with two seams a test needs and a bridge to the new interface.

:class:`TestClient` is :class:`~opstui.api.OpseraClient`, talking HTTP to the simulator, plus:

- ``on_send``: awaited right before a mutating request leaves, with the action's name. A test
  uses it to add a fault for that very request (the status re-check before it must not get the
  fault) or to hold the request back while it presses keys.
- ``reshape_list`` / ``reshape_tasks``: awaited with the next list of pipelines / tasks, to hand
  the app a :class:`~opstui.api.Listing` built from the simulator's real answer (one record
  dropped, an incomplete read, records skipped), or to hold that answer back for a while.

And, while main's client still returns plain lists and raises a timeout for a mutating request
(branch api-hardening changes both), it presents its answers the way the interface says:
lists read whole are complete :class:`Listing`\\ s, a status answer is complete when it carried
documents, and a mutating request that "may have been applied" raises
:class:`~opstui.api.OutcomeUnknownError`. Once the client does this itself, the bridge passes its
answers through untouched.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from opstui.api import (
    ActionResult,
    InvalidResponseError,
    Listing,
    OpseraClient,
    OutcomeUnknownError,
    Pipeline,
    RequestTimeoutError,
    Task,
)

ItemT = TypeVar("ItemT")

MAY_HAVE = "may have been applied"
"""How main's client words a mutating request whose outcome it does not know."""


def _listing(items: Sequence[ItemT], *, complete: bool) -> Listing[ItemT]:
    return items if isinstance(items, Listing) else Listing(items, complete=complete)


class TestClient(OpseraClient):
    """The real client with a seam before each mutating request and one after each list."""

    __test__ = False  # not a pytest test class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_send: Callable[[str], Awaitable[None]] | None = None
        self.reshape_list: Callable[[Listing[Pipeline]], Awaitable[Listing[Pipeline]]] | None = None
        self.reshape_tasks: Callable[[Listing[Task]], Awaitable[Listing[Task]]] | None = None

    async def _sending(self, action: str) -> None:
        if self.on_send is not None:
            await self.on_send(action)

    async def list_pipelines(self, **filters: Any) -> Listing[Pipeline]:  # type: ignore[override]
        listing = _listing(await super().list_pipelines(**filters), complete=True)
        reshape, self.reshape_list = self.reshape_list, None
        return await reshape(listing) if reshape is not None else listing

    async def list_tasks(self, **filters: Any) -> Listing[Task]:  # type: ignore[override]
        listing = _listing(await super().list_tasks(**filters), complete=True)
        reshape, self.reshape_tasks = self.reshape_tasks, None
        return await reshape(listing) if reshape is not None else listing

    async def pipeline_status(self, ids: Sequence[str]) -> Listing[Pipeline]:  # type: ignore[override]
        found = await super().pipeline_status(ids)
        return _listing(found, complete=bool(found))

    async def task_status(self, ids: Sequence[str]) -> Listing[Task]:  # type: ignore[override]
        found = await super().task_status(ids)
        return _listing(found, complete=bool(found))

    async def action(
        self, action: str, type: Any, target: Any = None, **kwargs: Any
    ) -> ActionResult:
        if action == "status":
            return await super().action(action, type, target, **kwargs)
        await self._sending(action)
        targets = (target,) if isinstance(target, str) else tuple(target or ())
        try:
            return await super().action(action, type, target, **kwargs)
        except (RequestTimeoutError, InvalidResponseError) as error:
            if MAY_HAVE not in error.message:
                raise
            raise OutcomeUnknownError(error.message, action=action, targets=targets) from None

    async def clone_pipeline(self, pipeline_id: str, new_name: str) -> Pipeline:
        await self._sending("clone")
        try:
            return await super().clone_pipeline(pipeline_id, new_name)
        except (RequestTimeoutError, InvalidResponseError) as error:
            if MAY_HAVE not in error.message:
                raise
            raise OutcomeUnknownError(error.message, action="clone") from None
