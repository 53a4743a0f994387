"""`manifest-runtime poll MANIFEST [--workflow NAME] [--once]`: run a workflow's polling
data_intake (or its historical_data_intake) and feed every result to its data_pipeline
(pipeline/polling.py). `${polling_state}` is kept in the state file between polls."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import EvaluationError, UsageError
from ..expressions.nodes import Missing
from .http_options import add_http_options, positive_int
from .output import wants_json
from .progress import Total
from .run import (
    Summary,
    choose_workflow,
    open_dead_letter,
    open_pipeline,
    write_dead,
)
from .run_report import Tracker, print_failures, print_summary_json
from .session import (
    DEFAULT_WEBHOOK_URL,
    add_pipeline_options,
    compile_or_report,
    located,
    report_error,
)
from .signals import StopOnSignal

if TYPE_CHECKING:
    from ..model import CompiledManifest

DEFAULT_FREQUENCY = 1800  # seconds (reference §5.2: the schedule frequency is fixed at 1800)


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "poll",
        help="run a polling data_intake and its data_pipeline",
        description="Poll as App Studio would: initial_setup (first time), pre_poll, the "
        "request until an exit rule, post_poll; every result goes through the workflow's "
        "data_pipeline into the sandbox. Repeats at the schedule's frequency until stopped, "
        "or once with --once (a historical_data_intake always runs once).",
    )
    add_pipeline_options(p, "result")
    p.add_argument("--once", action="store_true", help="one poll cycle, then exit")
    p.add_argument("--every", type=positive_int, metavar="SECONDS",
                   help="seconds between polls (default: the saved schedule's frequency, else "
                   "the intake's, else 1800)")
    p.add_argument("--reset", action="store_true",
                   help="forget the stored polling_state first (initial_setup runs again; a "
                   "completed historical import runs again)")
    p.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL, help="${webhook.url}")
    add_http_options(p)
    p.set_defaults(handler=run, dry_run=False)


def polling_intake(compiled: CompiledManifest, workflow: dict[str, Any]
                   ) -> tuple[int, dict[str, Any], bool]:
    """(index, intake, historical?) of the workflow's polling intake."""
    intakes = [d if isinstance(d, dict) else {} for d in compiled.data.get("data_intake") or []]
    names = [d.get("name") for d in intakes]
    for key, historical in (("data_intake", False), ("historical_data_intake", True)):
        name = workflow.get(key)
        if name in names and intakes[names.index(name)].get("type") == "polling":
            return names.index(name), intakes[names.index(name)], historical
    raise UsageError(f"workflow {workflow.get('name')!r} has no polling data_intake (its "
                     f"data_intake is {workflow.get('data_intake')!r}); a webhook intake is served "
                     "with `manifest-runtime serve MANIFEST`, or fed recorded payloads with "
                     "`manifest-runtime run MANIFEST --input payloads.jsonl`")


def run(args: argparse.Namespace) -> int:
    from ..pipeline.polling import HistoricalImports, Poller

    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="poll")
    if compiled is None:
        return 1
    index, workflow = choose_workflow(compiled, args.workflow)
    intake_index, intake, historical = polling_intake(compiled, workflow)
    name = str(workflow.get("name"))
    summary = Summary()
    with open_pipeline(args, compiled, index, workflow) as (state, pipeline, journal):
        history = HistoricalImports(state.db, state.lock) if historical else None
        if args.reset:
            state.forget_polling_state(name)
            if history is not None:
                history.forget(name)
        done = history.get(name) if history is not None else None
        if done is not None and done.finished_at:  # once per setup (reference §4.3)
            print(f"{name}: the historical import ran already ({done.results} result(s), "
                  f"completed {done.finished_at}; stopped: {done.stopped_by}); nothing to do. "
                  "`poll --reset` (or a new `setup`) runs it again")
            return 0
        dead_file = open_dead_letter(args.dead_letter)
        tracker = Tracker(args, Total(None), unit="results")
        # dead letters of this poll: result numbers count from 1 in each poll process
        run_key = f"poll:{name}:{datetime.now(UTC).isoformat(timespec='seconds')}"

        def on_outcome(outcome: Any) -> None:
            if journal is not None:
                journal.finish(run_key, outcome.record_no, outcome.dead)
            write_dead(dead_file, outcome.dead)
            summary.add(outcome)
            tracker.record(outcome.dead, delivered=bool(outcome.delivered) and not outcome.dead)

        def load() -> Any:
            stored, value = state.load_polling_state(name)
            return value if stored else Missing

        stop = StopOnSignal("\nstopping after the page in hand (Ctrl-C again to abort)")
        poller = Poller(compiled, intake_index, pipeline,
                        context_for=pipeline.intake_context, load_state=load,
                        save_state=lambda value: state.save_polling_state(name, value),
                        on_outcome=on_outcome, should_stop=lambda: stop.signal is not None,
                        initialised=lambda: state.mark_polling_initialised(name))
        if history is not None:
            poller.history = (history, name, str(intake.get("name")))
        setup = state.load_setup(name)
        once = args.once or historical or _single(setup, intake)
        every = args.every or _frequency(setup, intake)
        try:
            with stop:
                code = _loop(poller, state, name, once, every, summary, args, stop, tracker)
        finally:
            tracker.close()
            if dead_file is not None:
                dead_file.close()
    return code


def _loop(poller: Any, state: Any, name: str, once: bool, every: int, summary: Summary,
          args: argparse.Namespace, stop: StopOnSignal, tracker: Tracker) -> int:
    failed_cycle = False
    cycles: list[dict[str, Any]] = []
    out = sys.stderr if wants_json(args) else sys.stdout  # --format json: one object at the end
    try:
        while True:
            first = not state.polling_initialised(name)
            before = (summary.read, summary.delivered, summary.failed)
            try:
                report = poller.cycle(first)
            except EvaluationError as exc:
                report_error(exc.diagnostic, poller.pipeline.compiled, poller.pipeline.env.redact)
                cycles.append({"error": poller.pipeline.env.redact_value(located(
                    exc.diagnostic, poller.pipeline.compiled).as_json())})
                print(f"{name}: the poll failed; results that came before it are "
                      "recorded", file=sys.stderr)
                failed_cycle = True
                report = None
            if report is not None:
                read, delivered, failed = (summary.read - before[0],
                                           summary.delivered - before[1],
                                           summary.failed - before[2])
                print(f"{name}: poll: {report.requests} request(s), read {read}, delivered "
                      f"{delivered}, failed {failed}; stopped: {report.stopped_by}",
                      file=out, flush=True)
                cycles.append({"requests": report.requests, "read": read,
                               "delivered": delivered, "failed": failed,
                               "stopped_by": report.stopped_by})
            if once or stop.signal is not None:
                break
            print(f"next poll in {every} s (Ctrl-C to stop)", file=sys.stderr, flush=True)
            deadline = time.monotonic() + every
            while stop.signal is None and time.monotonic() < deadline:
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt:  # a second Ctrl-C
        print("aborted", file=sys.stderr)
        return 130
    code = 1 if failed_cycle or summary.failed else 0
    if stop.signal is not None:
        print(f"{name}: stopped; polling_state is stored: the next poll goes on from it",
              file=sys.stderr)
        code = 128 + stop.signal
    if wants_json(args):
        print_summary_json("poll", name, {"read": summary.read, "delivered": summary.delivered,
                                          "failed": summary.failed}, tracker.failures,
                           state.path, code, cycles=cycles, signal=stop.signal)
        return code
    if summary.failed:
        print_failures(args, tracker.failures, state.path, where="result")
        print(f"failed results are in the dead_letters table of {state.path}"
              + (f" and {args.dead_letter}" if args.dead_letter else ""))
    return code


def _single(setup: Any, intake: dict[str, Any]) -> bool:
    schedule = setup.schedule if setup is not None and setup.schedule else {}
    option = schedule.get("import_option") or intake.get("import_option")
    return option == "single"


def _frequency(setup: Any, intake: dict[str, Any]) -> int:
    schedule = setup.schedule if setup is not None and setup.schedule else {}
    for value in (schedule.get("frequency"), intake.get("frequency")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return DEFAULT_FREQUENCY
