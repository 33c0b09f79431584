"""The modal dialogs of opstui: confirm, reject, delete, edit, clone, quit and help.

They take plain data (`Target`, strings) and never import `opstui.api`; the app adapts.
"""

from opstui.tui.dialogs._base import Target, safe_text
from opstui.tui.dialogs.clone import CloneDialog
from opstui.tui.dialogs.confirm import ConfirmDialog
from opstui.tui.dialogs.delete import DeleteDialog
from opstui.tui.dialogs.edit import EditPipelineDialog, PipelineEdit
from opstui.tui.dialogs.help import HelpScreen
from opstui.tui.dialogs.quit import QuitDialog
from opstui.tui.dialogs.reject import RejectDialog

__all__ = [
    "CloneDialog",
    "ConfirmDialog",
    "DeleteDialog",
    "EditPipelineDialog",
    "HelpScreen",
    "PipelineEdit",
    "QuitDialog",
    "RejectDialog",
    "Target",
    "safe_text",
]
