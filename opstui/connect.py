"""The one way from settings to a client, shared by the app and the command line.

So that both send the token to the same server, verify TLS the same way (``verify_tls``,
``ca_bundle``) and trace the same way (``--trace FILE``). Knows nothing of Textual.
"""

from __future__ import annotations

from opstui.api import OpseraClient, RetryPolicy
from opstui.config import Settings

__all__ = ["open_client"]


def open_client(settings: Settings, *, retry: RetryPolicy | None = None) -> OpseraClient:
    """A client for the configured server (ConfigError when the server or token is missing).

    The token goes straight from the settings into the client: it is never held in a local
    variable here, where a crash report could find it in a frame.
    """
    return OpseraClient(
        *settings.require_server(),
        timeout=settings.timeout,
        retry=retry,
        verify=settings.verify,
        trace=settings.trace,
    )
