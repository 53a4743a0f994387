"""What run and poll show while and after they work, from their options (--format, --quiet,
--show-failures): a `Tracker` (progress on stderr and the first failures, fed as records
end, from any thread) and the end of the report (the failures on screen, or the JSON
summary)."""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from .failures import DEFAULT_SHOWN, DeadLetterLike, Failures
from .output import print_json, wants_json
from .progress import Counts, Progress, Total


class Tracker:
    """Progress and failures of one run or poll."""

    def __init__(self, args: argparse.Namespace, total: Total, unit: str = "records",
                 terminal: bool | None = None) -> None:
        self.failures = Failures(getattr(args, "show_failures", DEFAULT_SHOWN))
        quiet = bool(getattr(args, "quiet", False) or getattr(args, "trace", False))
        every = getattr(args, "progress_every", 10)
        self.progress = Progress(total=total, unit=unit, quiet=quiet or every == 0,
                                 terminal=terminal, interval=float(every or 10))
        self.counts = Counts()
        self._lock = threading.Lock()

    def record(self, dead: Iterable[DeadLetterLike], delivered: bool, skipped: bool = False
               ) -> None:
        """One record ended: delivered, failed (its dead letters) or skipped."""
        failed = False
        if dead:
            dead = list(dead)
            self.failures.add(dead)
            failed = bool(dead)
        with self._lock:  # counted in place: this runs once per record
            c = self.counts
            c.done += 1
            if delivered:
                c.delivered += 1
            if failed:
                c.failed += 1
            if skipped:
                c.skipped += 1
            self.progress.update(c)

    def record_ended(self, done: int, delivered: int) -> None:
        """`done` records ended without a failure, `delivered` of them delivered: counted at
        once (poll hands over a page's at a time)."""
        with self._lock:
            c = self.counts
            c.done += done
            c.delivered += delivered
            self.progress.update(c)

    def close(self) -> None:
        self.progress.close()


def print_failures(args: argparse.Namespace, failures: Failures, state_path: str,
                   where: str = "line") -> None:
    """Text mode: the first failures by error code (the caller says where all of them are:
    the state file's dead_letters table, `manifest-runtime state show`)."""
    if wants_json(args) or not failures.total:
        return
    sys.stdout.write(failures.render(where))


def print_summary_json(command: str, workflow: str, counts: Mapping[str, Any],
                       failures: Failures, state_path: str, exit_code: int,
                       **extra: Any) -> None:
    """--format json: the whole summary as one object on stdout."""
    print_json({"ok": exit_code == 0, "command": command, "workflow": workflow, **counts,
                **extra, "state": state_path, "failures": failures.as_json(),
                "exit_code": exit_code})
