"""`manifest-runtime poll MANIFEST [--workflow NAME] [--once]`: run a workflow's polling
data_intake (or its historical_data_intake) and feed every result to its data_pipeline
(pipeline/polling.py). `${polling_state}` is kept in the state file between polls."""

from __future__ import annotations

import argparse
import gc
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..expressions.nodes import Missing
from .http_options import add_http_options, positive_int
from .json_lines import json_line
from .output import wants_json
from .progress import Total
from .run import open_dead_letter, sandbox_in_file, write_dead
from .run_report import Tracker, print_failures, print_summary_json
from .session import (
    DEFAULT_WEBHOOK_URL,
    Busy,
    add_pipeline_options,
    compile_or_report,
    located,
    one_writer,
    open_pipeline,
    pipeline_options,
    report_error,
)
from .signals import StopOnSignal

if TYPE_CHECKING:
    from ..model import CompiledManifest
    from ..pipeline.batch import Summary
    from ..workflows import Intake, Workflow

DRY_RUN_BUFFER = 1000  # poll --dry-run writes its records this many at a time (or a cycle's)
DEFAULT_FREQUENCY = 1800  # seconds (reference §5.2: the schedule frequency is fixed at 1800)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "poll",
        help="run a polling data_intake and its data_pipeline",
        description="Poll as App Studio would: initial_setup (first time), pre_poll, the "
        "request until an exit rule, post_poll; every result goes through the workflow's "
        "data_pipeline into the sandbox (or a real account: --ac-url). Repeats at the "
        "schedule's frequency until stopped, or once with --once (a historical_data_intake "
        "always runs once).",
    )
    add_pipeline_options(p, "result")
    p.add_argument("--once", action="store_true", help="one poll cycle, then exit")
    p.add_argument("--every", type=positive_int, metavar="SECONDS",
                   help="seconds between polls (default: the saved schedule's frequency, else "
                   "the intake's, else 1800)")
    p.add_argument("--reset", action="store_true",
                   help="forget the stored polling_state first (initial_setup runs again; a "
                   "completed historical import runs again)")
    p.add_argument("--catch-up", action="store_true",
                   help="poll again at once while a poll ends at a per-cycle limit (100 "
                   "requests, more than 1,000 results), then exit: a backlog in one go")
    p.add_argument("--dry-run", action="store_true",
                   help="run source and transform only; print each transformed record (JSON "
                   "lines) instead of delivering it; one poll, polling_state is not saved")
    p.add_argument("--no-wait", action="store_true",
                   help="exit 1 at once when another run or poll is writing for the workflow "
                   "(default: wait for it)")
    p.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL, help="${webhook.url}")
    add_http_options(p)
    p.set_defaults(handler=run)


def first_import(compiled: CompiledManifest, workflow: Workflow) -> int | None:
    """Index of the polling `historical_data_intake` of a workflow whose `data_intake` polls
    too: it runs once per setup, before the workflow's first poll (again after --reset)."""
    from ..workflows import intake_named

    scheduled = intake_named(compiled, workflow.data_intake)
    first = intake_named(compiled, workflow.historical_data_intake)
    if scheduled is not None and first is not None and scheduled.polling and first.polling:
        return first.index
    return None


def run(args: argparse.Namespace) -> int:
    try:
        return _run(args)
    except Busy as exc:
        print(f"manifest-runtime: error: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from ..pipeline.batch import Summary
    from ..pipeline.polling import HistoricalImports, Poller
    from ..workflows import choose, polling_intake

    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="poll")
    if compiled is None:
        return 1
    workflow = choose(compiled, args.workflow)
    intake, historical = polling_intake(compiled, workflow)
    name = workflow.name
    summary = Summary()
    dry = args.dry_run
    with open_pipeline(pipeline_options(args), compiled, workflow
                       ) as (state, pipeline, journal), \
            (nullcontext() if dry else one_writer(state, name, "poll", args.no_wait)):
        historic = first_import(compiled, workflow)
        history = HistoricalImports(state.db, state.lock) \
            if historical or historic is not None else None
        if args.reset and not dry:
            state.forget_polling_state(name)
            if history is not None:
                history.forget(name)
        # --dry-run --reset: as if forgotten, without forgetting
        done = history.get(name) if history is not None and not (dry and args.reset) else None
        if historical and done is not None and done.finished_at:  # once per setup
            print(f"{name}: the historical import ran already ({done.results} result(s), "
                  f"completed {done.finished_at}; stopped: {done.stopped_by}); nothing to do. "
                  "`poll --reset` (or a new `setup`) runs it again")
            return 0
        dead_file = open_dead_letter(args.dead_letter)
        tracker = Tracker(args, Total(None), unit="results")
        tally = _Tally(tracker)
        cycles: list[dict[str, Any]] = []
        # dead letters of this poll: result numbers count from 1 in each poll process
        run_key = f"poll:{name}:{datetime.now(UTC).isoformat(timespec='seconds')}"

        encode = json_line
        dry_run = _DryRun(initialised=not args.reset and state.polling_initialised(name))

        # into the sandbox of the state file: a page is one transaction (pipeline/polling.py)
        batched = not dry and journal is not None and sandbox_in_file(pipeline, state)

        def journal_of(key: str) -> Any:
            def journal_dead(outcome: Any) -> None:
                if journal is not None:
                    journal.finish(key, outcome.record_no, outcome.dead)
            return journal_dead

        def outcomes(key: str) -> Any:
            def on_outcome(outcome: Any) -> None:
                if journal is not None and not batched:  # batched: in the page's transaction
                    journal.finish(key, outcome.record_no, outcome.dead)
                summary.add_outcome(outcome)
                if outcome.dead:
                    write_dead(dead_file, outcome.dead)
                    tally.flush()
                    tracker.record(outcome.dead, delivered=False)
                else:
                    tally.done += 1
                    tally.delivered += bool(outcome.delivered)
                    if tally.done >= DRY_RUN_BUFFER:
                        tally.flush()
                if dry:  # as `run --dry-run`: the transformed records, one JSON line each
                    dry_run.printed += len(outcome.outputs)
                    lines = dry_run.lines
                    for value in outcome.outputs:
                        lines.append(encode(value))
                    if len(lines) >= DRY_RUN_BUFFER:
                        dry_run.flush()
                for warning in outcome.warnings:  # keys the target could not use (issue 12)
                    print(f"{name}: warning: {warning}", file=sys.stderr)
            return on_outcome

        def load() -> Any:
            if dry_run.state:
                return dry_run.state[0]
            if dry and args.reset:
                return Missing  # as if forgotten, without forgetting
            stored, value = state.load_polling_state(name)
            return value if stored else Missing

        def save(value: Any) -> None:
            if dry:
                dry_run.state[:] = [value]
            else:
                state.save_polling_state(name, value)

        stop = StopOnSignal("\nstopping after the page in hand (Ctrl-C again to abort)")

        def poller_of(at: int, key: str) -> Poller:
            poller = Poller(compiled, at, pipeline,
                            context_for=pipeline.intake_context, load_state=load,
                            save_state=save,
                            on_outcome=outcomes(key),
                            should_stop=lambda: stop.signal is not None,
                            initialised=dry_run.mark if dry else
                            lambda: state.mark_polling_initialised(name))
            if batched:
                poller.batch, poller.journal = state.batch, journal_of(key)
            return poller

        poller = poller_of(intake.index, run_key)
        if historical and history is not None and not dry:
            poller.history = (history, name, intake.name)
        importer = None  # a polling workflow's first import, once per setup
        if historic is not None and history is not None and not dry \
                and not (done and done.finished_at):
            importer = poller_of(historic, f"{run_key}:historical")
            importer.history = (history, name, str(workflow.historical_data_intake))
        setup = state.load_setup(name)
        once = args.once or dry or args.catch_up or historical or _single(setup, intake)
        every = args.every or _frequency(setup, intake)
        freezer = _Freezer()
        try:
            with stop:
                if importer is not None:  # the historical import, once, before the first poll
                    code = _loop(importer, state, name, True, every, summary, args, stop,
                                 dry_run, cycles, freezer, tally, "historical import")
                    if code != 0:  # the next poll goes on with the scheduled intake
                        return _finish(code, name, summary, args, state, stop, tracker, cycles)
                code = _loop(poller, state, name, once, every, summary, args, stop, dry_run,
                             cycles, freezer, tally)
                code = _finish(code, name, summary, args, state, stop, tracker, cycles)
        finally:
            freezer.release()
            dry_run.flush()
            tally.flush()
            tracker.close()
            if dead_file is not None:
                dead_file.close()
    return code


@dataclass
class _DryRun:
    """What --dry-run keeps in memory instead of the state file."""

    initialised: bool
    state: list[Any] = field(default_factory=list)  # [polling_state] once a command set it
    printed: int = 0  # records printed
    lines: list[str] = field(default_factory=list)  # records not written yet

    def flush(self) -> None:
        """Write the records made so far (one write per page or so, not one per record)."""
        if self.lines:
            sys.stdout.write("\n".join(self.lines) + "\n")
            self.lines.clear()

    def mark(self) -> None:
        self.initialised = True


def _loop(poller: Any, state: Any, name: str, once: bool, every: int, summary: Summary,
          args: argparse.Namespace, stop: StopOnSignal, dry_run: _DryRun,
          cycles: list[dict[str, Any]], freezer: _Freezer, tally: _Tally,
          label: str = "poll") -> int:
    """The cycles (pipeline/poll_loop.py), each one's line printed; the exit code."""
    from ..pipeline.poll_loop import Cycle, LoopOptions, run_cycles

    out = sys.stderr if wants_json(args) else sys.stdout  # --format json: one object at the end
    pipeline = poller.pipeline

    def on_cycle(c: Cycle) -> None:
        dry_run.flush()
        tally.flush()
        freezer.after_cycle()
        if c.error is not None:
            report_error(c.error, pipeline.compiled, pipeline.env.redact)
            cycles.append({"error": pipeline.env.redact_value(located(
                c.error, pipeline.compiled).as_json())})
            print(f"{name}: the poll failed; results that came before it are "
                  "recorded", file=sys.stderr)
            return
        report = c.report
        assert report is not None
        if args.dry_run:  # stdout holds the records
            print(f"{name}: {label} (dry run): {report.requests} request(s), read "
                  f"{c.read}, transformed {c.transformed}, failed {c.failed}; stopped: "
                  f"{report.stopped_by}", file=sys.stderr, flush=True)
        else:
            print(f"{name}: {label}: {report.requests} request(s), read {c.read}, "
                  f"delivered {c.delivered}, failed {c.failed}; stopped: "
                  f"{report.stopped_by}", file=out, flush=True)
        cycles.append({"label": label, "requests": report.requests, "read": c.read,
                       "delivered": c.delivered, "failed": c.failed,
                       "stopped_by": report.stopped_by})

    def on_wait(seconds: int) -> None:
        print(f"next poll in {seconds} s (Ctrl-C to stop)", file=sys.stderr, flush=True)

    try:
        failed_cycle = run_cycles(
            poller, summary, LoopOptions(once=once, every=every, catch_up=args.catch_up,
                                         label=label),
            initialised=lambda: dry_run.initialised if args.dry_run
            else state.polling_initialised(name),
            should_stop=lambda: stop.signal is not None, on_cycle=on_cycle, on_wait=on_wait,
            transformed=lambda: dry_run.printed)
    except KeyboardInterrupt:  # a second Ctrl-C
        print("aborted", file=sys.stderr)
        return 130
    if stop.signal is not None:
        print(f"{name}: stopped; polling_state is stored: the next poll goes on from it",
              file=sys.stderr)
        return 128 + stop.signal
    return 1 if failed_cycle or summary.failed else 0


class _Tally:
    """Results that ended without a failure, handed to the tracker (its counts, progress) a
    thousand at a time and at each cycle's end rather than one by one; a failure flushes
    them first."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.done = 0
        self.delivered = 0

    def flush(self) -> None:
        if self.done:
            self.tracker.record_ended(self.done, self.delivered)
            self.done = self.delivered = 0


class _Freezer:
    """The garbage collector during a poll. After the first cycle, what start-up and that
    cycle left (modules, the compiled manifest, httpx: ~200,000 objects) leaves its view
    (`gc.freeze`), so a full collection walks only what came later; and it runs a young
    collection every 4,000 new containers rather than 700 (a page of 1,000 contacts is
    ~5,000 dicts and lists that live until the page is done, and refcounting frees them: the
    collections found nothing to free). Together ~3 % of a dry run's CPU, ~3 % into the
    sandbox. Not higher: at 10,000 the peer benchmark's dry poll (100,000 contacts, 1,000 a
    page) peaked at 123 MB RSS against 74 MB at 4,000 and 71 MB at 700, for no CPU it could
    measure (2026-12-03, 2 runs each). Frozen objects are still freed when no longer
    referenced. At the end the collector is as it was (in-process callers, tests)."""

    YOUNG = 4_000  # gen-0 threshold while polling (Python's default: 700)

    def __init__(self) -> None:
        self.saved: tuple[int, int, int] | None = None

    def after_cycle(self) -> None:
        if self.saved is None:
            self.saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(max(self.YOUNG, self.saved[0]), *self.saved[1:])

    def release(self) -> None:
        if self.saved is not None:
            gc.set_threshold(*self.saved)
            self.saved = None
            gc.unfreeze()


def _finish(code: int, name: str, summary: Summary, args: argparse.Namespace, state: Any,
            stop: StopOnSignal, tracker: Tracker, cycles: list[dict[str, Any]]) -> int:
    """The end of the report: the JSON summary (--format json), else the first failures by
    error code and where all of them are."""
    if wants_json(args):
        print_summary_json("poll", name, {"read": summary.read, "delivered": summary.delivered,
                                          "failed": summary.failed}, tracker.failures,
                           state.path, code, cycles=cycles, signal=stop.signal)
        return code
    if summary.failed and code < 128:
        print_failures(args, tracker.failures, state.path, where="result")
        print(f"failed results are in the dead_letters table of {state.path}"
              + (f" and {args.dead_letter}" if args.dead_letter else ""))
    return code


def _single(setup: Any, intake: Intake) -> bool:
    schedule = setup.schedule if setup is not None and setup.schedule else {}
    option = schedule.get("import_option") or intake.import_option
    return option == "single"


def _frequency(setup: Any, intake: Intake) -> int:
    schedule = setup.schedule if setup is not None and setup.schedule else {}
    for value in (schedule.get("frequency"), intake.frequency):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return DEFAULT_FREQUENCY
