"""poll's cycles as a library (pipeline/poll_loop.py): once, catch-up while capped, waits
between cycles on a clock, a failed cycle reported and the loop going on, a stop while
waiting starting no new cycle."""

from __future__ import annotations

from typing import Any

from manifest_runtime.errors import Diagnostic, EvaluationError
from manifest_runtime.pipeline.batch import Summary
from manifest_runtime.pipeline.poll_loop import Cycle, LoopOptions, run_cycles
from manifest_runtime.pipeline.polling import MAX_REQUESTS, CycleReport

CAPPED = CycleReport(MAX_REQUESTS, 500, f"{MAX_REQUESTS} requests this cycle")
DONE = CycleReport(1, 2, "iterate is false")


class FakePoller:
    """Cycles from a script: a CycleReport (its results counted as read and delivered) or
    an EvaluationError."""

    def __init__(self, summary: Summary, script: list[Any]) -> None:
        self.summary = summary
        self.script = script
        self.firsts: list[bool] = []

    def cycle(self, first: bool) -> CycleReport:
        self.firsts.append(first)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        self.summary.read += step.results
        self.summary.delivered += step.results
        return step  # type: ignore[no-any-return]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def loop(script: list[Any], options: LoopOptions, stop_after_waits: int | None = None
         ) -> tuple[bool, list[Cycle], list[int], FakePoller, Clock]:
    summary = Summary()
    poller = FakePoller(summary, script)
    cycles: list[Cycle] = []
    waits: list[int] = []
    clock = Clock()
    done = {"init": False}

    def initialised() -> bool:
        was = done["init"]
        done["init"] = True
        return was

    def stopped() -> bool:
        return stop_after_waits is not None and clock.now >= stop_after_waits * options.every

    failed = run_cycles(poller, summary, options,  # type: ignore[arg-type]
                        initialised=initialised, should_stop=stopped, on_cycle=cycles.append,
                        on_wait=waits.append, clock=clock, sleep=clock.sleep)
    return failed, cycles, waits, poller, clock


def test_once_is_one_cycle_and_the_first_runs_initial_setup() -> None:
    failed, cycles, waits, poller, _ = loop([DONE], LoopOptions(once=True))
    assert not failed and waits == [] and poller.firsts == [True]
    assert [(c.read, c.delivered, c.report) for c in cycles] == [(2, 2, DONE)]


def test_catch_up_goes_on_at_once_while_a_cycle_is_capped() -> None:
    failed, cycles, waits, poller, clock = loop([CAPPED, CAPPED, DONE],
                                                LoopOptions(once=True, catch_up=True))
    assert not failed and [c.read for c in cycles] == [500, 500, 2]
    assert waits == [] and clock.now == 0
    assert poller.firsts == [True, False, False]


def test_a_failed_cycle_is_reported_and_the_next_one_runs_after_the_wait() -> None:
    error = EvaluationError(Diagnostic("http-status", "boom", ("x",)))
    failed, cycles, waits, _, clock = loop([error, DONE], LoopOptions(every=60),
                                           stop_after_waits=2)
    assert failed and cycles[0].error is not None and cycles[0].report is None
    assert cycles[1].report == DONE and waits == [60, 60] and clock.now == 120


def test_a_stop_while_waiting_starts_no_new_cycle() -> None:
    failed, cycles, waits, _, clock = loop([DONE, DONE, DONE], LoopOptions(every=30),
                                           stop_after_waits=1)
    assert not failed and len(cycles) == 1 and waits == [30] and clock.now == 30
