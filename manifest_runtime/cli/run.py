"""`manifest-runtime run MANIFEST`: a workflow's data_pipeline over many records.

Inbound workflows read webhook payloads (`--input FILE.jsonl|-`), outbound ones the contacts
an automation would process (`--contacts FILE.jsonl`). The engine is pipeline/batch.py; this
module parses the options, holds the workflow for this process (one writer per workflow),
and prints: dry-run output, --trace blocks, the dead-letter file, progress and the summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO, TypeGuard

from ..errors import UsageError
from .ac_options import target_key
from .failures import Failures
from .http_options import add_http_options, positive_int
from .json_lines import json_line
from .output import wants_json
from .progress import count_records
from .run_input import input_lines
from .run_report import Tracker, print_failures, print_summary_json
from .session import (
    DEFAULT_WEBHOOK_URL,
    Busy,
    add_pipeline_options,
    compile_or_report,
    one_writer,
    open_pipeline,
    pipeline_options,
)
from .signals import StopOnSignal

RETRIES = 3  # a part of the input that failed on the workers runs again this many times

if TYPE_CHECKING:
    from ..pipeline.batch import BatchOptions, RecordResult, Summary
    from ..pipeline.distributed import ClusterOptions, WorkersFailed
    from ..pipeline.journal import DeadLetter

DEFAULT_CHUNK = 500
# into the sandbox of the state file a batch is one transaction: each commit writes every page
# the batch touched, and the journal's rows (random identities) touch about one page each,
# so fewer, larger commits write fewer pages (bench/bench_chunks.py: the 10th chunk of 10,000
# against the 1st, CPU: 1.21-1.23 at 2,000, 1.13-1.17 at 5,000; peak RSS over 1,000,000
# lines 53 -> 62 MB, flat either way: bench/bench_memory.py --sandbox; 2026-12-03)
SANDBOX_CHUNK = 5000


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a workflow's data_pipeline over many records",
        description="Run source -> transform -> target for each record: webhook payloads "
        "(--input, inbound workflows) or contacts (--contacts, outbound workflows). Uses the "
        "choices saved by `setup` and delivers into the sandbox ActiveCampaign account of the "
        "state file (or a real one: --ac-url, docs/targets.md). Every record ends delivered, "
        "dead-lettered, or with its outcome unknown (a request that may have acted); records "
        "done before are skipped. Exit 1 when any failed or is unknown.",
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
                   help="records in flight at once (default 1)")
    p.add_argument("--batch-size", type=positive_int, metavar="N",
                   help=f"records looked up in the journal (and, into the sandbox, committed) "
                   f"at once (default {DEFAULT_CHUNK}, {SANDBOX_CHUNK} into the sandbox of "
                   "the state file; 1 on standard input, so each line runs as it arrives)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--restart", action="store_true",
                       help="run every record of the input again, even those done before")
    again.add_argument("--retry-failed", action="store_true",
                       help="run again the records of this input that failed before (their "
                       "old dead letters are replaced); delivered ones stay skipped")
    p.add_argument("--retry-unknown", action="store_true",
                   help="send again the records whose outcome is unknown (an earlier run "
                   "was killed mid-request, or a POST timed out): check the receiving side "
                   "first, they may arrive twice")
    p.add_argument("--idempotency-key-header", metavar="NAME",
                   help="send each record's identity in this header (e.g. Idempotency-Key) "
                   "with every POST/PATCH, for APIs that drop repeated requests")
    p.add_argument("--no-wait", action="store_true",
                   help="exit 1 at once when another run or poll is writing for the workflow "
                   "(default: wait for it)")
    p.add_argument("--webhook-url", default=DEFAULT_WEBHOOK_URL,
                   help=f"${{webhook.url}} (default {DEFAULT_WEBHOOK_URL})")
    scale = p.add_argument_group("scale out (docs/scale.md)").add_mutually_exclusive_group()
    scale.add_argument("--workers", type=positive_int, metavar="N",
                       help="run the input's parts on N worker processes of this machine "
                       "(an embedded Dask cluster); each worker runs --concurrency records "
                       "at once")
    scale.add_argument("--scheduler", metavar="ADDRESS",
                       help="run on the workers of a running Dask cluster (tcp://HOST:8786); "
                       "the state must be PostgreSQL unless the scheduler is on this "
                       "machine (127.0.0.1)")
    add_http_options(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..pipeline.batch import BatchOptions, BatchRun
    from ..pipeline.records import read_jsonl
    from ..workflows import choose

    compiled = compile_or_report(args.manifest, json_errors=wants_json(args), command="run")
    if compiled is None:
        return 1
    workflow = choose(compiled, args.workflow)
    lines, stdin = input_lines(args, workflow.inbound)
    cluster = _cluster(args, stdin)
    with open_pipeline(pipeline_options(args), compiled, workflow) as (state, pipeline, _):
        batched = not args.dry_run and sandbox_in_file(pipeline, state)
        options = BatchOptions(
            concurrency=args.concurrency, limit=args.limit, dry_run=args.dry_run,
            restart=args.restart, retry_failed=args.retry_failed,
            retry_unknown=args.retry_unknown, batched=batched,
            chunk=args.batch_size or (1 if stdin else SANDBOX_CHUNK if batched
                                      else DEFAULT_CHUNK),
            idempotency_header=args.idempotency_key_header,
            sandbox_account=_is_sandbox(pipeline.env.ac),
            legacy={} if stdin or args.dry_run else _legacy_marks(state, workflow.name,
                                                                   args.input or args.contacts))
        printer = Printer(args, counted=cluster is None, buffered=options.chunk)
        stop = StopOnSignal("\nstopping: finishing the records in flight (Ctrl-C again to "
                            "abort)")
        salt = workflow.name + target_key(pipeline.env.ac)
        broken: WorkersFailed | None = None
        try:
            with _writer(state, workflow.name, args), stop:
                if cluster is not None:
                    summary = _distributed(args, cluster, options, workflow.name, salt,
                                           printer, lambda: stop.signal is not None)
                else:
                    summary = BatchRun(pipeline, state, options, on_result=printer.result,
                                       should_stop=lambda: stop.signal is not None
                                       ).run(read_jsonl(lines, salt=None if args.dry_run
                                                        else salt))
        except Busy as exc:
            print(f"manifest-runtime: error: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:
            if cluster is None or not _workers_failed(exc):
                raise
            broken, summary = exc, exc.summary
        finally:
            printer.close()
        code = report(summary, args, workflow.name, state.path, stop.signal,
                      (printer.warnings, printer.warned), printer.tracker.failures)
        if broken is not None:
            print(f"manifest-runtime: error: a part of the input failed on the workers, "
                  f"after {RETRIES} retries ({broken}); the records counted above are "
                  "recorded: run the same command again to resume", file=sys.stderr)
            return 1
        return code


def _cluster(args: argparse.Namespace, stdin: bool) -> ClusterOptions | None:
    """--workers / --scheduler, checked (usage errors before anything starts)."""
    if args.workers is None and args.scheduler is None:
        return None
    from ..pipeline.distributed import ClusterOptions, check
    from ..state import state_path

    given = f"--workers {args.workers}" if args.workers is not None \
        else f"--scheduler {args.scheduler}"
    refused = [(stdin, "standard input (it cannot be split into parts: give a file)"),
               (args.dry_run, "--dry-run (it prints records in order: run it in one "
                "process)"),
               (args.trace, "--trace (trace a run in one process)"),
               (args.limit is not None, "--limit (it counts records in one process)"),
               (args.record is not None, "--record (workers would write one cassette at "
                "once)")]
    for bad, what in refused:
        if bad:
            raise UsageError(f"{given} does not go with {what}")
    cluster = ClusterOptions(workers=args.workers, scheduler=args.scheduler, retries=RETRIES)
    check(cluster, state_path(args.state))
    return cluster


def _workers_failed(exc: Exception) -> TypeGuard[WorkersFailed]:
    """Is `exc` the workers' failure? Asked only of a run on workers, so a run in one
    process never loads pipeline/distributed.py (start-up)."""
    from ..pipeline.distributed import WorkersFailed

    return isinstance(exc, WorkersFailed)


def _distributed(args: argparse.Namespace, cluster: ClusterOptions, options: BatchOptions,
                 workflow: str, salt: str, printer: Printer, should_stop: Any) -> Summary:
    """The run on Dask workers (pipeline/distributed.py)."""
    from ..pipeline.distributed import job_for, run_distributed
    from .http_options import cli_reporter
    from .progress import Counts

    job = job_for(pipeline_options(args), workflow, options, args.input or args.contacts,
                  salt, cli_reporter(), getattr(args, "jq_engine", None))

    def progress(p: Any) -> None:
        printer.tracker.progress.update(Counts(p.done, p.delivered, p.failed, p.skipped))

    return run_distributed(job, cluster, legacy=dict(options.legacy), on_result=printer.result,
                           on_progress=progress, should_stop=should_stop)


def _writer(state: Any, workflow: str, args: argparse.Namespace) -> Any:
    """One writer per workflow (a dry run writes nothing: it holds nothing)."""
    from contextlib import nullcontext

    if args.dry_run:
        return nullcontext()
    return one_writer(state, workflow, "run", args.no_wait)


def _legacy_marks(state: Any, workflow: str, path: str) -> dict[int, Any]:
    """Resume marks a state file of version 1 kept for this very file (keyed by the workflow
    and the file's SHA-256): line -> delivered | failed. Empty (and the file not hashed) when
    the state file has none."""
    import hashlib

    if not state.has_table("run_records_v1"):
        return {}
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            sha.update(chunk)
    with state.lock:
        rows = state.db.execute("SELECT record_no, outcome FROM run_records_v1 WHERE "
                                "run_key = ?", (f"{workflow}:{sha.hexdigest()}",)).fetchall()
    return {n: "failed" if outcome == "failed" else "delivered" for n, outcome in rows}


def _is_sandbox(account: Any) -> bool:
    """Is the ActiveCampaign account the sandbox inside the state file (not a real one)?"""
    from ..activecampaign import SandboxAccount

    return isinstance(account, SandboxAccount)


WARNINGS_SHOWN = 10


def sandbox_in_file(pipeline: Any, state: Any) -> bool:
    """Does the pipeline deliver into the sandbox account of the state file itself (no HTTP
    of its own)? Then a chunk of records is one transaction."""
    return _is_sandbox(pipeline.env.ac) and not pipeline.sends_http \
        and getattr(state, "db", None) is not None


class Printer:
    """What `run` prints per record: dry-run output (JSON lines, input order), --trace
    blocks, --dead-letter lines, a progress line on a terminal."""

    def __init__(self, args: argparse.Namespace, counted: bool = True, buffered: int = 1
                 ) -> None:
        self.counted = counted  # False: progress comes from elsewhere (workers)
        self.dry_run = args.dry_run
        self.dead_file = open_dead_letter(args.dead_letter)
        self.tracker = Tracker(args, count_records(args.input or args.contacts))
        self.warnings: list[str] = []  # the first WARNINGS_SHOWN keys a target could not use
        self.warned = 0
        # dry-run lines are written `buffered` at a time (a batch's worth: one write, not one
        # per record; 1 on standard input, so each line shows as it is made)
        self._encode = json_line
        self._lines: list[str] = []
        self._buffered = buffered

    def result(self, r: RecordResult) -> None:
        if r.trace:
            for block in r.trace:
                self.flush()
                print(block, file=sys.stderr)
        if self.dry_run:
            lines = self._lines
            outputs = r.outputs
            if len(outputs) == 1:
                lines.append(self._encode(outputs[0]))
            else:
                encode = self._encode
                for value in outputs:
                    lines.append(encode(value))
            if len(lines) >= self._buffered:
                self.flush()
        dead = r.dead
        if dead:
            write_dead(self.dead_file, list(dead))
        if r.warnings:
            self.warned += len(r.warnings)
            self.warnings += r.warnings[:max(0, WARNINGS_SHOWN - len(self.warnings))]
        if self.counted:
            status = r.status
            self.tracker.record(dead, status == "delivered", status == "skipped")
        elif dead:
            self.tracker.failures.add(list(dead))

    def flush(self) -> None:
        if self._lines:
            sys.stdout.write("\n".join(self._lines) + "\n")
            self._lines.clear()

    def close(self) -> None:
        self.flush()
        self.tracker.close()
        if self.dead_file is not None:
            self.dead_file.close()


def report(s: Summary, args: argparse.Namespace, workflow: str, state_path: str,
           signal: int | None, warnings: tuple[list[str], int] = ([], 0),
           failures: Failures | None = None) -> int:
    """Print the summary (text, or one JSON object with --format json); the exit code."""
    failures = failures if failures is not None else Failures()
    code = (1 if s.failure is not None else 128 + signal if signal is not None
            else 1 if s.failed or s.unknown else 0)
    if wants_json(args):
        counts = {k: getattr(s, k) for k in ("read", "skipped", "delivered", "failed",
                                             "unknown", "dead", "fanned", "items", "empty")}
        print_summary_json("run", workflow, counts, failures, state_path, code,
                           dry_run=args.dry_run, signal=signal, warnings=warnings[0],
                           **({"error": str(s.failure)} if s.failure is not None else {}))
        return code
    out = sys.stderr if args.dry_run else sys.stdout
    done = "transformed" if args.dry_run else "delivered"
    line = f"{workflow}: read {s.read}, {done} {s.delivered}, failed {s.failed}"
    if s.fanned:  # deliveries count items, failures records: say so
        line = (f"{workflow}: read {s.read} records, {s.items} items after "
                f"fan-out: {done} {s.delivered} items, failed {s.failed} records "
                f"({s.dead} dead letters)")
        if s.empty:
            line += f", {s.empty} records gave no items"
    if s.unknown:
        line += f", outcome unknown {s.unknown}"
    if s.skipped:
        line += (f"; {s.skipped} of them skipped, done in an earlier run (--restart "
                 "runs them again)")
    print(line, file=out)
    if (s.failed or s.unknown) and out is sys.stdout:
        print_failures(args, failures, state_path)
    shown, warned = warnings
    for warning in shown:  # keys the target could not use: never silent
        print(f"warning: {warning}", file=sys.stderr)
    if warned > len(shown):
        print(f"warning: ... and {warned - len(shown)} more ignored keys (--trace shows each "
              "record's)", file=sys.stderr)
    if s.skipped_unknown:
        print(f"{s.skipped_unknown} skipped record(s) have an unknown outcome from an earlier "
              "run: check the receiving side, then --retry-unknown sends them again", file=out)
    if s.failed or s.unknown:
        where = f"the dead_letters table of {state_path}"
        if args.dead_letter:
            where += f" and {args.dead_letter}"
        print(f"failed records are in {where}", file=out)
    if s.unknown:
        print(f"{s.unknown} record(s) may or may not have reached the receiving side "
              "(dead letters outcome-unknown): they are not sent again by a rerun; check, then "
              "--retry-unknown sends them again", file=out)
    if s.failure is not None:
        print(f"manifest-runtime: error: the state file failed: {s.failure}; the records "
              "counted above are recorded, nothing is half-written: run the same command "
              "again once it is fixed", file=sys.stderr)
    elif signal is not None:
        print("stopped before the end: run the same command again to resume",
              file=sys.stderr)
    return code



def open_dead_letter(path: str | None) -> TextIO | None:
    if path is None:
        return None
    try:
        return open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--dead-letter {path}: cannot write it ({exc.strerror})") from None


def write_dead(file: TextIO | None, dead: list[DeadLetter]) -> None:
    if file is None or not dead:
        return
    for d in dead:
        file.write(json.dumps(d.as_json(), ensure_ascii=False) + "\n")
    file.flush()
