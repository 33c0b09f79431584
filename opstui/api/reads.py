"""The client's reads that are not actions: list pages (and how far a list can be trusted),
and a pipeline's activity log. :class:`~opstui.api.client.OpseraClient` is a :class:`Reads`;
the ``status`` reads are actions and live with them in :mod:`opstui.api.client`.

Every read here may be retried by the transport (it changes nothing on the server).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Unpack

from opstui.api.bodies import clean_ids
from opstui.api.decoding import Page, decode_page, decode_page_off_loop
from opstui.api.errors import RequestRefusedError
from opstui.api.listing import STABLE_SORT, DocT, ListFilters, ListPage, PageTally, list_params
from opstui.api.models import ActivityEntry, Listing, Pipeline, Task
from opstui.api.transport import Transport

__all__ = ["Reads"]


class Reads:
    """Paged list reads and activity logs, over the client's transport."""

    _transport: Transport
    host: str

    async def _pages(
        self,
        path: str,
        model: type[DocT],
        key: str,
        filters: ListFilters,
        *,
        preview: int | None = None,
        ahead: int = 1,
    ) -> AsyncGenerator[ListPage[DocT]]:
        params, page_size = list_params(filters)
        tally: PageTally[DocT] = PageTally(page_size, stable=params["sortOption"] == STABLE_SORT)
        if preview is not None and 1 <= preview < page_size:
            page = await self._fetch(path, model, key, params, preview, 1)
            yield tally.preview(page, preview)
        fetches: dict[int, asyncio.Future[Page[DocT]]] = {}
        number = 0
        try:
            while not tally.done:
                number += 1
                last = tally.last_page()
                for ahead_number in range(number, number + max(1, ahead)):
                    if ahead_number in fetches:
                        continue
                    if ahead_number > number and (last is None or ahead_number > last):
                        break  # never past the end the count gives (nor ahead without one)
                    fetches[ahead_number] = asyncio.ensure_future(
                        self._fetch(path, model, key, params, page_size, ahead_number)
                    )
                page = await fetches.pop(number)
                yield tally.take(page)
        finally:
            for fetch in fetches.values():
                fetch.cancel()
            if fetches:
                await asyncio.gather(*fetches.values(), return_exceptions=True)

    async def _fetch(
        self,
        path: str,
        model: type[DocT],
        key: str,
        params: dict[str, str],
        page_size: int,
        number: int,
    ) -> Page[DocT]:
        query = {**params, "pageSize": str(page_size), "currentPage": str(number)}
        answer = await self._transport.send("GET", path, params=query)
        return await decode_page_off_loop(answer.content, model, key, self.host)

    def pipeline_pages(
        self, *, preview: int | None = None, ahead: int = 1, **filters: Unpack[ListFilters]
    ) -> AsyncGenerator[ListPage[Pipeline]]:
        """Each page of the pipelines that match, decoded, as it lands.

        A page holds only pipelines no earlier page held. Its ``skipped`` counts the records on
        it that could not be read; ``complete`` is True only on the last page of a complete
        read (see :meth:`list_pipelines`); ``total`` is the server's count, if it sent one.
        Large pages are decoded off the event loop.

        ``preview``: read a first page of this many records before the full-sized ones (the
        first rows show sooner; the first full page holds them again, handed out once).
        ``ahead``: how many pages may be on their way at once (never past the end the server's
        count gives); they are handed out in order all the same.
        """
        return self._pages(
            "/api/v2/pipelines", Pipeline, "pipelines", filters, preview=preview, ahead=ahead
        )

    def task_pages(self, **filters: Unpack[ListFilters]) -> AsyncGenerator[ListPage[Task]]:
        """Each page of the tasks that match, as it lands (as :meth:`pipeline_pages`)."""
        return self._pages("/api/v2/tasks", Task, "tasks", filters)

    async def _collect(self, pages: AsyncIterator[Listing[DocT]]) -> Listing[DocT]:
        items: list[DocT] = []
        skipped = 0
        complete = False
        async for page in pages:
            items.extend(page)
            skipped += page.skipped
            complete = page.complete
        return Listing(items, skipped=skipped, complete=complete)

    async def list_pipelines(self, **filters: Unpack[ListFilters]) -> Listing[Pipeline]:
        """Every pipeline that matches, across all pages, oldest first unless ``sort`` says.

        ``complete`` is True only when every page was read in the stable order, the server's
        ``count`` was the same on every page, and the distinct ids plus ``skipped`` make it
        (without a count: one short page held everything). Only then does absence mean gone.
        """
        return await self._collect(self.pipeline_pages(**filters))

    async def list_tasks(self, **filters: Unpack[ListFilters]) -> Listing[Task]:
        """Every task that matches, across all pages (as :meth:`list_pipelines`)."""
        return await self._collect(self.task_pages(**filters))

    async def pipeline_logs(
        self, pipeline_id: str, *, run_count: int | None = None
    ) -> Listing[ActivityEntry]:
        """A pipeline's activity log, newest first (one run's, when ``run_count`` is given)."""
        target = clean_ids([pipeline_id], "pipeline")[0]
        body: dict[str, Any] = {"pipelineId": target}
        if run_count is not None:
            if isinstance(run_count, bool) or not isinstance(run_count, int):
                raise RequestRefusedError("a run number is a whole number")
            body["runCount"] = run_count
        answer = await self._transport.send("POST", "/api/v1/pipeline/logs", body=body)
        page = decode_page(answer.content, ActivityEntry, "logs", self.host)
        return Listing(page.items, skipped=page.skipped)
