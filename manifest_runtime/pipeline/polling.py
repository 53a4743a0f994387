"""A polling data_intake's cycle (reference §4.2, DESIGN §4):

    initial_setup   once, before the first cycle (or after --reset)
    pre_poll        once per cycle
    request         repeatedly: {results: [...], iterate: bool, polling_state: {...}}
    post_poll       once per cycle, after the requests

After a lifecycle command whose output has a top-level `polling_state`, that value replaces
the stored state and is `${polling_state}` from then on. `request`'s results each go through
the workflow's pipeline (one record per item); the state it returned is stored only once its
results have all ended (delivered or dead-lettered), so a crash mid-page polls that page again
rather than losing it. The request loop ends when `iterate` is false, `results` is null or
empty, `results` equals the previous request's, after 100 requests, or once more than 1,000
results came in this cycle.

A workflow's `historical_data_intake` is a one-time import (reference §4.3): App Studio runs it
once per setup. `HistoricalImports` (table `historical_imports` of the state file) records when
it started and when a cycle of it completed (ran to an exit rule, not cut by a stop request or
an error); `poll` does not run a completed import again until `poll --reset` or a new `setup`
of the workflow forgets it. An interrupted or failed import goes on from its stored
polling_state on the next `poll`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError
from ..expressions.nodes import Missing
from ..runtime.run import run_node
from ..store import StateDB
from .records import Record

if TYPE_CHECKING:
    from ..model import CompiledManifest, Node
    from ..paths import Path
    from ..runtime.context import EvalContext
    from .runner import Outcome, Pipeline

MAX_REQUESTS = 100
MAX_RESULTS = 1000
LIFECYCLE = ("initial_setup", "pre_poll", "request", "post_poll")

ContextFor = Callable[[Any], "EvalContext"]  # polling_state (or Missing) -> context
STOP_ASKED = "a stop was asked for"


@dataclass
class CycleReport:
    requests: int = 0
    results: int = 0
    stopped_by: str = ""

    @property
    def complete(self) -> bool:
        """Did the cycle end by an exit rule (not by a stop request)?"""
        return self.stopped_by != STOP_ASKED

    @property
    def capped(self) -> bool:
        """Did the cycle end at a per-cycle limit, with more results likely waiting?"""
        return self.stopped_by in (f"{MAX_REQUESTS} requests this cycle",
                                   f"more than {MAX_RESULTS} results this cycle")


_HISTORICAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS historical_imports (
    workflow    TEXT PRIMARY KEY,
    intake      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,              -- NULL: not completed (running, interrupted or failed)
    requests    INTEGER NOT NULL DEFAULT 0,
    results     INTEGER NOT NULL DEFAULT 0,
    stopped_by  TEXT
);
"""


@dataclass(frozen=True)
class HistoricalImport:
    """One workflow's historical import, as the state file records it."""

    workflow: str
    intake: str
    started_at: str
    finished_at: str | None
    requests: int
    results: int
    stopped_by: str | None

    @property
    def status(self) -> str:
        return "completed" if self.finished_at else "started, not completed"

    def as_json(self) -> dict[str, Any]:
        return {"intake": self.intake, "status": self.status, "started_at": self.started_at,
                "finished_at": self.finished_at, "requests": self.requests,
                "results": self.results, "stopped_by": self.stopped_by}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class HistoricalImports:
    """The `historical_imports` table, on the state file's connection and lock."""

    def __init__(self, db: StateDB, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock
        with self._lock, self._db:
            self._db.executescript(_HISTORICAL_SCHEMA)

    def get(self, workflow: str) -> HistoricalImport | None:
        with self._lock:
            row = self._db.execute(
                "SELECT workflow, intake, started_at, finished_at, requests, results, "
                "stopped_by FROM historical_imports WHERE workflow = ?", (workflow,)).fetchone()
        return HistoricalImport(*row) if row else None

    def all(self) -> list[HistoricalImport]:
        with self._lock:
            rows = self._db.execute(
                "SELECT workflow, intake, started_at, finished_at, requests, results, "
                "stopped_by FROM historical_imports ORDER BY workflow").fetchall()
        return [HistoricalImport(*row) for row in rows]

    def started(self, workflow: str, intake: str) -> None:
        """A cycle begins (the first one sets started_at)."""
        with self._lock, self._db:
            self._db.execute("INSERT OR IGNORE INTO historical_imports (workflow, intake, "
                             "started_at) VALUES (?, ?, ?)", (workflow, intake, _now()))

    def cycle_ended(self, workflow: str, report: CycleReport) -> None:
        """Count a cycle's requests and results; a complete cycle completes the import."""
        with self._lock, self._db:
            self._db.execute(
                "UPDATE historical_imports SET requests = requests + ?, results = results + ?, "
                "stopped_by = ?, finished_at = ? WHERE workflow = ?",
                (report.requests, report.results, report.stopped_by,
                 _now() if report.complete else None, workflow))

    def forget(self, workflow: str) -> None:
        """`poll --reset` or a new setup: the import is to run again."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM historical_imports WHERE workflow = ?", (workflow,))


class Poller:
    """One polling intake feeding one workflow's pipeline."""

    def __init__(self, compiled: CompiledManifest, intake_index: int, pipeline: Pipeline,
                 context_for: ContextFor, load_state: Callable[[], Any],
                 save_state: Callable[[Any], None],
                 on_outcome: Callable[[Outcome], None],
                 should_stop: Callable[[], bool] = lambda: False,
                 initialised: Callable[[], None] = lambda: None) -> None:
        base: Path = ("data_intake", intake_index)
        self.nodes: dict[str, Node] = {}
        for name in LIFECYCLE:
            node = compiled.node_at((*base, name))
            if node is not None:
                self.nodes[name] = node
        if "request" not in self.nodes:
            raise ValueError("a polling intake needs a request command")
        self.path = base
        self.pipeline = pipeline
        self.context_for = context_for
        self.load_state = load_state
        self.save_state = save_state
        self.on_outcome = on_outcome
        self.should_stop = should_stop  # checked between requests (a page is never cut)
        self.initialised = initialised  # called once initial_setup has succeeded
        # a historical import: (imports table, workflow, intake), recorded per cycle
        self.history: tuple[HistoricalImports, str, str] | None = None
        # the sandbox of the state file is the target: a page's records, their dead letters
        # (`journal`) and the polling_state after them are one transaction (`batch`, e.g.
        # StateFile.batch); `on_outcome` then only reports, once the page is committed
        self.batch: Callable[[], AbstractContextManager[Any]] | None = None
        self.journal: Callable[[Outcome], None] = lambda outcome: None
        self._record_no = 0

    def cycle(self, first: bool) -> CycleReport:
        """One poll: initial_setup when `first`, pre_poll, the requests, post_poll. Raises
        EvaluationError when a lifecycle command fails (records already ended stay so)."""
        report = CycleReport()
        if self.history is not None:
            imports, workflow, intake = self.history
            imports.started(workflow, intake)
        if first:
            self._lifecycle("initial_setup")
            self.initialised()
        self._lifecycle("pre_poll")
        failure: EvaluationError | None = None
        try:
            self._requests(report)
        except EvaluationError as exc:
            failure = exc
        try:  # post_poll is the cycle's cleanup: it runs even after a failed request
            self._lifecycle("post_poll")
        except EvaluationError:
            if failure is None:
                raise
        if failure is not None:  # the first error is the one reported
            raise failure
        if self.history is not None:
            imports, workflow, _ = self.history
            imports.cycle_ended(workflow, report)
        return report

    def _requests(self, report: CycleReport) -> None:
        previous: Any = Missing
        while True:
            state = self.load_state()
            output = run_node(self.nodes["request"], None, self.context_for(state))
            results, iterate, new_state = self._request_output(output)
            report.requests += 1
            if results and results == previous:  # a server ignoring the paging: not again
                if new_state is not Missing:
                    self.save_state(new_state)
                report.stopped_by = "the same results as the previous request"
                return
            if self.batch is not None:
                self._page_batched(results or [], new_state)
            else:
                for item in results or ():
                    self._record_no += 1
                    outcome = self.pipeline.process(Record(self._record_no, item))
                    self.on_outcome(outcome)  # not kept: a poll of 1M records stays small
                if new_state is not Missing:
                    self.save_state(new_state)
            report.results += len(results or ())
            stop = _stop_reason(results, iterate, report) or \
                (STOP_ASKED if self.should_stop() else "")
            if stop:
                report.stopped_by = stop
                return
            previous = results

    def _page_batched(self, results: list[Any], new_state: Any) -> None:
        """A page in one transaction. A record whose write had to be rolled back spoils it:
        then the page runs again record by record (each write and its dead letters on their
        own, the polling_state last), as without a batch."""
        assert self.batch is not None
        first = self._record_no
        with self.batch() as db:
            outcomes = []
            for item in results:
                self._record_no += 1
                outcomes.append(self.pipeline.process(Record(self._record_no, item)))
            for outcome in outcomes:
                self.journal(outcome)
            if new_state is not Missing:
                self.save_state(new_state)
        if not getattr(db, "spoiled", False):
            for outcome in outcomes:
                self.on_outcome(outcome)
            return
        del outcomes
        self._record_no = first
        for item in results:
            self._record_no += 1
            outcome = self.pipeline.process(Record(self._record_no, item))
            self.journal(outcome)
            self.on_outcome(outcome)
        if new_state is not Missing:
            self.save_state(new_state)

    def _lifecycle(self, name: str) -> None:
        node = self.nodes.get(name)
        if node is None:
            return
        output = run_node(node, None, self.context_for(self.load_state()))
        if isinstance(output, dict) and "polling_state" in output:
            self.save_state(output["polling_state"])

    def _request_output(self, output: Any) -> tuple[list[Any] | None, bool, Any]:
        where = (*self.path, "request")
        if not isinstance(output, dict):
            raise EvaluationError(Diagnostic(
                "polling-output", f"a polling request must output an object "
                f"{{results, iterate, polling_state}}, got {type(output).__name__}", where,
                hint='end the request with e.g. !jq "{results: .body.items, iterate: '
                '(.body.next != null), polling_state: {cursor: .body.next}}"'))
        results = output.get("results")
        if results is not None and not isinstance(results, list):
            raise EvaluationError(Diagnostic(
                "polling-output", f"the request's results must be an array, got "
                f"{type(results).__name__}", where,
                hint="results holds the items; each is fed to the data_pipeline"))
        iterate = output.get("iterate") is True
        return results, iterate, output.get("polling_state", Missing)


def _stop_reason(results: list[Any] | None, iterate: bool, report: CycleReport) -> str:
    if not results:
        return "no results"
    if not iterate:
        return "iterate is false"
    if report.requests >= MAX_REQUESTS:
        return f"{MAX_REQUESTS} requests this cycle"
    if report.results > MAX_RESULTS:
        return f"more than {MAX_RESULTS} results this cycle"
    return ""
