"""What every command that evaluates a manifest sets up the same way: the compiled manifest
(or its errors), the workflow's auth name, the state file, the run-wide `Env` and the step
tracer. Used by eval, setup and run."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from ..errors import UsageError
from ..pipeline.opening import DEFAULT_WEBHOOK_URL, ROOT, needs_setup
from .jq_engine import add_jq_engine_option

__all__ = ["DEFAULT_WEBHOOK_URL", "ROOT", "needs_setup"]


def add_pipeline_options(p: argparse.ArgumentParser, noun: str) -> None:
    """What run, poll and serve share: MANIFEST, --workflow, --dead-letter, --trace,
    --http-output and --state (`noun`: what fails, e.g. "record")."""
    p.add_argument("manifest", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("--workflow", metavar="NAME", help="which workflow (default: the only one)")
    p.add_argument("--dead-letter", metavar="FILE.jsonl",
                   help=f"also append each failed {noun} to this file")
    p.add_argument("--trace", action="store_true",
                   help="print each step and HTTP attempt to stderr")
    p.add_argument("--http-output", choices=("auto", "wrapped", "body"), default="auto",
                   help="!http output shape: as validate decided (auto), or force one")
    add_state_option(p)
    add_jq_engine_option(p)
    add_report_options(p, noun)


def add_report_options(p: argparse.ArgumentParser, noun: str) -> None:
    """How run, poll and serve report: --format, --quiet, --show-failures."""
    from .failures import DEFAULT_SHOWN
    from .output import add_format_option

    add_format_option(p, "the summary (with the failures by error code)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress on stderr (the summary is still printed)")
    p.add_argument("--progress-every", type=_count, default=10, metavar="SECONDS",
                   help="when stderr is not a terminal: one progress line every SECONDS "
                   "(default 10; 0: none; on a terminal a live bar instead)")
    p.add_argument("--show-failures", type=_count, default=DEFAULT_SHOWN, metavar="N",
                   help=f"show up to N failed {noun}s on screen, grouped by error code "
                   f"(default {DEFAULT_SHOWN}; 0: none)")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def existing_state(given: str | None) -> StateFile:
    """The state file for commands that only read it (sandbox, state show): it must exist."""
    from ..state import MEMORY, StateFile, state_path
    from ..store import is_postgres

    path = state_path(given)
    if path != MEMORY and not is_postgres(path) and not os.path.exists(path):
        raise UsageError(f"no state file at {path}: nothing has been set up or run yet "
                         "(commands that evaluate create it), or pass --state PATH")
    return StateFile(path)


def add_state_option(p: argparse.ArgumentParser, what: str = "") -> None:
    """--state, the same for every command (`what` says what this command keeps there)."""
    p.add_argument("--state", metavar="PATH|URL",
                   help=f"the state file{what} (default: $MANIFEST_RUNTIME_STATE or "
                   ".manifest-runtime/state.db; :memory: keeps nothing; a "
                   "postgresql://USER:PASSWORD@HOST/DB URL keeps it in PostgreSQL, shared by "
                   "several processes: docs/state.md)")

if TYPE_CHECKING:
    from ..activecampaign import ActiveCampaign
    from ..errors import Diagnostic
    from ..http.client import HttpClient
    from ..http.redact import Redactor
    from ..model import CompiledManifest
    from ..pipeline.journal import Journal
    from ..pipeline.opening import PipelineOptions
    from ..pipeline.runner import Pipeline
    from ..runtime.context import Env, TraceEvent
    from ..state import StateFile
    from ..workflows import Workflow


def compile_or_report(manifest: str, *, json_errors: bool = False,
                      command: str | None = None) -> CompiledManifest | None:
    """The compiled manifest; None after printing its errors (the caller exits 1): as text
    on stderr, or (`json_errors`, --format json) as one JSON object on stdout."""
    from ..compiled_cache import load_and_compile

    if not os.path.exists(manifest):
        raise UsageError(f"no such file: {manifest}")
    compiled = load_and_compile(manifest)
    if not compiled.valid and json_errors:
        from .output import invalid_manifest, print_json

        print_json(invalid_manifest(manifest, compiled.diagnostics, command))
        return None
    if not compiled.valid:  # stderr: stdout is the command's output (JSON for eval)
        from ..report import render_text

        sys.stderr.write(render_text([d for d in compiled.diagnostics if d.severity == "error"]))
        print(f"{manifest}: invalid; fix the errors before evaluating", file=sys.stderr)
        return None
    return compiled


def report_error(d: Diagnostic, compiled: CompiledManifest, redact: Callable[[str], str]
                 ) -> None:
    """A run-time error on stderr as `validate` shows a diagnostic: located in the manifest
    (file:line:col, caret) unless it is located already or has no place there, and with every
    secret masked."""
    from ..report import render_one

    sys.stderr.write(redact(render_one(located(d, compiled))))


def located(d: Diagnostic, compiled: CompiledManifest) -> Diagnostic:
    """`d` with file:line:col in the manifest, unless located already or placeless."""
    from ..runtime.errors import with_location

    if d.file is None and d.path and d.code != "no-such-node":
        return with_location(d, compiled.source)
    return d


def make_env(args: argparse.Namespace, compiled: CompiledManifest, state: StateFile,
             http: HttpClient, *, ac: ActiveCampaign,
             role: Literal["source", "target"] | None = None,
             contact: dict[str, Any] | None = None) -> Env:
    """The run-wide services (pipeline/opening.py `make_env`), messages on stderr."""
    from ..pipeline import opening
    from .http_options import cli_reporter

    return opening.make_env(compiled, state, http, cli_reporter(), ac=ac,
                            trace=bool(getattr(args, "trace", False)),
                            http_output=getattr(args, "http_output", "auto"), role=role,
                            contact=contact)


def open_state(given: str | None) -> StateFile:
    from ..state import StateFile, state_path

    return StateFile(state_path(given))


class Busy(Exception):
    """Another process writes for the workflow and --no-wait was given (exit 1)."""


@contextmanager
def one_writer(state: StateFile, workflow: str, command: str, no_wait: bool,
               poll: float = 0.5) -> Iterator[None]:
    """Hold the workflow for this process (state.claim): one `run` or `poll` at a time
    writes for a workflow. When another holds it: wait (saying so once), or with `no_wait`
    raise Busy naming it. A mark left by a dead process is taken over."""
    said = False
    while (owner := state.claim(workflow, command)) is not None:
        if no_wait:
            raise Busy(f"workflow {workflow!r} is being written by {owner.describe()} in "
                       f"{state.path}; one run or poll per workflow at a time: wait for it "
                       "(leave out --no-wait) or stop it")
        if not said:
            print(f"waiting: workflow {workflow!r} is being written by {owner.describe()} "
                  "(one run or poll per workflow at a time; Ctrl-C to give up, --no-wait "
                  "to exit instead)", file=sys.stderr, flush=True)
            said = True
        time.sleep(poll)
    try:
        yield
    finally:
        state.release(workflow)


def pipeline_options(args: argparse.Namespace, *, webhook_url: str | None = None,
                     dry_run: bool | None = None) -> PipelineOptions:
    """The typed options of run, poll and serve (pipeline/opening.py), from their arguments
    (which are left as they are: `webhook_url` and `dry_run` override theirs)."""
    from ..pipeline.opening import PipelineOptions
    from .http_options import http_options

    return PipelineOptions(
        manifest=args.manifest, state=args.state, http=http_options(args),
        http_output=getattr(args, "http_output", "auto"),
        trace=bool(getattr(args, "trace", False)),
        webhook_url=webhook_url if webhook_url is not None
        else getattr(args, "webhook_url", DEFAULT_WEBHOOK_URL),
        dry_run=bool(getattr(args, "dry_run", False)) if dry_run is None else dry_run)


@contextmanager
def open_pipeline(options: PipelineOptions, compiled: CompiledManifest, workflow: Workflow
                  ) -> Iterator[tuple[StateFile, Pipeline, Journal | None]]:
    """The state file, the workflow's pipeline and the journal (None for a dry run), closed
    on exit, with messages on stderr (pipeline/opening.py). Used by run, poll and serve."""
    from ..pipeline import opening
    from .http_options import cli_reporter

    with opening.open_pipeline(options, compiled, workflow, cli_reporter()) as opened:
        yield opened


def print_trace(text: str) -> None:
    """A trace block on stderr, or kept whole for the record this thread runs."""
    from ..pipeline.opening import emit_trace
    from .http_options import print_stderr

    emit_trace(text, print_stderr)


def tracer(redactor: Redactor) -> Callable[[TraceEvent], None]:
    from ..pipeline.opening import tracer as make_tracer
    from .http_options import print_stderr

    return make_tracer(redactor, print_stderr)


def show(value: Any, limit: int = 2000) -> str:
    from ..pipeline.opening import show as shown

    return shown(value, limit)
