"""`run --workers N` / `run --scheduler ADDRESS`: the batch engine (pipeline/batch.py) over parts
of one JSON Lines file, on Dask distributed: a `LocalCluster` of N worker processes embedded
in the command, or the workers of a running cluster (`tcp://host:8786`). No argparse, no
printing: the caller gets the notable results in input order, the progress, and the Summary.

1. The file is split into byte ranges (pipeline/chunks.py); a first cheap pass (one task per
   part) counts each part's lines and the digests of its lines, so the driver can give each
   part its first line number and the ordinals of the lines it shares with earlier parts:
   a record has the same identity as in a single-process run, and the two resume each other.
2. Each part is one task: the worker compiles the manifest once per process (cached by the
   manifest's SHA-256), opens the pipeline from the shipped `PipelineOptions` against the
   shared state and runs `BatchRun` over its records. The journal does the rest: a task
   retried after its worker died skips what the dead attempt delivered; a request that was
   in flight ends `unknown`, as a killed single-process run leaves it.
3. The driver holds the workflow (one writer per workflow, state.claim) for the whole run;
   the workers write under that claim.

Paths in the options (manifest, input, state file, credentials, cassette) must be the same
on every worker: local processes share them; a remote cluster needs them on a shared file
system, and a state every worker reaches (PostgreSQL; a SQLite file is refused there).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import UsageError
from .batch import BatchOptions, RecordResult, Summary

if TYPE_CHECKING:
    from distributed import Client

    from ..model import CompiledManifest
    from .chunks import Part
    from .opening import PipelineOptions, Reporter

DEFAULT_SCHEDULER_PORT = 8786
TOPIC = "manifest-runtime-progress"
CHECK_EVERY = 0.5  # seconds between a worker's looks at the stop event / progress reports
CLAIM_EVERY = 2.0  # seconds between a worker's looks at the workflow's claim
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


@dataclass(frozen=True)
class ClusterOptions:
    workers: int | None = None  # an embedded LocalCluster of this many worker processes
    scheduler: str | None = None  # or the address of a running scheduler
    part_bytes: int | None = None  # bytes per part (default: pipeline/chunks.py `split`)
    retries: int = 3  # a part that raised is run again this many times


@dataclass(frozen=True)
class Job:
    """What every part's task gets (small: the manifest's text, not the input)."""

    manifest_sha: str
    manifest_text: bytes
    options: PipelineOptions  # paths absolute
    workflow: str
    batch: BatchOptions  # without `legacy` (each part gets its own lines')
    input: str  # absolute
    salt: str  # the identities' salt (pipeline/records.py)
    reporter: Reporter  # where workers' messages go (module-level functions)
    jq_engine: str | None
    run_id: str
    owner: str  # "host:pid" of the command: the workflow's claim (table workflow_owners)


@dataclass(frozen=True)
class PartResult:
    index: int
    summary: Summary
    results: tuple[RecordResult, ...]  # failed, unknown or with warnings, in input order


@dataclass(frozen=True)
class Progress:
    """Records ended so far, over all parts."""

    done: int = 0
    delivered: int = 0
    failed: int = 0
    skipped: int = 0


class WorkersFailed(Exception):
    """A part ended in an error on the workers, after its retries (a worker died with it
    each time, or it raised): the other parts were stopped and have ended; what ended is
    recorded. `summary`: the parts that ended."""

    def __init__(self, message: str, summary: Summary) -> None:
        super().__init__(message)
        self.summary = summary


def shared_state(state: str) -> bool:
    """Is the state a server every worker can reach (not a SQLite file)?"""
    from ..store import is_postgres

    return is_postgres(state)


def loopback(address: str) -> bool:
    """Does the scheduler address name this machine (then its workers are local too)?"""
    host = urlsplit(address if "://" in address else f"tcp://{address}").hostname or ""
    return host in LOOPBACK


def check(cluster: ClusterOptions, state: str) -> None:
    """Usage errors before anything starts."""
    if cluster.scheduler is not None and not shared_state(state) and \
            not loopback(cluster.scheduler):
        raise UsageError(
            f"--scheduler {cluster.scheduler}: the state is the SQLite file {state}, which "
            "workers on other machines cannot share (SQLite over a network file system "
            "loses writes); give a PostgreSQL state (--state postgresql://USER@HOST/DB, "
            "docs/scale.md), or --workers N to run on this machine")
    if state == ":memory:":
        raise UsageError("--state :memory: keeps everything in one process; --workers and "
                         "--scheduler need a state file (or PostgreSQL) the workers share")


def job_for(options: PipelineOptions, workflow: str, batch: BatchOptions, input_path: str,
            salt: str, reporter: Reporter, jq_engine: str | None) -> Job:
    """The job of a run, its paths made absolute (workers may run elsewhere)."""
    from ..state import state_path

    def absolute(path: str | None) -> str | None:
        return None if path is None else os.path.abspath(path)

    state = state_path(options.state)
    http = replace(options.http, credentials=absolute(options.http.credentials),
                   replay=absolute(options.http.replay))
    manifest = os.path.abspath(options.manifest)
    with open(manifest, "rb") as f:
        text = f.read()
    return Job(
        manifest_sha=hashlib.sha256(text).hexdigest(), manifest_text=text,
        options=replace(options, manifest=manifest, http=http,
                        state=state if shared_state(state) else os.path.abspath(state)),
        workflow=workflow, batch=replace(batch, legacy={}, limit=None),
        input=os.path.abspath(input_path), salt=salt, reporter=reporter,
        jq_engine=jq_engine, run_id=uuid.uuid4().hex[:12],
        owner=f"{socket.gethostname()}:{os.getpid()}")


def run_distributed(job: Job, cluster: ClusterOptions, *,
                    legacy: dict[int, Any] | None = None,
                    on_result: Callable[[RecordResult], None] | None = None,
                    on_progress: Callable[[Progress], None] | None = None,
                    should_stop: Callable[[], bool] = lambda: False) -> Summary:
    """Run the job over its input's parts on the cluster (see the module's doc)."""
    from distributed import Event

    from .chunks import plan, split

    with _client(cluster) as client:
        if cluster.scheduler is None:  # our own workers: Ctrl-C is the command's to handle
            from .dask_plugins import IgnoreInterrupt

            client.register_plugin(IgnoreInterrupt())
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        ranges = split(job.input, workers, cluster.part_bytes)
        scans = client.gather(client.map(_scan, [job.input] * len(ranges), ranges,
                                         [job.salt] * len(ranges), pure=False,
                                         retries=cluster.retries))
        parts = plan(ranges, scans)
        tally = _Tally(on_progress)
        client.subscribe_topic(f"{TOPIC}-{job.run_id}", tally.event)
        stop = Event(f"stop-{job.run_id}", client=client)
        futures = [client.submit(run_part, job, p,
                                 {n: s for n, s in (legacy or {}).items()
                                  if p.first_line <= n < p.first_line + p.lines},
                                 key=f"run-part-{job.run_id}-{p.index}", pure=False,
                                 retries=cluster.retries)
                   for p in parts]
        return _gather(futures, tally, on_result, should_stop, stop.set)


def _gather(futures: list[Any], tally: _Tally, on_result: Callable[[RecordResult], None] | None,
            should_stop: Callable[[], bool], stop: Callable[[], None]) -> Summary:
    """Wait for the parts; hand on their results in input order; the summed Summary."""
    from distributed import wait

    summary = Summary()
    ended: dict[int, PartResult] = {}
    due = 0
    pending = set(futures)
    stopping = False
    failure: BaseException | None = None
    while pending:
        if not stopping and (should_stop() or failure is not None):
            stopping = True
            stop()
        with contextlib.suppress(TimeoutError):
            wait(list(pending), timeout=CHECK_EVERY, return_when="FIRST_COMPLETED")
        for future in [f for f in pending if f.done()]:
            pending.discard(future)
            try:
                part: PartResult = future.result()
            except UsageError:
                raise  # the same on every part (a setup missing, ...): said once
            except Exception as exc:  # after its retries: stop the others, then say so
                failure = failure or exc
                continue
            summary.merge(part.summary)
            tally.ended(part)
            ended[part.index] = part
        while due in ended:
            for r in ended.pop(due).results:
                if on_result is not None:
                    on_result(r)
            due += 1
    for index in sorted(ended):  # after a part that failed: hand on the rest
        for r in ended[index].results:
            if on_result is not None:
                on_result(r)
    summary.stopped = summary.stopped or stopping
    if failure is not None:
        raise WorkersFailed(f"{type(failure).__name__}: {failure}", summary)
    return summary


@contextlib.contextmanager
def _client(cluster: ClusterOptions) -> Iterator[Client]:
    from distributed import Client, LocalCluster

    if cluster.scheduler is not None:
        address = cluster.scheduler if "://" in cluster.scheduler else \
            f"tcp://{cluster.scheduler}"
        try:
            client = Client(address, timeout="10s")
        except OSError as exc:
            raise UsageError(f"--scheduler {cluster.scheduler}: cannot reach a Dask scheduler "
                             f"there ({exc}); start one (`dask scheduler`, then `dask worker "
                             f"{address}` on each machine) or give --workers N to run on "
                             "this machine") from None
        with client:
            yield client
        return
    import logging

    with LocalCluster(n_workers=max(1, cluster.workers or 1), threads_per_worker=1,
                      processes=True, dashboard_address=None, silence_logs=logging.ERROR,
                      host="127.0.0.1",
                      # no dashboard, and the scheduler's HTTP server (always started) on a
                      # free port: its default, 8787, may be taken (a warning, then another)
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as local, \
            Client(local) as client:
        yield client


class _Tally:
    """Progress over all parts: the latest counts each part's worker reported (a retried
    part starts again from 0: its records delivered before count as skipped)."""

    def __init__(self, on_progress: Callable[[Progress], None] | None) -> None:
        self._on_progress = on_progress
        self._parts: dict[int, Progress] = {}
        self._final: set[int] = set()
        self._lock = threading.Lock()

    def event(self, event: Any) -> None:
        index, counts = event[1]
        with self._lock:
            if index in self._final:
                return
            self._parts[index] = Progress(*counts)
        self._report()

    def ended(self, part: PartResult) -> None:
        s = part.summary
        with self._lock:
            self._final.add(part.index)
            self._parts[part.index] = Progress(s.read, s.delivered_records,
                                               s.failed + s.unknown, s.skipped)
        self._report()

    def _report(self) -> None:
        if self._on_progress is None:
            return
        with self._lock:
            parts = list(self._parts.values())
        self._on_progress(Progress(*(sum(getattr(p, f) for p in parts)
                                     for f in ("done", "delivered", "failed", "skipped"))))


# ---------------------------------------------------------------------- on the workers

_COMPILED: dict[tuple[str, str | None], CompiledManifest] = {}
_COMPILED_LOCK = threading.Lock()


def _scan(path: str, part: Any, salt: str) -> Any:
    from .chunks import scan

    return scan(path, part, salt)


def compiled_for(job: Job) -> CompiledManifest:
    """The job's manifest, compiled once per worker process: from its path when the file
    there is the driver's, else from the shipped text (in a private temporary directory)."""
    key = (job.manifest_sha, job.jq_engine)
    with _COMPILED_LOCK:
        found = _COMPILED.get(key)
        if found is not None:
            return found
        from .. import jqfast
        from ..compile import load_and_compile

        jqfast.choose_engine(job.jq_engine)
        path = job.options.manifest
        try:
            with open(path, "rb") as f:
                same = hashlib.sha256(f.read()).hexdigest() == job.manifest_sha
        except OSError:
            same = False
        if not same:
            folder = os.path.join(tempfile.gettempdir(), f"manifest-runtime-{os.getuid()}",
                                  job.manifest_sha[:16])
            os.makedirs(folder, mode=0o700, exist_ok=True)
            path = os.path.join(folder, os.path.basename(path))
            with open(path, "wb") as f:
                f.write(job.manifest_text)
        compiled = load_and_compile(path)
        if not compiled.valid:
            raise UsageError(f"{job.options.manifest}: invalid on a worker (another version "
                             "of manifest-runtime there?)")
        _COMPILED[key] = compiled
        return compiled


def run_part(job: Job, part: Part, legacy: dict[int, Any]) -> PartResult:
    """One part's records through the batch engine, on a worker (a Dask task)."""
    from ..workflows import choose
    from .batch import BatchRun
    from .chunks import range_lines
    from .opening import open_pipeline
    from .records import read_jsonl

    compiled = compiled_for(job)
    workflow = choose(compiled, job.workflow)
    watch = _Watch(job, part.index)
    kept: list[RecordResult] = []

    def on_result(r: RecordResult) -> None:
        watch.add(r)
        if r.dead or r.warnings or r.status == "unknown":
            kept.append(replace(r, outputs=(), trace=()))

    if watch.stopped():
        return PartResult(part.index, Summary(stopped=True), ())
    with open_pipeline(job.options, compiled, workflow, job.reporter) as (state, pipeline, _):
        watch.claimed = lambda: _owner(state, job.workflow) == job.owner
        records = read_jsonl(range_lines(job.input, part.start, part.end), salt=job.salt,
                             first_line=part.first_line, earlier=part.earlier)
        summary = BatchRun(pipeline, state, replace(job.batch, legacy=legacy),
                           on_result=on_result, should_stop=watch.stopped).run(records)
    watch.report()
    return PartResult(part.index, summary, tuple(kept))


def _owner(state: Any, workflow: str) -> str | None:
    """Who holds the workflow now (table workflow_owners, state.claim)."""
    with state.lock:
        row = state.db.execute("SELECT owner FROM workflow_owners WHERE workflow = ?",
                               (workflow,)).fetchone()
    return None if row is None else str(row[0])


class _Watch:
    """A part's task: its progress reported (Worker.log_event) and the stop event looked at,
    each at most every CHECK_EVERY seconds; and, every CLAIM_EVERY seconds, that the command
    still holds the workflow: a command that died leaves its parts running on a remote
    cluster, and the next command to take the workflow over must not have them as a second
    writer (they stop taking records)."""

    def __init__(self, job: Job, index: int) -> None:
        from distributed import Event, get_client, get_worker

        self._worker = get_worker()
        self._event = Event(f"stop-{job.run_id}", client=get_client())
        self._topic = f"{TOPIC}-{job.run_id}"
        self.claimed: Callable[[], bool] = lambda: True
        self._checked = time.monotonic()
        self._index = index
        self._counts = [0, 0, 0, 0]  # done, delivered, failed, skipped
        self._lock = threading.Lock()
        self._said = 0.0
        self._looked = 0.0
        self._stop = False

    def add(self, r: RecordResult) -> None:
        with self._lock:
            c = self._counts
            c[0] += 1
            c[1] += r.status == "delivered"
            c[2] += r.status in ("failed", "unknown")
            c[3] += r.status == "skipped"
        if time.monotonic() - self._said >= CHECK_EVERY:
            self.report()

    def report(self) -> None:
        self._said = time.monotonic()
        with self._lock:
            counts = tuple(self._counts)
        self._worker.log_event(self._topic, (self._index, counts))

    def stopped(self) -> bool:
        now = time.monotonic()
        if not self._stop and now - self._looked >= CHECK_EVERY:
            self._looked = now
            self._stop = self._event.is_set()
        if not self._stop and now - self._checked >= CLAIM_EVERY:
            self._checked = now
            self._stop = not self.claimed()
        return self._stop
