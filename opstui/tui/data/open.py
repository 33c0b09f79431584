"""The pipelines details screens show, and what the data service reads only for them.

A details screen says which pipeline it shows (:meth:`OpenDetails.open`); that one is read by
``status`` alone at once (a 404 for it is the proof it is gone) and joins what the screens look at,
and after every poll its activity log is read and published as a
:class:`~opstui.tui.data.details.DetailsRead`. The screen holds no client: it shows what comes.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.signal import Signal

from opstui.api import NotFoundError, OpseraError
from opstui.tui.data.details import NO_STATUS, DetailsRead
from opstui.tui.data.pipelines import read_status
from opstui.tui.store import LivePhase

if TYPE_CHECKING:
    from opstui.tui.data.service import DataService

__all__ = ["OpenDetails"]


class OpenDetails:
    """Which pipeline each details screen shows, and the reads only they need.

    Attributes:
        details: Published with a :class:`~opstui.tui.data.details.DetailsRead` after each
            read of an open pipeline's details.
        shown: The pipeline each details screen shows, by the screen's ``id``.
    """

    def __init__(self, service: DataService) -> None:
        self.service = service
        self.app = service.owner
        self.details: Signal[DetailsRead] = Signal(service.owner, "details-read")
        self.shown: dict[int, str] = {}

    def open(self, owner: object, pipeline_id: str) -> None:
        """``owner`` (a details screen) shows ``pipeline_id``: read it now, and with each poll."""
        self.shown[id(owner)] = pipeline_id
        self.service.store.set_interest(owner, [pipeline_id])
        self.refresh(owner)

    def close(self, owner: object) -> None:
        """``owner`` no longer shows a pipeline."""
        self.shown.pop(id(owner), None)
        self.service.store.set_interest(owner, ())
        self.app.workers.cancel_group(self.app, f"details-{id(owner)}")

    def refresh(self, owner: object) -> None:
        """Read the pipeline ``owner`` shows now: its status alone (a 404 says it is gone),
        then its activity log."""
        pipeline_id = self.shown.get(id(owner))
        if pipeline_id is not None:
            self.app.run_worker(
                partial(self._details, pipeline_id),  # type: ignore[arg-type]
                group=f"details-{id(owner)}",
                exclusive=True,
            )

    async def _details(self, pipeline_id: str) -> None:
        try:
            read = await read_status(
                self.service.client, self.service.store, [pipeline_id], self.service.observe
            )
        except OpseraError as error:
            self.service.failed(error)
            self._publish_failure(pipeline_id, error)
            return
        if pipeline_id in read.gone:
            self.details.publish(DetailsRead(pipeline_id, deleted=True))
            return
        if not read.documents:
            self.service.fall_back()
        note = "" if pipeline_id in read.found else NO_STATUS
        await self._read_logs(pipeline_id, note)

    def ids(self) -> set[str]:
        """Every pipeline some details screen shows."""
        return set(self.shown.values())

    def cancel(self) -> None:
        """None of the reads for details still on their way."""
        for key in list(self.shown):
            self.app.workers.cancel_group(self.app, f"details-{key}")

    async def read_logs(self) -> None:
        """After a poll: each open pipeline's activity log (or, while offline, why not)."""
        if self.service.store.state.phase in (LivePhase.OFFLINE, LivePhase.REFUSED):
            for pipeline_id in set(self.shown.values()):
                self.details.publish(
                    DetailsRead(
                        pipeline_id,
                        error=self.service.store.state.error,
                        retry_at=self.service.store.state.retry_at,
                    )
                )
            return
        for pipeline_id in set(self.shown.values()):
            if pipeline_id in self.service.store.pipelines:
                await self._read_logs(pipeline_id, "")

    async def _read_logs(self, pipeline_id: str, note: str) -> None:
        try:
            entries = await self.service.client.pipeline_logs(pipeline_id)
        except NotFoundError:
            self.details.publish(DetailsRead(pipeline_id, deleted=True))
            return
        except OpseraError as error:
            self.service.failed(error)
            self._publish_failure(pipeline_id, error)
            return
        self.service.succeeded()
        self.details.publish(DetailsRead(pipeline_id, entries=list(entries), note=note))

    def _publish_failure(self, pipeline_id: str, error: OpseraError) -> None:
        retry_at = self.service.store.state.retry_at
        self.details.publish(DetailsRead(pipeline_id, error=error.message, retry_at=retry_at))
