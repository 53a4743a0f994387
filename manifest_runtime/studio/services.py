"""What the command line hands the studio: how to open HTTP clients, run-wide environments,
state files and pipelines with the options it was given (--replay, --credentials, --state,
...), so the page runs exactly what `setup` and `run` run. Typed callables, no argparse."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..http.client import HttpClient
    from ..http.credentials import Credentials
    from ..http.redact import Redactor
    from ..http.trace import TraceFn
    from ..model import CompiledManifest
    from ..pipeline.batch import RecordResult, Summary
    from ..runtime.context import Env
    from ..state import StateFile
    from ..workflows import Workflow


@dataclass(frozen=True)
class RunRequest:
    """Records to run through a workflow's pipeline, as `run --input/--contacts` would."""

    lines: Sequence[str]
    restart: bool = False
    dry_run: bool = False


@dataclass(frozen=True)
class Services:
    state_path: str
    replaying: bool
    # the credentials --credentials FILE and MANIFEST_RUNTIME_* give an auth
    base_credentials: Callable[[str | None], Credentials]
    # (compiled, auth name, credentials, redactor, attempt sink) -> a client
    open_http: Callable[[CompiledManifest, str | None, Credentials, Redactor, TraceFn],
                        HttpClient]
    # (compiled, state, client) -> the run-wide Env (account: sandbox or --ac-url)
    make_env: Callable[[CompiledManifest, StateFile, HttpClient], Env]
    open_state: Callable[[], StateFile]
    # (compiled, workflow, request, per-record callback) -> the summary and the run's trace
    # lines (every step and HTTP attempt, as `run --trace` prints them): the batch engine
    # under one writer per workflow
    run_records: Callable[[CompiledManifest, Workflow, RunRequest,
                           Callable[[RecordResult], None]], tuple[Summary, list[str]]]
    extra: dict[str, Any] | None = None
