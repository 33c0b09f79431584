"""AuditScreen: what was done, newest first, read back from the audit log, live as the app acts.

Each line of the log is one action, from the app or the command line: when (UTC), what, to
which targets, with what outcome and reason. The screen reads the file in a thread worker, and
only its last :data:`TAIL_LINES` lines (:meth:`opstui.audit.AuditLog.tail`), so a log of years never stalls the app; after each
action the app completes (its ``action_done`` signal, published once the line is written), it
reads again. Every field is untrusted text (a pipeline's name, the server's message): shown as
plain text, never as markup. A field an older (or newer) line lacks is shown as a dash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from opstui.audit import AuditError, AuditLog
from opstui.tui.actions import Performed
from opstui.tui.format import safe_text
from opstui.tui.keymap import Bound
from opstui.tui.screens._explain import ExplainingScreen
from opstui.tui.screens._hosting import (
    status_bar,
    subscribe_action_done,
    unsubscribe_action_done,
)
from opstui.tui.screens._keys import APP_HELP, HelpSection
from opstui.tui.widgets.footer import KeysFooter
from opstui.tui.widgets.status_bar import Tenant, tenant_text

__all__ = ["AUDIT_COLUMNS", "TAIL_LINES", "AuditScreen", "audit_row", "outcome_text"]

TAIL_LINES = 1000
"""How many of the log's last lines the screen reads (a long log is not read whole)."""

AUDIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("time", "time (UTC)"),
    ("action", "action"),
    ("targets", "targets"),
    ("outcome", "outcome"),
    ("reason", "reason"),
    ("where", "from"),
)
"""Column keys and labels, in order."""


def _field(entry: Mapping[str, Any], key: str, limit: int = 200) -> str:
    value = entry.get(key)
    return "" if value is None else safe_text(value, limit)


def _targets(entry: Mapping[str, Any]) -> str:
    targets = entry.get("targets")
    if not isinstance(targets, list):
        return ""
    names = [
        safe_text(target.get("name") or target.get("id") or "?", 60)
        if isinstance(target, dict)
        else safe_text(target, 60)
        for target in targets
    ]
    shown = ", ".join(names[:3])
    return shown + (f" +{len(names) - 3}" if len(names) > 3 else "")


def outcome_text(entry: Mapping[str, Any]) -> Text:
    """``ok``, ``2 ok · 1 failed``, ``unknown``, or the error, styled as words first."""
    outcomes = entry.get("outcomes")
    outcomes = [o for o in outcomes if isinstance(o, dict)] if isinstance(outcomes, list) else []
    error = entry.get("error")
    tally: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.get("ok"):
            word = "ok"
        elif outcome.get("status") == "unknown":
            word = "unknown"
        else:
            word = "failed"
        tally[word] = tally.get(word, 0) + 1
    if not tally:
        if error:
            words = safe_text(error, 120)
            unknown = str(error).startswith("outcome unknown")
            return Text(words, style="bold" if unknown else "bold red")
        return Text("-", style="dim")
    if list(tally) == ["ok"]:
        return Text("ok" if tally["ok"] == 1 else f"{tally['ok']} ok", style="green")
    parts = [f"{tally[word]} {word}" for word in ("ok", "failed", "unknown") if word in tally]
    if len(outcomes) == 1:
        parts = [next(iter(tally))]
        message = outcomes[0].get("message")
        if message:
            parts.append(safe_text(message, 80))
    return Text(" · ".join(parts), style="bold" if "failed" not in tally else "bold red")


def audit_row(entry: Mapping[str, Any]) -> list[Text]:
    """One entry's cells, in :data:`AUDIT_COLUMNS` order (every field as plain text)."""
    time = _field(entry, "time", 40).replace("T", " ").removesuffix("+00:00")
    action = _field(entry, "action", 40)
    kind = _field(entry, "type", 20)
    if kind and kind != "pipeline":
        action = f"{action} ({kind})"
    where = " · ".join(
        part
        for part in (
            _field(entry, "source", 10),
            _field(entry, "profile", 40) or _field(entry, "server", 40),
            _field(entry, "user", 40),
        )
        if part
    )
    cells = [
        Text(time or "-"),
        Text(action or "-", style="bold"),
        Text(_targets(entry) or "-"),
        outcome_text(entry),
        Text(_field(entry, "reason", 200) or "-", style="" if entry.get("reason") else "dim"),
        Text(where or "-", style="dim"),
    ]
    for cell in cells:
        cell.no_wrap = True
        cell.overflow = "ellipsis"
    return cells


class AuditScreen(ExplainingScreen):
    """The audit log, newest first; escape (or the audit key again) goes back."""

    DEFAULT_CSS = """
    AuditScreen {
        layout: vertical;
    }
    AuditScreen #audit-heading {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-style: bold;
    }
    AuditScreen #audit-table {
        height: 1fr;
    }
    AuditScreen #audit-empty {
        display: none;
        padding: 1 2;
        color: $text-muted;
    }
    AuditScreen #audit-status {
        height: 1;
        padding: 0 1;
        color: $text-muted;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        Binding("ctrl+r", "refresh_now", "Read again", id="refresh", show=False),
    ]

    KEY_HELP: ClassVar[list[HelpSection]] = [
        (
            "The audit log (newest first)",
            [
                ("up/down, pgup/pgdn", "Move"),
                (Bound(("back", "audit")), "Back"),
                (Bound(("refresh",)), "Read the log again"),
            ],
        ),
        APP_HELP,
    ]
    """The key reference the app's help (``?``) shows on this screen."""

    def __init__(self, path: Path, *, tenant: Tenant | None = None) -> None:
        super().__init__()
        self.path = path
        """The audit log's file."""
        self.tenant = tenant
        self.entries: list[dict[str, Any]] = []
        """The entries shown, newest first."""

    def compose(self) -> ComposeResult:
        heading = Text("Audit log · newest first")
        if self.tenant is not None:
            heading = Text.assemble(tenant_text(self.tenant, server_style=""), " · ", heading)
        yield Static(heading, id="audit-heading", markup=False)
        table: DataTable[Text] = DataTable(id="audit-table", cursor_type="row")
        for key, label in AUDIT_COLUMNS:
            table.add_column(Text(label, style="bold"), key=key)
        yield table
        yield Static(id="audit-empty", markup=False)
        yield Static(id="audit-status", markup=False)
        yield KeysFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self._render_status("reading…")
        subscribe_action_done(self, self._action_done)
        self.reload()

    def on_unmount(self) -> None:
        unsubscribe_action_done(self)

    def _action_done(self, done: Performed) -> None:
        self.reload()  # its line was written before the signal: read it

    def reload(self) -> None:
        """Read the log again (in a thread: the file may be large or slow)."""
        self._read()

    @work(thread=True, exclusive=True, group="audit-read")
    def _read(self) -> None:
        try:
            entries = AuditLog(self.path).tail(TAIL_LINES)
        except AuditError as error:
            self.app.call_from_thread(self._failed, error)
            return
        self.app.call_from_thread(self._show, entries)

    def _failed(self, error: AuditError) -> None:
        if self.on_stack:
            self._render_status(safe_text(error, 300))

    def _show(self, entries: Sequence[dict[str, Any]]) -> None:
        if not self.on_stack:
            return
        self.entries = list(reversed(entries))
        table = self.query_one(DataTable)
        table.clear()
        for entry in self.entries:
            table.add_row(*audit_row(entry))
        empty = self.query_one("#audit-empty", Static)
        empty.display = not self.entries
        if not self.entries:
            empty.update(f"Nothing recorded yet in {safe_text(self.path, 200)}.")
        count = len(self.entries)
        shown = f"last {count}" if count >= TAIL_LINES else f"{count}"
        noun = "entry" if count == 1 else "entries"
        self._render_status(f"{shown} {noun} · {safe_text(self.path, 200)}")

    def _render_status(self, left: str) -> None:
        self.query_one("#audit-status", Static).update(status_bar(Text(left), "esc back"))

    def action_refresh_now(self) -> None:
        """Read the log again."""
        self.reload()

    def action_back(self) -> None:
        """Back to where the log was opened from."""
        if self.app.screen is not self:
            return
        self.workers.cancel_node(self)
        self.app.pop_screen()
