"""The one Opsera API client: async, typed, headless.

All defaults live here. Reads (lists, status, logs) are retried on transient failures, honouring
``Retry-After``; anything that changes something is sent exactly once, whatever happens, and
raises :class:`OutcomeUnknownError` when it may have been applied but the answer was not read.
Whatever a server or the network does, a public method raises only an :class:`OpseraError`.
The seams: :mod:`~opstui.api.transport` (HTTP and its failures), :mod:`~opstui.api.decoding`
(bodies into models), :mod:`~opstui.api.listing` (pages and completeness), :mod:`~opstui.api.reads`
(list pages and logs, the reads that are not actions),
:mod:`~opstui.api.bodies` (request bodies).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Sequence
from contextlib import aclosing, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from opstui import __version__
from opstui.api.bodies import (
    ACTIONS,
    TargetType,
    action_body_off_loop,
    clean_ids,
    clone_document,
    clone_name,
    edit_settings,
)
from opstui.api.decoding import (
    OFF_LOOP_BYTES,
    action_result,
    collector_paused,
    created_pipeline,
    decode_object,
)
from opstui.api.errors import (
    ApiError,
    ConnectionFailedError,
    InvalidResponseError,
    NotFoundError,
    OpseraError,
    RateLimitedError,
    RequestRefusedError,
    RequestTimeoutError,
    ServerError,
)
from opstui.api.listing import (
    DEFAULT_PAGE_SIZE,
    ListFilters,
    SortOption,
)
from opstui.api.models import ActionResult, Listing, Pipeline, Task
from opstui.api.reads import Reads
from opstui.api.text import one_line
from opstui.api.trace import TraceError, TracingTransport
from opstui.api.transport import BearerAuth, Mutation, RetryPolicy, Transport

__all__ = [
    "ACTIONS",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT",
    "OFF_LOOP_BYTES",
    "ListFilters",
    "OpseraClient",
    "RetryPolicy",
    "SortOption",
    "clean_ids",
    "is_transient",
]

DEFAULT_TIMEOUT = 10.0


class OpseraClient(Reads):
    """An async client for the Opsera API v2.

    Use it as an async context manager::

        async with OpseraClient(base_url, token) as client:
            pipelines = await client.list_pipelines()
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        verify: bool | str = True,
        trace: Path | None = None,
    ) -> None:
        try:
            url = httpx.URL(base_url.strip())
        except httpx.InvalidURL:
            url = httpx.URL()
        if url.scheme not in ("http", "https") or not url.host:
            raise RequestRefusedError(f"{one_line(base_url, 80)!r} is not an http(s) URL")
        if not token or not token.strip():
            raise RequestRefusedError("no token given")
        self._token = token.strip()
        self.base_url = str(url).rstrip("/")
        self.host = url.host if url.port is None else f"{url.host}:{url.port}"
        self.timeout = timeout
        policy = retry or RetryPolicy()
        self.status_documents: bool | None = None
        """Whether this server's ``status`` answers carry documents: None until one is read,
        False from the first that had none (the v1 shape) on. A status answer without documents
        says nothing about absence: :meth:`get_pipeline` then reads the list instead."""
        if transport is None:
            transport = httpx.AsyncHTTPTransport(verify=_tls(verify))
        if trace is not None:
            try:
                transport = TracingTransport(transport, trace, secrets=[self._token])
            except TraceError as exc:
                raise RequestRefusedError(str(exc)) from None
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=BearerAuth(self._token),
            timeout=httpx.Timeout(timeout),
            transport=transport,
            headers={"User-Agent": f"opstui/{__version__}", "Accept": "application/json"},
            follow_redirects=False,
        )
        self._transport = Transport(
            self._http,
            host=self.host,
            timeout=timeout,
            retry=policy,
            sleep=sleep,
            redact=self._redact,
        )

    def __repr__(self) -> str:
        return f"OpseraClient({self.base_url!r})"

    @property
    def retry(self) -> RetryPolicy:
        """How reads are retried (mutations never are); may be changed at any time."""
        return self._transport.retry

    @retry.setter
    def retry(self, policy: RetryPolicy) -> None:
        self._transport.retry = policy

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        with suppress(httpx.HTTPError, httpx.StreamError):
            await self._http.aclose()  # one that will not close cleanly is closed all the same

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***")

    # -- actions --------------------------------------------------------------------------

    async def action(
        self,
        action: str,
        type: TargetType,
        target: Sequence[str] | str | None = None,
        *,
        settings: dict[str, Any] | None = None,
        message: str | None = None,
    ) -> ActionResult:
        """Send one action through ``POST /api/v2/actions``, exactly as the contract writes it.

        ``target`` is a list of ids, except for ``update`` (one id) and ``create`` (none).
        Pairs outside the documented table, and a reject without a reason, are refused before
        anything is sent. Only ``status`` is retried; any other action that may have been
        applied without its answer being read raises :class:`OutcomeUnknownError`.
        """
        body, targets = await action_body_off_loop(
            action, type, target, settings=settings, message=message
        )
        if action == "status":
            answer = await self._transport.send(
                "POST", "/api/v2/actions", body=body, targets=len(targets)
            )
            result = await self._result(action, type, targets, answer.content)
            if not result.documents:
                self.status_documents = False
            elif self.status_documents is None:
                self.status_documents = True
            return result
        applied = f"created the {type}" if action == "create" else f"applied the {action}"
        mutation = Mutation(action, tuple(targets), applied)
        answer = await self._transport.send(
            "POST", "/api/v2/actions", body=body, mutation=mutation, targets=len(targets)
        )
        try:
            return await self._result(action, type, targets, answer.content)
        except InvalidResponseError:
            raise mutation.unknown(self.host, "its answer could not be read") from None

    async def _result(
        self, action: str, type: TargetType, targets: list[str], content: bytes
    ) -> ActionResult:
        """The answer's outcomes (and documents); a large one (a hot set's documents, or an
        action on thousands of targets) is decoded in a thread, as large list pages are."""
        if len(content) < OFF_LOOP_BYTES:
            return self._decode_result(action, type, targets, content)
        return await asyncio.to_thread(self._decode_result, action, type, targets, content)

    def _decode_result(
        self, action: str, type: TargetType, targets: list[str], content: bytes
    ) -> ActionResult:
        # As for a list page: the collector waits until the parsed answer is gone.
        with collector_paused():
            return action_result(
                action, type, targets, decode_object(content, self.host), self._redact
            )

    async def _status(self, type: TargetType, ids: Sequence[str]) -> ActionResult:
        return await self.action("status", type, ids)

    # -- pipelines ------------------------------------------------------------------------

    async def pipeline_status(self, ids: Sequence[str]) -> Listing[Pipeline]:
        """The current documents of these pipelines, in one request.

        ``complete`` is False when the answer carried no documents (the v1 shape): then the
        listing is empty and says nothing about whether the pipelines exist.
        """
        result = await self._status("pipeline", ids)
        return Listing(result.pipelines, skipped=result.skipped, complete=result.documents)

    async def get_pipeline(self, pipeline_id: str) -> Pipeline:
        """One pipeline's current document.

        NotFoundError only for an HTTP 404, or when the status answer carries documents and
        reports a failure for this very id. A status answer without documents (the v1 shape)
        is followed by a list read (``search`` for the id, then the exact id picked out).
        """
        target = clean_ids([pipeline_id], "pipeline")[0]
        result = await self._status("pipeline", [target])
        for pipeline in result.pipelines:
            if pipeline.id == target:
                return pipeline
        if result.documents:
            outcome = next((o for o in result.outcomes if o.target == target), None)
            if outcome is not None and not outcome.ok and not outcome.unknown:
                why = f": {outcome.message}" if outcome.message else ""
                raise NotFoundError(f"no pipeline {target}{why}", status_code=404)
        async with aclosing(self.pipeline_pages(search=target)) as pages:
            async for page in pages:
                for pipeline in page:
                    if pipeline.id == target:
                        return pipeline
        raise InvalidResponseError(
            f"{self.host} sent no document for pipeline {target}, and its list does not show it"
        )

    async def run_pipelines(self, ids: Sequence[str]) -> ActionResult:
        """Start a run of each pipeline (one request). Never retried."""
        return await self.action("run", "pipeline", ids)

    async def stop_pipelines(self, ids: Sequence[str]) -> ActionResult:
        """Stop each pipeline's run (one request). Never retried."""
        return await self.action("stop", "pipeline", ids)

    async def reset_pipelines(self, ids: Sequence[str]) -> ActionResult:
        """Reset each pipeline (one request). Never retried."""
        return await self.action("reset", "pipeline", ids)

    async def approve_pipelines(self, ids: Sequence[str]) -> ActionResult:
        """Approve the gate each pipeline waits at (one request). Never retried."""
        return await self.action("approve", "pipeline", ids)

    async def reject_pipelines(self, ids: Sequence[str], reason: str) -> ActionResult:
        """Reject the gate each pipeline waits at, with a required reason. Never retried."""
        return await self.action("reject", "pipeline", ids, message=reason)

    async def delete_pipelines(self, ids: Sequence[str]) -> ActionResult:
        """Delete each pipeline (one request). Never retried."""
        return await self.action("delete", "pipeline", ids)

    async def update_pipeline(
        self, pipeline_id: str, *, name: str | None = None, description: str | None = None
    ) -> ActionResult:
        """Change a pipeline's name and/or description. Never retried."""
        settings = edit_settings(name, description)
        return await self.action("update", "pipeline", pipeline_id, settings=settings)

    async def _create(self, document: dict[str, Any], action: str) -> Pipeline:
        what = "clone" if action == "clone" else "pipeline"
        mutation = Mutation(action, (), f"created the {what}")
        answer = await self._transport.send(
            "POST", "/api/v2/pipeline/create", body=document, mutation=mutation
        )
        try:
            body = decode_object(answer.content, self.host)
        except InvalidResponseError:
            raise mutation.unknown(self.host, "its answer could not be read") from None
        created = created_pipeline(body)
        if created is not None:
            return created
        status = body.get("status")
        if isinstance(status, str) and status.lower() == "failed":
            message = body.get("message")
            why = one_line(self._redact(message)) if isinstance(message, str) else ""
            raise ApiError(
                f"{self.host} did not create the {what}" + (f": {why}" if why else ""),
                status_code=answer.status_code,
            )
        raise mutation.unknown(self.host, "its answer held no readable pipeline")

    async def create_pipeline(self, document: dict[str, Any]) -> Pipeline:
        """Create a pipeline through ``POST /api/v2/pipeline/create``; the new document.

        ``document`` is ``{"name", "description", "active", "type", "workflow"}`` (steps as an
        array or a ``workflow.plan``). Never retried; an answer that cannot be read raises
        :class:`OutcomeUnknownError` (it may have been created).
        """
        if not isinstance(document, dict):
            raise RequestRefusedError("a new pipeline is a document (an object)")
        name = document.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RequestRefusedError("a new pipeline needs a name")
        return await self._create(document, "create")

    async def clone_pipeline(self, pipeline_id: str, new_name: str) -> Pipeline:
        """Clone a pipeline by the documented recipe: fetch, drop ids and dates, rename, create.

        Never retried; an answer that cannot be read raises :class:`OutcomeUnknownError`.
        """
        clone_name(new_name)
        source = await self.get_pipeline(pipeline_id)
        return await self._create(clone_document(source, new_name), "clone")

    # -- tasks ----------------------------------------------------------------------------

    async def task_status(self, ids: Sequence[str]) -> Listing[Task]:
        """The current documents of these tasks, in one request (as :meth:`pipeline_status`)."""
        result = await self._status("task", ids)
        return Listing(result.tasks, skipped=result.skipped, complete=result.documents)

    async def run_tasks(self, ids: Sequence[str]) -> ActionResult:
        """Start each task (one request). Never retried."""
        return await self.action("run", "task", ids)

    async def stop_tasks(self, ids: Sequence[str]) -> ActionResult:
        """Stop each task (one request). Never retried."""
        return await self.action("stop", "task", ids)

    async def create_task(self, settings: dict[str, Any]) -> ActionResult:
        """Create a task from ``settings`` (the ``create`` action). Never retried."""
        return await self.action("create", "task", settings=settings)

    async def update_task(
        self, task_id: str, *, name: str | None = None, description: str | None = None
    ) -> ActionResult:
        """Change a task's name and/or description. Never retried."""
        settings = edit_settings(name, description)
        return await self.action("update", "task", task_id, settings=settings)


def is_transient(error: OpseraError) -> bool:
    """True for failures that may pass by themselves (unreachable, timeouts, 429, 5xx).

    Never true of :class:`OutcomeUnknownError`: what may have been applied is not sent again.
    """
    return isinstance(
        error, ConnectionFailedError | RequestTimeoutError | RateLimitedError | ServerError
    )


def _tls(verify: bool | str) -> bool | ssl.SSLContext:
    """What httpx verifies with: off, the system's defaults, or a private CA bundle's context."""
    if isinstance(verify, str):
        try:
            return ssl.create_default_context(cafile=verify)
        except (OSError, ssl.SSLError) as exc:
            raise RequestRefusedError(f"cannot use the CA bundle {verify}: {exc}") from None
    return verify
