"""The many-records engine: a workflow's pipeline over an iterator of records, resumable and
exactly-once where the target allows it (docs/pipeline.md "Resume"). No argparse, no
printing: the caller gets one `RecordResult` per record, in input order (`on_result`), and
the `Summary` at the end.

* Each record's identity (pipeline/records.py) is looked up in the journal, a chunk at a
  time: records delivered before are skipped, failed ones too (unless `retry_failed`), and
  records whose outcome is unknown are never sent again unless `retry_unknown` (`restart`
  runs everything).
* One record at a time (`concurrency` 1, the default) is a plain loop in the calling thread;
  more run on a thread pool, their results handed on in input order.
* HTTP targets: each record's end is journaled the moment it ends; a request that is not
  idempotent is preceded by the record's committed `sending` mark (pipeline/sending.py), so
  a killed process leaves records whose outcome is unknown, never records sent twice.
* `batched` (the target is the sandbox account in the state file itself, and no step sends
  HTTP): a chunk's records, their contacts and their journal rows are one transaction, so a
  crash keeps or loses the whole chunk and a rerun repeats nothing.
* A stop (`should_stop`) takes no new record; the ones in flight end and are recorded. A
  failing state file (sqlite3.Error: disk full, ...) stops the run with nothing half-written;
  it is returned in `Summary.failure`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

from ..errors import Diagnostic
from .journal import DeadLetter, Ended, Journal, State
from .sending import GuardedHttp
from .tracebuf import capture

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

    from ..state import StateFile
    from .records import Record
    from .runner import Outcome, Pipeline

Status = Literal["delivered", "failed", "unknown", "skipped"]
UNCERTAIN_CODES = frozenset({"http-timeout", "http-connect"})
UNKNOWN_HINT = ("check on the receiving side whether it arrived; `run --retry-unknown` sends "
                "it again")


@dataclass(frozen=True)
class BatchOptions:
    concurrency: int = 1
    limit: int | None = None  # records run (skipped ones do not count)
    dry_run: bool = False  # source and transform only; nothing journaled
    restart: bool = False  # run every record, whatever the journal says
    retry_failed: bool = False  # run again the records that failed before
    retry_unknown: bool = False  # send again the records whose outcome is unknown
    batched: bool = False  # one transaction per chunk (the sandbox of the state file)
    chunk: int = 500  # records looked up (and, batched, committed) at once
    idempotency_header: str | None = None  # e.g. "Idempotency-Key": the record's identity
    sandbox_account: bool = True  # !http target activecampaign stays in the state file
    # line -> state recorded for this very file by a state file of version 1 (resume marks
    # keyed by the file's SHA-256): those lines count as done, and get their identity row
    legacy: Mapping[int, State] = field(default_factory=dict)


@dataclass(slots=True)
class RecordResult:
    """How one record ended (or why it did not run). Made once per record and never changed
    afterwards (not `frozen`: a frozen dataclass costs ~2 µs a record to build)."""

    line: int
    key: str | None  # its identity
    status: Status
    code: str | None = None  # the first dead letter's code
    reason: str | None = None  # the first dead letter's message, one line
    earlier: State | None = None  # skipped: what an earlier run recorded
    items: int | None = None  # fanned out into this many items (else None)
    delivered: int = 0  # items delivered (dry run: transformed)
    dead: tuple[DeadLetter, ...] = ()
    outputs: tuple[Any, ...] = ()  # transformed (dry run) or target outputs
    trace: tuple[str, ...] = ()  # its --trace lines, whole
    warnings: tuple[str, ...] = ()  # keys the target could not use (never dropped silently)

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "id": self.key, "status": self.status, "code": self.code,
                "reason": self.reason, **({"earlier": self.earlier} if self.earlier else {})}


@dataclass
class Summary:
    read: int = 0  # = delivered + failed + unknown + skipped (records)
    skipped: int = 0
    skipped_unknown: int = 0  # skipped because an earlier run left their outcome unknown
    delivered_records: int = 0
    failed: int = 0  # records with at least one dead letter
    unknown: int = 0  # records whose outcome is unknown
    delivered: int = 0  # items delivered (records when nothing fans out)
    dead: int = 0  # dead letters (a fanned-out record can have several)
    fanned: int = 0  # records whose source output an array
    items: int = 0  # items after fan-out
    empty: int = 0  # records whose source output an empty array: nothing to deliver
    stopped: bool = False  # should_stop ended the run early
    failure: sqlite3.Error | None = None  # the state file failed: the run stopped

    def merge(self, other: Summary) -> None:
        """Add the counts of another part of the same run (pipeline/distributed.py)."""
        for name in ("read", "skipped", "skipped_unknown", "delivered_records", "failed",
                     "unknown", "delivered", "dead", "fanned", "items", "empty"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.stopped = self.stopped or other.stopped
        self.failure = self.failure or other.failure

    def add(self, r: RecordResult) -> None:
        self.read += 1
        if r.status == "skipped":
            self.skipped += 1
            self.skipped_unknown += r.earlier in ("unknown", "sending")
            return
        self.delivered += r.delivered
        self.dead += len(r.dead)
        self.delivered_records += r.status == "delivered"
        self.failed += r.status == "failed"
        self.unknown += r.status == "unknown"
        self.items += 1 if r.items is None else r.items
        self.fanned += 0 if r.items is None else 1
        self.empty += 1 if r.items == 0 else 0

    def add_outcome(self, o: Outcome) -> None:
        """`add(outcome_result(o))` without making the result (poll: once per result)."""
        self.read += 1
        self.delivered += o.delivered
        if o.dead:
            self.dead += len(o.dead)
            self.failed += 1
        else:
            self.delivered_records += 1
        if o.items is None:
            self.items += 1
        else:
            self.items += o.items
            self.fanned += 1
            self.empty += o.items == 0


OnResult = Callable[[RecordResult], None]


class BatchRun:
    """One run of a pipeline over records (see the module's doc)."""

    def __init__(self, pipeline: Pipeline, state: StateFile | None, options: BatchOptions,
                 *, on_result: OnResult | None = None,
                 should_stop: Callable[[], bool] = lambda: False) -> None:
        self.pipeline = pipeline
        self.state = state
        self.options = options
        self.journal = Journal(state.db, state.lock) \
            if state is not None and not options.dry_run else None
        self.on_result = on_result
        self.should_stop = should_stop
        self.summary = Summary()
        self._taken = 0
        self._order = _InOrder(self._emit)
        self._guard = self.journal is not None and pipeline.sends_http and \
            pipeline.env.http is not None
        self._batched = options.batched and self.journal is not None and \
            state is not None and not pipeline.sends_http

    def run(self, records: Iterable[Record]) -> Summary:
        workers = max(1, self.options.concurrency)
        try:
            if workers == 1:  # one at a time: a straight loop in this thread, no executor
                for chunk in _chunks(records, self.options.chunk):
                    if not self._chunk(chunk, None, set()):
                        break
            else:
                from concurrent.futures import ThreadPoolExecutor  # with --concurrency only

                with ThreadPoolExecutor(max_workers=workers,
                                        thread_name_prefix="record") as pool:
                    pending: set[Future[tuple[int, RecordResult]]] = set()
                    try:
                        for chunk in _chunks(records, self.options.chunk):
                            if not self._chunk(chunk, pool, pending):
                                break
                    finally:
                        self._drain(pending, all_of_them=True)
        except sqlite3.Error as exc:
            self.summary.failure = exc
            self._order.flush()  # the records that ended after the one that failed
        return self.summary

    # ------------------------------------------------------------------ planning

    def _chunk(self, chunk: list[Record], pool: ThreadPoolExecutor | None,
               pending: set[Future[tuple[int, RecordResult]]]) -> bool:
        """Plan and run one chunk; False when the run ends here (stop, limit)."""
        keys = [r.key for r in chunk if r.key is not None]
        states = self.journal.states(self.pipeline.name, keys) \
            if self.journal is not None and keys else {}
        jobs: list[tuple[int, Record]] = []
        ends: list[Ended] = []
        go_on = True
        for record in chunk:
            if self.should_stop():
                self.summary.stopped = True
                go_on = False
                break
            if self.options.limit is not None and self._taken >= self.options.limit:
                go_on = False
                break
            earlier = states.get(record.key) if record.key is not None else None
            if earlier is None and record.number in self.options.legacy \
                    and record.key is not None:
                earlier = self.options.legacy[record.number]
                ends.append(Ended(record.key, record.number, earlier))  # carried over
                if not self._batched:
                    self._journal_ended(ends.pop())
            seq = self._order.next()
            action = self._decide(earlier)
            if action == "skip":
                self._order.put(seq, RecordResult(record.number, record.key, "skipped",
                                                  earlier=earlier))
            elif action == "unknown":  # left `sending` by a process that died
                result = self._left_sending(record)
                ends.append(Ended(str(record.key), record.number, "unknown", result.dead))
                if not self._batched:
                    self._journal_ended(ends.pop())
                self._order.put(seq, result)
            else:
                self._taken += 1
                if self._batched:
                    jobs.append((seq, record))
                else:
                    self._submit(pool, pending, seq, record)
        if self._batched and (jobs or ends):
            self._run_batch(pool, jobs, ends)
        return go_on

    def _decide(self, earlier: State | None) -> Literal["run", "skip", "unknown"]:
        o = self.options
        if earlier is None or o.restart:
            return "run"
        if earlier == "failed":
            return "run" if o.retry_failed else "skip"
        if earlier in ("sending", "unknown"):
            if o.retry_unknown:
                return "run"
            return "unknown" if earlier == "sending" else "skip"
        return "skip"

    def _left_sending(self, record: Record) -> RecordResult:
        dead = self.pipeline.dead_letter(record, "target", Diagnostic(
            "outcome-unknown", f"line {record.number}: an earlier run stopped (its process "
            "was killed) while this record's request was in flight: the receiving side may "
            "or may not have acted on it; it is not sent again automatically",
            self.pipeline.target_path, hint=UNKNOWN_HINT))
        return _result(record, "unknown", (dead,))

    # ------------------------------------------------------------------ running

    def _submit(self, pool: ThreadPoolExecutor | None,
                pending: set[Future[tuple[int, RecordResult]]], seq: int, record: Record
                ) -> None:
        if pool is None:  # in this thread, now
            self._order.put(*self._one(seq, record, True))
            return
        pending.add(pool.submit(self._one, seq, record, True))
        if len(pending) >= 2 * max(1, self.options.concurrency):
            self._drain(pending, all_of_them=False)

    def _drain(self, pending: set[Future[tuple[int, RecordResult]]], all_of_them: bool) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait

        failure: BaseException | None = None
        while pending:
            done, rest = wait(pending, return_when=FIRST_COMPLETED)
            pending.intersection_update(rest)
            for future in done:
                try:
                    seq, result = future.result()
                except BaseException as exc:  # the state file failed: finish the others
                    failure = failure or exc
                    continue
                self._order.put(seq, result)
            if not all_of_them and failure is None:
                break
        if failure is not None:
            raise failure

    def _run_batch(self, pool: ThreadPoolExecutor | None, jobs: list[tuple[int, Record]],
                   ends: list[Ended]) -> None:
        """One transaction: the records' writes and their journal rows. A record whose write
        had to be rolled back spoils it: then the chunk runs again record by record."""
        assert self.state is not None and self.journal is not None
        with self.state.batch() as db:
            if pool is None:  # in this thread; a state-file failure ends the batch at once
                results = [self._one(seq, record, False) for seq, record in jobs]
            else:
                from concurrent.futures import wait

                futures = [pool.submit(self._one, seq, record, False) for seq, record in jobs]
                wait(futures)  # all of them, even when one failed: nothing runs after it
                results = [f.result() for f in futures]
            self.journal.ended(self.pipeline.name, ends + [
                Ended(str(r.key), r.line, _state(r), r.dead)
                for _, r in results if r.key is not None], commit=False)
            for _, r in results:
                if r.key is None:
                    self.journal.finish(None, r.line, list(r.dead))
        if not db.spoiled:
            for seq, result in results:
                self._order.put(seq, result)
            return
        for end in ends:
            self._journal_ended(end)
        pending: set[Future[tuple[int, RecordResult]]] = set()
        try:
            for seq, record in jobs:
                self._submit(pool, pending, seq, record)
        finally:
            self._drain(pending, all_of_them=True)

    def _one(self, seq: int, record: Record, journal_now: bool) -> tuple[int, RecordResult]:
        """Run one record (a worker thread); journal its end unless in a batch."""
        guard = None
        if self._guard and record.key is not None:
            assert self.journal is not None and self.pipeline.env.http is not None
            journal, name, key, line = self.journal, self.pipeline.name, record.key, \
                record.number
            guard = GuardedHttp(self.pipeline.env.http, key,
                                lambda: journal.sending(name, key, line),
                                self.options.idempotency_header,
                                self.options.sandbox_account)
        trace: tuple[str, ...] = ()
        if self.options.concurrency <= 1:  # one at a time: the trace shows as it happens
            outcome = self.pipeline.process(record, guard)
        else:
            with capture() as lines:
                outcome = self.pipeline.process(record, guard)
            trace = tuple(lines)
        dead = tuple(outcome.dead)
        if guard is not None and guard.uncertain:
            dead = tuple(_unknown(d) if d.code in UNCERTAIN_CODES else d for d in dead)
        status: Status = "unknown" if any(d.code == "outcome-unknown" for d in dead) else \
            "failed" if dead else "delivered"
        result = _result(record, status, dead, outcome, trace, self.options.dry_run)
        if journal_now:
            if record.key is not None:
                self._journal_ended(Ended(record.key, record.number, _state(result), dead))
            elif self.journal is not None:
                self.journal.finish(None, record.number, list(dead))
        return seq, result

    def _journal_ended(self, end: Ended) -> None:
        if self.journal is not None:
            self.journal.ended(self.pipeline.name, [end])

    def _emit(self, result: RecordResult) -> None:
        self.summary.add(result)
        if self.on_result is not None:
            self.on_result(result)


def _state(result: RecordResult) -> State:
    return "delivered" if result.status == "delivered" else \
        "unknown" if result.status == "unknown" else "failed"


def outcome_result(outcome: Outcome, key: str | None = None) -> RecordResult:
    """A record's result from the pipeline's outcome (poll, serve: no journal by identity)."""
    from .records import Record

    dead = tuple(outcome.dead)
    return _result(Record(outcome.record_no, None, key=key), "failed" if dead else "delivered",
                   dead, outcome)


def _result(record: Record, status: Status, dead: tuple[DeadLetter, ...],
            outcome: Outcome | None = None, trace: tuple[str, ...] = (),
            dry_run: bool = False) -> RecordResult:
    if not dead and outcome is not None:  # the common case, kept short
        return RecordResult(record.number, record.key, status, None, None, None, outcome.items,
                            len(outcome.outputs) if dry_run else outcome.delivered, (),
                            tuple(outcome.outputs), trace, tuple(outcome.warnings))
    first = dead[0] if dead else None
    reason = None
    if first is not None:
        reason = first.message.splitlines()[0] if first.message else first.code
        reason = reason if len(reason) <= 200 else reason[:197] + "..."
    return RecordResult(
        record.number, record.key, status, first.code if first else None, reason,
        items=outcome.items if outcome else None,
        delivered=(len(outcome.outputs) if dry_run else outcome.delivered) if outcome else 0,
        dead=dead,
        outputs=tuple(outcome.outputs) if outcome else (), trace=trace,
        warnings=tuple(outcome.warnings) if outcome else ())


def _unknown(d: DeadLetter) -> DeadLetter:
    from dataclasses import replace

    return replace(d, code="outcome-unknown", message=(
        f"the request may have reached the receiving side, but no answer came back "
        f"({d.message}); it is not sent again automatically"), hint=UNKNOWN_HINT)


def _chunks(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    it = iter(records)
    while chunk := list(islice(it, max(1, size))):
        yield chunk


@dataclass
class _InOrder:
    """Results handed on in input order, whatever order they end in."""

    emit: Callable[[RecordResult], None]
    _next_seq: int = 0
    _due: int = 0
    _waiting: dict[int, RecordResult] = field(default_factory=dict)

    def next(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def flush(self) -> None:
        """Hand on the results still waiting for one that will never come."""
        for seq in sorted(self._waiting):
            self.emit(self._waiting.pop(seq))

    def put(self, seq: int, result: RecordResult) -> None:
        self._waiting[seq] = result
        while self._due in self._waiting:
            self.emit(self._waiting.pop(self._due))
            self._due += 1
