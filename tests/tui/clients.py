"""The real client for the app's tests, with two seams a test needs.

:class:`TestClient` is :class:`~opstui.api.OpseraClient`, talking HTTP to the simulator, plus:

- ``on_send``: awaited right before a mutating request leaves, with the action's name. A test
  uses it to add a fault for that very request or to hold the request back while it presses
  keys.
- ``reshape_list`` / ``reshape_tasks``: awaited with the next list of pipelines / tasks, to hand
  the app a :class:`~opstui.api.Listing` built from the simulator's real answer (one record
  dropped, an incomplete read, records skipped), or to hold that answer back for a while. The
  next pipeline list is read whole (every page), reshaped, and handed over as one page, whether
  the app reads it with ``list_pipelines`` or page by page with ``pipeline_pages``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from opstui.api import ActionResult, Listing, OpseraClient, Pipeline, Task
from opstui.api.listing import ListPage


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

    async def pipeline_pages(  # type: ignore[override]
        self, **filters: Any
    ) -> AsyncGenerator[ListPage[Pipeline]]:
        reshape, self.reshape_list = self.reshape_list, None
        pages = super().pipeline_pages(**filters)
        if reshape is None:
            async for page in pages:
                yield page
            return
        whole = await self._collect(pages)
        listing = await reshape(whole)
        yield ListPage(list(listing), skipped=listing.skipped, complete=listing.complete)

    async def list_tasks(self, **filters: Any) -> Listing[Task]:  # type: ignore[override]
        listing = await super().list_tasks(**filters)
        reshape, self.reshape_tasks = self.reshape_tasks, None
        return await reshape(listing) if reshape is not None else listing

    async def action(
        self, action: str, type: Any, target: Any = None, **kwargs: Any
    ) -> ActionResult:
        if action == "status":
            return await super().action(action, type, target, **kwargs)
        await self._sending(action)
        return await super().action(action, type, target, **kwargs)

    async def clone_pipeline(self, pipeline_id: str, new_name: str) -> Pipeline:
        await self._sending("clone")
        return await super().clone_pipeline(pipeline_id, new_name)
