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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError
from ..expressions.nodes import Missing
from ..runtime.run import run_node
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


@dataclass
class CycleReport:
    requests: int = 0
    results: int = 0
    stopped_by: str = ""


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
        self._record_no = 0

    def cycle(self, first: bool) -> CycleReport:
        """One poll: initial_setup when `first`, pre_poll, the requests, post_poll. Raises
        EvaluationError when a lifecycle command fails (records already ended stay so)."""
        report = CycleReport()
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
            for item in results or ():
                self._record_no += 1
                outcome = self.pipeline.process(Record(self._record_no, item))
                self.on_outcome(outcome)  # not kept: a poll of 1M records stays small
            report.results += len(results or ())
            if new_state is not Missing:
                self.save_state(new_state)
            stop = _stop_reason(results, iterate, report) or \
                ("a stop was asked for" if self.should_stop() else "")
            if stop:
                report.stopped_by = stop
                return
            previous = results

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
