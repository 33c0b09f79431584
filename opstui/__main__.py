"""``python -m opstui``: the same entry point as the ``opstui`` command."""

from opstui.cli import main

raise SystemExit(main())
