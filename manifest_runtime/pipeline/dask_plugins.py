"""Worker plugins of `run --workers/--scheduler` (pipeline/distributed.py), in a module of
their own: defining one needs distributed imported, which the other commands never pay for."""

from __future__ import annotations

import contextlib
import signal
from typing import Any

from distributed import WorkerPlugin


class IgnoreInterrupt(WorkerPlugin):
    """Ctrl-C in a terminal reaches the whole process group: the local workers too. The
    command stops the run itself (it finishes the records in flight), so a worker ignores
    SIGINT rather than die with records in flight. Applied again to a restarted worker."""

    name = "manifest-runtime-ignore-interrupt"

    def setup(self, worker: Any) -> None:
        with contextlib.suppress(ValueError):  # not the main thread: nothing to do
            signal.signal(signal.SIGINT, signal.SIG_IGN)
