"""GatePreview: the highlighted gate in full, under the inbox, so nobody approves the wrong thing.

::

    user-profile-nightly · run #24 · at Approve production deploy
    Asks: Approve release of user-profile to staging?
    Approvers: ada@example.com, katherine@example.com · Owner: Katherine Johnson

The table's cells are cut to fit a narrow terminal; this says everything the gate's configuration
says, wrapped. Server text goes through :func:`~opstui.tui.format.safe_text` into a
``rich.text.Text`` (never markup).
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import RenderableType
from rich.style import StyleType
from rich.text import Text
from textual.widget import Widget

from opstui.api import Pipeline
from opstui.tui.format import safe_text
from opstui.tui.widgets.approvals_table import gate_approvers, gate_message

__all__ = ["GatePreview", "preview_text"]

_LIMIT = 500
"""The most characters of any one server value shown."""


def preview_text(pipeline: Pipeline, *, label: StyleType = "", strong: StyleType = "bold") -> Text:
    """What the preview says about ``pipeline``: name, run and gate; message; approvers, owner."""
    gate = pipeline.gate
    text = Text()
    text.append(safe_text(pipeline.name or pipeline.id, _LIMIT), style=strong)
    if pipeline.run_count:
        text.append(f" · run #{pipeline.run_count}")
    if gate is not None and gate.name:
        text.append(" · at ")
        text.append(safe_text(gate.name, _LIMIT), style=strong)
    message = gate_message(gate)
    if message:
        text.append("\n")
        text.append("Asks: ", style=label)
        text.append(safe_text(message, _LIMIT))
    details: list[tuple[str, str]] = []
    approvers = gate_approvers(gate)
    if approvers:
        details.append(("Approvers: ", approvers))
    owner = pipeline.owner_name or pipeline.owner
    if owner:
        details.append(("Owner: ", owner))
    for index, (name, value) in enumerate(details):
        text.append("\n" if index == 0 else " · ")
        text.append(name, style=label)
        text.append(safe_text(value, _LIMIT))
    return text


class GatePreview(Widget):
    """The highlighted gate, in full and wrapped (hidden when nothing is highlighted)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"gate-preview--label", "gate-preview--strong"}

    DEFAULT_CSS = """
    GatePreview {
        height: auto;
        max-height: 7;
        width: 1fr;
        padding: 0 1;
        border-top: solid $panel-lighten-2;
        & > .gate-preview--label {
            color: $text-muted;
        }
        & > .gate-preview--strong {
            text-style: bold;
        }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.pipeline: Pipeline | None = None

    def show(self, pipeline: Pipeline | None) -> None:
        """Preview ``pipeline`` (None hides the preview)."""
        self.display = pipeline is not None
        if pipeline is not self.pipeline:
            self.pipeline = pipeline
            self.refresh(layout=True)

    def render(self) -> RenderableType:
        if self.pipeline is None:
            return Text()
        return preview_text(
            self.pipeline,
            label=self.get_component_rich_style("gate-preview--label"),
            strong=self.get_component_rich_style("gate-preview--strong"),
        )
