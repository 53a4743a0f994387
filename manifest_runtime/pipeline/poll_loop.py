"""`poll`'s cycles (pipeline/polling.py runs one): again at once while a cycle ends at a
per-cycle limit (`catch_up`), else every `every` seconds until stopped, or once. A cycle that
fails (an EvaluationError) is reported and the loop goes on to the next. No argparse, no
printing: each cycle's end goes to `on_cycle`, each wait to `on_wait`; the caller prints."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Diagnostic, EvaluationError

if TYPE_CHECKING:
    from .batch import Summary
    from .polling import CycleReport, Poller


@dataclass(frozen=True)
class LoopOptions:
    once: bool = False  # one cycle (or, with catch_up, until a cycle is not capped)
    every: int = 1800  # seconds between cycles
    catch_up: bool = False  # a capped cycle is followed by the next at once
    label: str = "poll"  # what a cycle is called ("historical import")


@dataclass(frozen=True)
class Cycle:
    """How one cycle ended: its report, or the error that stopped it; the results it read,
    delivered, failed and (dry run) transformed."""

    label: str
    report: CycleReport | None
    error: Diagnostic | None = None
    read: int = 0
    delivered: int = 0
    failed: int = 0
    transformed: int = 0


def run_cycles(poller: Poller, summary: Summary, options: LoopOptions, *,
               initialised: Callable[[], bool], should_stop: Callable[[], bool],
               on_cycle: Callable[[Cycle], None], on_wait: Callable[[int], None],
               transformed: Callable[[], int] = lambda: 0,
               clock: Callable[[], float] = time.monotonic,
               sleep: Callable[[float], None] = time.sleep) -> bool:
    """Run cycles (see the module's doc); True when one of them failed. `summary` is the one
    the poller's results are added to (a cycle's counts are its difference);
    `initialised`: has initial_setup run; `transformed`: records printed so far (dry run)."""
    failed = False
    while True:
        before = (summary.read, summary.delivered, summary.failed, transformed())
        try:
            report = poller.cycle(not initialised())
            error = None
        except EvaluationError as exc:
            report, error = None, exc.diagnostic
            failed = True
        on_cycle(Cycle(options.label, report, error, summary.read - before[0],
                       summary.delivered - before[1], summary.failed - before[2],
                       transformed() - before[3]))
        if options.catch_up and report is not None and report.capped and not should_stop():
            continue  # more is waiting: the next cycle now, not in `every` seconds
        if options.once or should_stop():
            return failed
        on_wait(options.every)
        deadline = clock() + options.every
        while not should_stop() and clock() < deadline:
            sleep(min(0.5, max(0.0, deadline - clock())))
        if should_stop():  # stopped while waiting: no new cycle
            return failed
