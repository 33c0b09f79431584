"""The pipeline action keys' methods, once for every screen that binds them.

Textual runs a key's action as the screen's ``action_<name>`` method. The eight of
:data:`~opstui.tui.screens._keys.ACTION_BINDINGS` do the same on each screen that acts on
pipelines: hand their screen action (a key of :data:`~opstui.tui.screens._keys.ACTION_KEYS`) to
the screen's ``perform``. The screens differ only in what they act on, so ``perform`` is theirs:
the pipelines screen acts on the marked pipelines (else the highlighted one), the details screen
on its one pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["PipelineActions"]


class PipelineActions:
    """A mixin of the eight pipeline action keys, each handed to the screen's ``perform``.

    List it before the screen's base class (``class S(PipelineActions, ActingScreen)``): its
    methods then come first, and it defines no ``perform`` at run time that could hide the base's.
    """

    if TYPE_CHECKING:

        def perform(self, action: str) -> None:
            """Act with the screen action ``action`` (a key of ``ACTION_KEYS``), or say why not."""

    def action_run(self) -> None:
        """Run the pipelines the screen acts on."""
        self.perform("run")

    def action_stop(self) -> None:
        """Stop their runs."""
        self.perform("stop")

    def action_reset(self) -> None:
        """Reset them."""
        self.perform("reset")

    def action_approve(self) -> None:
        """Approve the gate they wait at."""
        self.perform("approve")

    def action_reject(self) -> None:
        """Reject the gate they wait at (the app asks for a reason)."""
        self.perform("reject")

    def action_edit(self) -> None:
        """Edit the pipeline's name and description (the ``update`` action)."""
        self.perform("edit")

    def action_clone(self) -> None:
        """Clone the pipeline under a new name."""
        self.perform("clone")

    def action_delete(self) -> None:
        """Delete them (the name must be typed)."""
        self.perform("delete")
