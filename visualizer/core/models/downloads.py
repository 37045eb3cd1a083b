"""A quick reachability probe before any download, so an offline machine fails in
seconds instead of sitting through a library's retries and timeouts."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

PROBE_TIMEOUT_S = 3.0


def unreachable_reason(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when the URL's host accepts a connection, else a short reason."""
    parts = urlparse(url)
    host = parts.hostname
    if not host:
        return f"not a download address: {url}"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host} cannot be reached ({exc.strerror or exc})"
