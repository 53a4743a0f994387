"""Stopping long commands (run, poll, serve) cleanly: the first SIGINT/SIGTERM asks them to
stop (the work in hand finishes and is recorded); a second Ctrl-C is more insistent."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any


class StopOnSignal:
    """While active (main thread only), the first SIGINT/SIGTERM prints `message`, calls
    `first(signum)` and is kept in `.signal`; a later SIGINT calls `again(signum)`, by default
    raising KeyboardInterrupt (abort at once). The previous handlers come back on exit."""

    def __init__(self, message: str, first: Callable[[int], None] | None = None,
                 again: Callable[[int], None] | None = None) -> None:
        self.message = message
        self.first = first
        self.again = again
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signal is None:
            self.signal = signum
            print(self.message, file=sys.stderr, flush=True)
            if self.first is not None:
                self.first(signum)
        elif signum == signal.SIGINT:
            if self.again is None:
                raise KeyboardInterrupt
            self.again(signum)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
