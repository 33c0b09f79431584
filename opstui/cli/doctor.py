"""``opstui doctor``: checks, one line each, what stands between opstui and a working server.

The config file, the token source, TLS, reachability, authentication, the token's scope (a
list of one pipeline, one ``status`` request, and one probe that cannot change anything: a
``stop`` aimed at a pipeline id that cannot exist, :mod:`opstui.cli.scope`), and which
response shapes the server uses (the list envelope, paging, documents in ``status`` answers),
so a mismatch is named, not guessed. The raw answers are read from a trace of doctor's own
requests (the token redacted), never from a second, untraced way to the server.

Exit codes as the rest of the command line: 0 healthy (warnings allowed), 2 configuration,
3 authentication or scope, 4 unreachable or an answer opstui cannot read.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from opstui.api import (
    AuthenticationError,
    InvalidResponseError,
    OpseraClient,
    OpseraError,
    PermissionDeniedError,
    Pipeline,
    RequestRefusedError,
    RetryPolicy,
    TransportError,
)
from opstui.audit import public_url
from opstui.cli.errors import NO_SERVER_HINT
from opstui.cli.output import EXIT_AUTH, EXIT_OK, EXIT_SERVER, EXIT_USAGE, Output, clean
from opstui.cli.scope import Result, claimed_scopes, probe_actions, scope_verdict
from opstui.cli.settings import settings_from
from opstui.cli.shapes import ListAnswer, list_answers, read_trace
from opstui.config import ConfigError, Settings, is_loopback_url
from opstui.connect import open_client

__all__ = ["Check", "doctor_cmd"]

LIST_PATH = "/api/v2/pipelines"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    result: Result
    detail: str
    hint: str = ""


class _Stop(Exception):
    """A check failed: the ones after it cannot be made; ``code`` is the exit code."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(code)


Report = Callable[[Check], None]


def _config(args: argparse.Namespace, report: Report) -> Settings:
    try:
        settings = settings_from(args, read_token=False)
    except ConfigError as exc:
        report(Check("config", "failed", clean(str(exc), 400), "fix it; `opstui config path`"))
        raise _Stop(EXIT_USAGE) from None
    where = str(settings.config_file) if settings.config_file else "none (environment and flags)"
    profile = f"; profile {settings.profile}" if settings.profile else ""
    report(Check("config", "ok", clean(where + profile, 300)))
    if not settings.base_url:
        report(Check("server", "failed", "no server configured", NO_SERVER_HINT))
        raise _Stop(EXIT_USAGE)
    report(
        Check(
            "server",
            "ok",
            f"{clean(public_url(settings.base_url), 200)} ({settings.origins.get('base_url', '')})",
        )
    )
    try:
        settings = settings_from(args)
    except ConfigError as exc:
        report(Check("token", "failed", clean(str(exc), 400), "the token source must give one"))
        raise _Stop(EXIT_USAGE) from None
    source = settings.token_source
    described = source.describe() if source is not None else "OPSTUI_TOKEN"
    if settings.token is None:
        hint = source.hint() if source is not None else "set OPSTUI_TOKEN"
        report(Check("token", "failed", f"no token from {described}", hint))
        raise _Stop(EXIT_USAGE)
    report(Check("token", "ok", f"read from {described} (not shown)"))
    return settings


def _tls(settings: Settings, report: Report) -> None:
    url = settings.base_url or ""
    if url.startswith("http://"):
        if is_loopback_url(url):
            report(
                Check(
                    "tls", "ok", "plain http to this machine (loopback): nothing crosses a network"
                )
            )
        else:
            report(
                Check(
                    "tls",
                    "warn",
                    "plain http to another machine: the token crosses the network unencrypted",
                    "use https (allow_insecure_http = true allows this)",
                )
            )
    elif not settings.verify_tls:
        report(
            Check(
                "tls",
                "warn",
                "https, but the certificate is not verified (verify_tls = false): anyone on the "
                "path could read the token",
                "set ca_bundle to the private CA's bundle instead",
            )
        )
    elif settings.ca_bundle is not None:
        report(
            Check(
                "tls",
                "ok",
                f"https, verified with the private CA {clean(str(settings.ca_bundle), 200)}",
            )
        )
    else:
        report(Check("tls", "ok", "https, the certificate verified"))


async def _scope(settings: Settings, client: OpseraClient, report: Report, status_ok: bool) -> None:
    """Whether the token may act: what it claims (a JWT's scope), and the probe's answer."""
    assert settings.token is not None
    scopes = claimed_scopes(settings.token)
    reads = "reads allowed (a list and a status)" if status_ok else "a list is allowed"
    if settings.read_only:
        why = settings.origins.get("read_only", "read_only")
        claimed = f" (scope {clean(' '.join(scopes), 120)})" if scopes else ""
        report(
            Check(
                "scope",
                "ok",
                f"{reads}{claimed}; read-only ({why}): opstui sends no action, so doctor did not "
                "ask whether the token may act",
            )
        )
        return
    result, detail, hint = scope_verdict(await probe_actions(client), scopes)
    report(Check("scope", result, f"{reads}; {detail}", hint))


def _shapes(answers: list[ListAnswer], page_two: bool, report: Report) -> None:
    if not answers:
        return
    first = answers[0]
    known = {"data": "{data: [...]}", "pipelines": "{pipelines: [...]}", "array": "a bare array"}
    if first.envelope in known:
        count = f", count {first.count}" if first.count is not None else ", no count"
        report(Check("list shape", "ok", f"{known[first.envelope]}{count}"))
    else:
        report(
            Check(
                "list shape",
                "warn",
                f"unexpected: {clean(first.envelope, 200)}",
                "attach a --trace to a bug report",
            )
        )
    if first.records is not None and first.records > 1:
        report(
            Check(
                "paging",
                "warn",
                f"pageSize ignored: asked for 1, got {first.records}",
                "lists still work; each page is as large as the server likes",
            )
        )
        return
    if not page_two or len(answers) < 2:
        total = first.count if first.count is not None else first.records
        report(Check("paging", "ok", f"not tested: {total or 0} pipeline(s), one page holds all"))
        return
    second = answers[1]
    if second.ids and second.ids == first.ids:
        report(
            Check(
                "paging",
                "warn",
                "ignored: page 2 is page 1 again",
                "opstui stops rather than loop: a list may show only its first page",
            )
        )
    else:
        report(Check("paging", "ok", "honoured (pageSize=1: page 2 differs from page 1)"))


async def _network(settings: Settings, trace: Path, offset: int, report: Report) -> int:
    host = clean(settings.server_label, 80)
    traced = settings.with_overrides(trace=trace)
    try:
        client = open_client(traced, retry=RetryPolicy(attempts=1))
    except RequestRefusedError as exc:
        report(Check("trace", "failed", clean(exc.message, 300)))
        return EXIT_USAGE
    first: list[Pipeline] = []
    page_two = False
    async with client:
        pages = client.pipeline_pages(page_size=1)
        try:
            try:
                first = list(await anext(pages))
            except StopAsyncIteration:
                first = []
            else:
                try:
                    await anext(pages)
                    page_two = True
                except StopAsyncIteration:
                    pass
                except OpseraError as exc:
                    report(Check("paging", "warn", f"page 2 failed: {clean(exc.message, 300)}"))
        except TransportError as exc:
            report(
                Check(
                    "reach",
                    "failed",
                    clean(exc.message, 300),
                    "check the base URL, the network and any proxy",
                )
            )
            return EXIT_SERVER
        except AuthenticationError as exc:
            report(Check("reach", "ok", f"{host} answered"))
            source = settings.token_source.describe() if settings.token_source else "the token"
            report(
                Check(
                    "auth",
                    "failed",
                    f"401: {clean(exc.message, 300)}",
                    f"check {source}: wrong or expired",
                )
            )
            return EXIT_AUTH
        except PermissionDeniedError as exc:
            report(Check("reach", "ok", f"{host} answered"))
            report(Check("auth", "ok", "the token is accepted"))
            report(
                Check(
                    "scope",
                    "failed",
                    f"may not list pipelines (403): {clean(exc.message, 300)}",
                    "the token needs a pipeline read scope",
                )
            )
            return EXIT_AUTH
        except InvalidResponseError as exc:
            report(Check("reach", "ok", f"{host} answered"))
            answers = list_answers(read_trace(trace, offset), LIST_PATH)
            seen = f" (it sent {clean(answers[0].envelope, 120)})" if answers else ""
            report(
                Check(
                    "list shape",
                    "failed",
                    f"{clean(exc.message, 300)}{seen}",
                    "attach a --trace to a bug report",
                )
            )
            return EXIT_SERVER
        except OpseraError as exc:
            report(
                Check(
                    "reach",
                    "failed",
                    f"{exc.title.lower()}: {clean(exc.message, 300)}",
                    "is the base URL the API's?",
                )
            )
            return EXIT_SERVER
        finally:
            await pages.aclose()
        report(Check("reach", "ok", f"{host} answered"))
        report(Check("auth", "ok", "the token is accepted"))
        status_ok = False
        if first:
            try:
                await client.pipeline_status([first[0].id])
                status_ok = True
            except PermissionDeniedError as exc:
                report(
                    Check(
                        "scope",
                        "failed",
                        f"may not ask a pipeline's status (403): {clean(exc.message, 300)}",
                    )
                )
                return EXIT_AUTH
            except OpseraError as exc:
                report(Check("status", "failed", f"{exc.title.lower()}: {clean(exc.message, 300)}"))
                return EXIT_SERVER
        await _scope(settings, client, report, status_ok)
        _shapes(list_answers(read_trace(trace, offset), LIST_PATH), page_two, report)
        if not first:
            report(Check("status shape", "warn", "not tested: no pipeline to ask about"))
        elif client.status_documents:
            report(Check("status shape", "ok", "status answers carry documents (v2)"))
        else:
            report(
                Check(
                    "status shape",
                    "warn",
                    "status answers carry no documents (the v1 shape)",
                    "actions are still checked; a pipeline missing from one is never taken as gone",
                )
            )
    return EXIT_OK


async def _diagnose(args: argparse.Namespace, report: Report) -> int:
    try:
        settings = _config(args, report)
    except _Stop as stop:
        return stop.code
    _tls(settings, report)
    if settings.trace is not None:  # the user's own trace: doctor reads what it adds
        trace = settings.trace
        offset = trace.stat().st_size if trace.exists() else 0
        return await _network(settings, trace, offset, report)
    with tempfile.TemporaryDirectory(prefix="opstui-doctor-") as folder:
        return await _network(settings, Path(folder) / "trace.jsonl", 0, report)


def doctor_cmd(args: argparse.Namespace, out: Output) -> int:
    """Run the checks, print one line each (or JSON lines), and return the exit code."""
    checks: list[Check] = []

    def report(check: Check) -> None:
        checks.append(check)
        if args.json:
            out.json(asdict(check))
            return
        hint = f"  ({check.hint})" if check.hint else ""
        out.line(f"{check.result:<6}  {check.name:<12}  {check.detail}{hint}")

    code = asyncio.run(_diagnose(args, report))
    failed = [c for c in checks if c.result == "failed"]
    if failed:
        out.error(f"doctor: {failed[0].name} failed: {failed[0].detail}")
    return code
