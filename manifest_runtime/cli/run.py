"""`manifest-runtime run MANIFEST`: a workflow's data_pipeline over many records.

Inbound workflows read webhook payloads (`--input FILE.jsonl|-`), outbound ones the contacts
an automation would process (`--contacts FILE.jsonl`). Each record goes source -> transform
(the mapping saved by `setup`) -> target and ends delivered or in the dead-letter table of
the state file (and `--dead-letter FILE.jsonl`). Running the same file again resumes: records
already done are skipped (`--restart` runs them all again).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import UsageError
from .failures import Failures
from .http_options import add_http_options, http_service, positive_int
from .output import wants_json
from .progress import count_records
from .run_input import input_lines
from .run_report import Tracker, print_failures, print_summary_json
from .session import (
    DEFAULT_WEBHOOK_URL,
    add_pipeline_options,
    compile_or_report,
    make_env,
    open_state,
)
from .signals import StopOnSignal

if TYPE_CHECKING:
    from ..model import CompiledManifest
    from ..pipeline.journal import DeadLetter, Journal
    from ..pipeline.records import Record
    from ..pipeline.runner import Outcome, Pipeline
    from ..state import Setup



def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a workflow's data_pipeline over many records",
        description="Run source -> transform -> target for each record: webhook payloads "
        "(--input, inbound workflows) or contacts (--contacts, outbound workflows). Uses the "
        "choices saved by `setup` and delivers into the sandbox ActiveCampaign account of the "
        "state file. Every record ends delivered or dead-lettered; exit 1 when any failed.",
        epilog="examples:\n  manifest-runtime run manifest.yaml --input payloads.jsonl\n"
        "  manifest-runtime run twilio.json --contacts contacts.jsonl --dry-run\n"
        "  cat payloads.jsonl | manifest-runtime run manifest.yaml --input -",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_pipeline_options(p, "record")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--input", metavar="FILE.jsonl|-",
                        help="inbound: webhook payloads, one JSON value per line (- = stdin)")
    source.add_argument("--contacts", metavar="FILE.jsonl",
                        help="outbound: the contacts to process, one JSON object per line")
    p.add_argument("--dry-run", action="store_true",
                   help="run source and transform only; print each transformed record "
                   "(JSON lines) instead of delivering it")
    p.add_argument("--limit", type=positive_int, metavar="N", help="process at most N records")
    p.add_argument("--concurrency", type=positive_int, default=1, metavar="N",
                   help="records in flight at once (default 1; --trace runs one at a time)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--restart", action="store_true",
                       help="run every record of the input again, even those done before")
    again.add_argument("--retry-failed", action="store_true",
                       help="run again the records of this input that failed before (their "
                       "old dead letters are replaced); delivered ones stay skipped")
    p.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL,
                   help=f"${{webhook.url}} (default {DEFAULT_WEBHOOK_URL})")
    add_http_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.journal import run_key

    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="run")
    if compiled is None:
        return 1
    index, workflow = choose_workflow(compiled, args.workflow)
    inbound = workflow.get("type") == "generic"
    lines, digest = input_lines(args, inbound)
    if args.trace:
        args.concurrency = 1
    with open_pipeline(args, compiled, index, workflow) as (state, pipeline, journal):
        key = None if digest is None or journal is None else run_key(pipeline.name, digest)
        if journal is not None and key is not None:
            if args.restart:
                journal.forget(key)
            elif args.retry_failed:
                journal.forget_failed(key)
        summary = _execute(args, pipeline, journal, key, lines)
    return summary.report(args, pipeline.name, state.path)


@contextmanager
def open_pipeline(args: argparse.Namespace, compiled: CompiledManifest, index: int,
                  workflow: dict[str, Any]) -> Iterator[tuple[Any, Pipeline, Journal | None]]:
    """The state file, the workflow's pipeline (with the saved setup, the HTTP client and the
    sandbox account) and the journal (None for a dry run), closed on exit. Used by run and
    poll."""
    from ..pipeline.journal import Journal
    from ..pipeline.runner import Pipeline

    state = open_state(args.state)
    try:
        setup = state.load_setup(str(workflow.get("name")))
        _needs_setup(args.manifest, workflow, setup)
        http = http_service(args, compiled, _str(workflow.get("auth")), trace=args.trace,
                            stored=setup.credentials if setup else None,
                            save_stored=_store_rotated(state, setup))
        try:
            env = make_env(args, compiled, state, http, ac=state.sandbox())
            pipeline = Pipeline(compiled, index, setup, env, webhook_url=args.webhook_url,
                                subdomain=http.subdomain, dry_run=args.dry_run)
            journal = None if args.dry_run else Journal(state.db, state.lock)
            yield state, pipeline, journal
        finally:
            http.close()
    finally:
        state.close()


def choose_workflow(compiled: CompiledManifest, name: str | None) -> tuple[int, dict[str, Any]]:
    workflows = [w for w in compiled.data.get("workflows") or [] if isinstance(w, dict)]
    names = [str(w.get("name")) for w in workflows]
    if name is None:
        if len(workflows) == 1:
            return 0, workflows[0]
        raise UsageError(f"the manifest has {len(workflows)} workflows: pass --workflow NAME "
                         f"({', '.join(names)})")
    if name not in names:
        from ..errors import choices_hint

        raise UsageError(f"no workflow {name!r}; {choices_hint(name, names, 'workflows:')}")
    index = names.index(name)
    return index, workflows[index]


def _needs_setup(manifest: str, workflow: dict[str, Any], setup: Setup | None) -> None:
    raw = workflow.get("setup")
    steps: dict[str, Any] = raw if isinstance(raw, dict) else {}
    asks = isinstance(steps.get("select"), dict) or isinstance(steps.get("map"), dict)
    name = workflow.get("name")
    again = f"run: manifest-runtime setup {manifest} --workflow {name} [--answers FILE]"
    if asks and setup is None:
        raise UsageError(f"workflow {name!r} has select/map steps and no setup was saved in "
                         f"the state file; {again}")
    select = steps.get("select")
    fields = select.get("form_fields") if isinstance(select, dict) else None
    answered = setup.custom_data if setup is not None else {}
    missing = [str(f.get("id")) for f in (fields if isinstance(fields, list) else [])
               if isinstance(f, dict) and f.get("required", True) is not False
               and str(f.get("id")) not in answered]
    if missing:
        raise UsageError(f"the saved setup of workflow {name!r} has no answer for required "
                         f"field(s) {', '.join(missing)} (the manifest changed since setup?); "
                         f"{again}")


@dataclass
class Summary:
    read: int = 0
    skipped: int = 0
    delivered: int = 0
    failed: int = 0  # records with at least one dead letter
    dead: int = 0  # dead letters (a fanned-out record can have several)
    fanned: int = 0  # records whose source output an array
    items: int = 0  # items after fan-out
    empty: int = 0  # records whose source output an empty array: nothing to deliver
    interrupted: int | None = None  # the signal that stopped the run
    outputs: list[Any] = field(default_factory=list)
    failures: Failures = field(default_factory=Failures)  # the first ones, by error code

    def add(self, outcome: Outcome) -> None:
        self.read += 1
        self.delivered += outcome.delivered
        self.dead += len(outcome.dead)
        self.failed += 1 if outcome.dead else 0
        self.items += 1 if outcome.items is None else outcome.items
        self.fanned += 0 if outcome.items is None else 1
        self.empty += 1 if outcome.items == 0 else 0

    def report(self, args: argparse.Namespace, workflow: str, state_path: str) -> int:
        if wants_json(args):
            code = 128 + self.interrupted if self.interrupted is not None else \
                1 if self.failed else 0
            counts = {k: getattr(self, k) for k in ("read", "skipped", "delivered", "failed",
                                                    "dead", "fanned", "items", "empty")}
            print_summary_json("run", workflow, counts, self.failures, state_path, code,
                               dry_run=args.dry_run, signal=self.interrupted)
            return code
        out = sys.stderr if args.dry_run else sys.stdout
        done = "transformed" if args.dry_run else "delivered"
        count = len(self.outputs) if args.dry_run else self.delivered
        line = f"{workflow}: read {self.read}, {done} {count}, failed {self.failed}"
        if self.fanned:  # deliveries count items, failures records: say so
            line = (f"{workflow}: read {self.read} records, {self.items} items after "
                    f"fan-out: {done} {count} items, failed {self.failed} records "
                    f"({self.dead} dead letters)")
            if self.empty:
                line += f", {self.empty} records gave no items"
        if self.skipped:
            line += (f"; {self.skipped} of them skipped, done in an earlier run (--restart "
                     "runs them again)")
        print(line, file=out)
        if self.failed and out is sys.stdout:
            print_failures(args, self.failures, state_path)
        if self.failed:
            where = f"the dead_letters table of {state_path}"
            if args.dead_letter:
                where += f" and {args.dead_letter}"
            print(f"failed records are in {where}", file=out)
        if self.interrupted is not None:
            print("stopped before the end: run the same command again to resume",
                  file=sys.stderr)
            return 128 + self.interrupted
        return 1 if self.failed else 0


def _execute(args: argparse.Namespace, pipeline: Pipeline, journal: Journal | None,
             key: str | None, lines: Iterator[str]) -> Summary:
    """Feed the records to a thread pool. Each record's end is recorded (journal, dead
    letters) by the worker that ran it, the moment it ends, so a stop at any point loses no
    record and repeats none. SIGINT/SIGTERM stop taking new records; the ones in flight
    finish and are recorded. Dry-run output keeps the input order."""
    from ..pipeline.records import read_jsonl

    tracker = Tracker(args, count_records(args.input or args.contacts))
    summary = Summary(failures=tracker.failures)
    done = journal.done(key) if journal is not None else set()
    dead_file = open_dead_letter(args.dead_letter)
    record_lock = threading.Lock()
    stop = StopOnSignal("\nstopping: finishing the records in flight (Ctrl-C again to abort)")

    def records() -> Iterator[Record]:
        taken = 0
        for record in read_jsonl(lines):
            if stop.signal is not None or (args.limit is not None and taken >= args.limit):
                return
            if record.number in done:
                summary.read += 1
                summary.skipped += 1
                tracker.record([], delivered=False, skipped=True)
                continue
            taken += 1
            yield record

    def process_and_record(record: Record) -> Outcome:
        outcome = pipeline.process(record)
        with record_lock:
            if journal is not None:
                journal.finish(key, outcome.record_no, outcome.dead)
            write_dead(dead_file, outcome.dead)
        return outcome

    def collect(outcome: Outcome) -> None:
        summary.add(outcome)
        tracker.record(outcome.dead, delivered=not outcome.dead)

    printed: dict[int, list[Any]] = {}  # dry run: outputs waiting for their turn
    order: deque[int] = deque()

    def print_in_order() -> None:
        while order and order[0] in printed:
            for value in printed.pop(order.popleft()):
                print(json.dumps(value, ensure_ascii=False))

    try:
        with stop, ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            pending: set[Future[Outcome]] = set()
            for record in records():
                order.append(record.number)
                pending.add(pool.submit(process_and_record, record))
                while len(pending) >= args.concurrency * 2 or (pending and stop.signal):
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for f in finished:
                        _take(f.result(), collect, printed, args.dry_run, summary)
                    print_in_order()
            for f in as_completed(pending):
                _take(f.result(), collect, printed, args.dry_run, summary)
            print_in_order()
    finally:
        tracker.close()
        if dead_file is not None:
            dead_file.close()
    summary.interrupted = stop.signal
    return summary


def _take(outcome: Outcome, collect: Any, printed: dict[int, list[Any]], dry_run: bool,
          summary: Summary) -> None:
    collect(outcome)
    if dry_run:
        printed[outcome.record_no] = outcome.outputs
        summary.outputs.extend(outcome.outputs)


def open_dead_letter(path: str | None) -> TextIO | None:
    if path is None:
        return None
    try:
        return open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--dead-letter {path}: cannot write it ({exc.strerror})") from None


def write_dead(file: TextIO | None, dead: list[DeadLetter]) -> None:
    if file is None:
        return
    for d in dead:
        file.write(json.dumps(d.as_json(), ensure_ascii=False) + "\n")
    file.flush()


def _store_rotated(state: Any, setup: Setup | None) -> Any:
    """Keep refreshed oauth2 tokens in the setup they came from."""
    from dataclasses import replace

    if setup is None:
        return None

    def save(creds: Any) -> None:
        fresh = creds.as_json()
        entry = dict(setup.credentials or {})
        entry.update({k: fresh[k] for k in ("access_token", "refresh_token", "expires_at")
                      if k in fresh})
        state.save_setup(replace(setup, credentials=entry))

    return save


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
