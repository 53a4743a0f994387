"""Progress of a long command (run, poll, serve) on stderr.

On a terminal: a rich bar with the total (when known), percentage, rate and ETA, plus the
delivered/failed counts. Not on a terminal (CI, a log file): one plain line every
`interval` seconds, and none at all for a run shorter than that. `quiet`: nothing.

The total is counted (the input file's lines, cheap: bytes.count over 1 MiB chunks) or, for
a file over COUNT_LIMIT bytes, estimated from its size and the average length of its first
lines; stdin has no total.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

COUNT_LIMIT = 256 * 1024 * 1024  # count lines below this size, estimate above
SAMPLE = 1024 * 1024


@dataclass(frozen=True)
class Total:
    records: int | None  # None: unknown
    estimated: bool = False


def count_records(path: str | None) -> Total:
    """Lines of a JSON Lines file (estimated for a huge one; blank lines count, so the bar
    may end short of 100%); unknown for stdin or an unreadable file (the command reports
    that itself)."""
    if path is None or path == "-":
        return Total(None)
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if size <= COUNT_LIMIT:
                lines = 0
                last = b"\n"
                while chunk := f.read(SAMPLE):
                    lines += chunk.count(b"\n")
                    last = chunk[-1:]
                return Total(lines + (0 if last == b"\n" else 1))
            sample = f.read(SAMPLE)
    except OSError:
        return Total(None)
    per_line = len(sample) / max(1, sample.count(b"\n"))
    return Total(round(size / per_line), estimated=True)


@dataclass
class Counts:
    done: int = 0  # records read (delivered, failed or skipped)
    delivered: int = 0
    failed: int = 0
    skipped: int = 0


class Progress:
    """Call `update(counts)` as records end (any thread); `close()` at the end."""

    def __init__(self, *, total: Total, unit: str = "records", quiet: bool = False,
                 stream: TextIO | None = None, terminal: bool | None = None,
                 interval: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self._last_log = self.started
        self._lock = threading.Lock()
        self._counts = Counts()
        on_terminal = self.stream.isatty() if terminal is None else terminal
        self.mode = "off" if quiet else "bar" if on_terminal else "log"
        self._bar: Any = None
        if self.mode == "bar":
            self._start_bar()

    def _start_bar(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        known = self.total.records is not None
        columns: list[Any] = [TextColumn("{task.description}")]
        if known:
            columns += [BarColumn(bar_width=16), MofNCompleteColumn(), TaskProgressColumn()]
        else:
            columns += [SpinnerColumn(), TextColumn("{task.completed}"), TimeElapsedColumn()]
        columns += [TextColumn("{task.fields[rate]}")]
        if known:
            columns += [TextColumn("ETA"), TimeRemainingColumn()]
        columns += [TextColumn("{task.fields[counts]}")]
        self._bar = Progress(*columns, console=Console(file=self.stream, force_terminal=True),
                             transient=True)
        self._task = self._bar.add_task(self.unit, total=self.total.records, rate="",
                                        counts="")
        self._bar.start()

    def update(self, counts: Counts) -> None:
        mode = self.mode
        if mode == "off" or (mode == "log" and self.clock() - self._last_log < self.interval):
            self._counts = counts  # the latest, for line(); nothing to show (once per record)
            return
        with self._lock:
            self._counts = Counts(counts.done, counts.delivered, counts.failed, counts.skipped)
            if self.mode == "bar":
                total = self.total.records
                if total is not None and counts.done > total:  # an estimate fell short
                    self.total = Total(None)
                    self._bar.update(self._task, total=None)
                self._bar.update(self._task, completed=counts.done, rate=self._rate(),
                                 counts=f"ok {counts.delivered} failed {counts.failed}")
            elif self.mode == "log":
                now = self.clock()
                if now - self._last_log >= self.interval:
                    self._last_log = now
                    print(self.line(), file=self.stream, flush=True)

    def _rate(self) -> str:
        elapsed = self.clock() - self.started
        return f"{self._counts.done / elapsed:,.0f}/s" if elapsed > 0 else ""

    def line(self) -> str:
        """The log line: done/total (percent), rate, ETA, delivered, failed."""
        c = self._counts
        elapsed = max(self.clock() - self.started, 1e-9)
        rate = c.done / elapsed
        total = self.total.records
        parts = [f"progress: {c.done:,}"]
        if total:
            about = "~" if self.total.estimated else ""
            parts[0] += f"/{about}{total:,} {self.unit} ({min(100.0, 100 * c.done / total):.0f}%)"
        else:
            parts[0] += f" {self.unit}"
        parts.append(f"{rate:,.0f}/s")
        if total and rate > 0 and total > c.done:
            parts.append(f"ETA {_clock((total - c.done) / rate)}")
        parts.append(f"elapsed {_clock(elapsed)}")
        parts.append(f"delivered {c.delivered:,}, failed {c.failed:,}")
        if c.skipped:
            parts.append(f"skipped {c.skipped:,}")
        return ", ".join(parts)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
