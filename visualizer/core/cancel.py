"""Cooperative cancellation: long operations check a token between steps and return
what they have so far, marked as cancelled."""

from __future__ import annotations

import threading


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


def is_cancelled(token: CancelToken | None) -> bool:
    return token is not None and token.cancelled
