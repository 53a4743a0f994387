"""Opening a workflow's pipeline from typed options: the state file, the saved setup, the HTTP
client, the ActiveCampaign account (sandbox or real) and the run-wide `Env`. The CLI builds
the frozen options from its arguments (cli/session.py) and says where messages go
(`Reporter`); a Dask worker (pipeline/distributed.py) opens the same pipeline from the same
options, shipped to it. No argparse here, no printing: every message goes to a callback.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from ..errors import UsageError

if TYPE_CHECKING:
    from ..activecampaign import ActiveCampaign
    from ..http.client import HttpClient
    from ..http.credentials import Credentials
    from ..http.redact import Redactor
    from ..http.trace import TraceEvent as HttpTraceEvent
    from ..model import CompiledManifest
    from ..runtime.context import Env, TraceEvent
    from ..state import Setup, StateFile
    from ..workflows import Workflow
    from .journal import Journal
    from .runner import Pipeline

ROOT = "''"  # the root pointer as RFC 6901 writes it
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8787/webhook"
HttpOutput = Literal["auto", "wrapped", "body"]


@dataclass(frozen=True)
class HttpOptions:
    """How a command reaches HTTP APIs and which ActiveCampaign account it uses (docs/http.md,
    docs/targets.md)."""

    credentials: str | None = None  # credentials file
    record: str | None = None  # cassette to record into
    record_mode: str | None = None  # append | new | all
    replay: str | None = None  # cassette to answer from
    match: tuple[str, ...] | None = None  # request parts compared on replay (None: default)
    remap: tuple[str, ...] = ()  # "FROM=TO"
    max_attempts: int = 3
    timeout: float = 30.0
    retry_unsafe: bool = False
    subdomain: str | None = None
    ac_url: str | None = None
    ac_token: str | None = None


@dataclass(frozen=True)
class PipelineOptions:
    """What opening a workflow's pipeline needs besides the compiled manifest."""

    manifest: str  # its path (named in errors and hints)
    state: str | None = None  # --state (None: $MANIFEST_RUNTIME_STATE, else the default)
    http: HttpOptions = HttpOptions()
    http_output: HttpOutput = "auto"
    trace: bool = False
    webhook_url: str = DEFAULT_WEBHOOK_URL
    dry_run: bool = False


def _ignore(message: str) -> None:
    del message


@dataclass(frozen=True)
class Reporter:
    """Where the messages of an open pipeline go (the CLI prints them on stderr). Module-level
    functions, so that a Dask worker gets them by reference."""

    notice: Callable[[str], None] = _ignore  # waits, given-up retries, warnings (redacted)
    log: Callable[[str], None] = _ignore  # `!print_c` lines (redacted)
    trace: Callable[[str], None] = _ignore  # trace blocks and HTTP attempt lines


def http_service(options: HttpOptions, compiled: CompiledManifest, auth_name: str | None,
                 reporter: Reporter, *, trace: bool | Callable[[HttpTraceEvent], None],
                 stored: dict[str, Any] | None = None,
                 save_stored: Callable[[Credentials], None] | None = None,
                 credentials: Credentials | None = None,
                 redactor: Redactor | None = None,
                 record_mode: str | None = None) -> HttpClient:
    """The production HTTP client; with `trace`, each attempt goes to `reporter.trace` (or to
    `trace` itself when it is a function: the studio's trace panel).

    Credentials: `credentials` when given (complete: setup merges its answers over the file
    and the environment itself), else the credentials file, else `stored` (what setup kept in
    the state file), then the MANIFEST_RUNTIME_* variables, then `subdomain` on top. Refreshed
    oauth2 tokens go back where the credentials came from (`save_stored` for the state file).
    `redactor`: share one across clients of a run. `record_mode` overrides the options'."""
    from ..http import build_http_service, load_credentials
    from ..http.credentials import apply_env, credentials_from_mapping

    if credentials is not None:  # the caller keeps them (setup saves them in the state)
        saver = _saver(options.credentials, auth_name, reporter, warn_lost=False)
    elif options.credentials is None and stored:
        credentials = apply_env(credentials_from_mapping(stored, "the stored credentials"),
                                os.environ)
        saver = save_stored or _saver(None, auth_name, reporter)
    else:
        credentials = load_credentials(auth_name, options.credentials)
        saver = _saver(options.credentials, auth_name, reporter)
    if options.subdomain:  # --subdomain wins over the file and the environment
        credentials = credentials.updated(subdomain=options.subdomain)

    def attempt(event: HttpTraceEvent) -> None:
        emit_trace(attempt_line(event), reporter.trace)

    return build_http_service(
        compiled,
        auth_name,
        credentials=credentials,
        env={},  # already applied, below --subdomain
        remaps=options.remap,
        record=options.record,
        replay=options.replay,
        max_attempts=options.max_attempts,
        timeout=options.timeout,
        trace=trace if callable(trace) else attempt if trace else None,
        on_credentials_changed=saver,
        notice=lambda message: reporter.notice(f"manifest-runtime: {message}"),
        retry_unsafe=options.retry_unsafe,
        redactor=redactor,
        record_mode=record_mode or options.record_mode or "append",
        match=options.match,
    )


def attempt_line(event: HttpTraceEvent) -> str:
    """One line per HTTP attempt (the URL is already redacted)."""
    outcome = f"{event.status}" if event.error is None else f"failed: {event.error}"
    purpose = "" if event.purpose == "request" else f" [{event.purpose}]"
    replayed = " (replayed)" if event.replayed else ""
    return (f"http: {event.method} {event.url} attempt {event.attempt}{purpose} -> "
            f"{outcome} in {event.elapsed_ms:.1f} ms{replayed}")


def _saver(path: str | None, auth_name: str | None, reporter: Reporter,
           warn_lost: bool = True) -> Any:
    """Keep rotated oauth2 tokens: in the credentials file, or (`warn_lost`) warn that they
    are lost."""
    from ..http.credentials import save_rotated

    def save(creds: Credentials) -> None:
        if path is None or auth_name is None:
            if warn_lost:
                reporter.notice("manifest-runtime: warning: the access token was refreshed but "
                                "there is no --credentials file to save it in; a rotated "
                                "refresh token is lost after this run")
            return
        try:
            save_rotated(path, auth_name, creds)
        except (OSError, UsageError) as exc:
            reporter.notice(f"manifest-runtime: warning: could not save refreshed tokens to "
                            f"{path}: {exc}")

    return save


def account(options: HttpOptions, state: StateFile, http: HttpClient,
            contact: dict[str, Any] | None = None) -> ActiveCampaign:
    """The real account when one is configured (its calls go through `http`: retries,
    record/replay, trace, redaction), else the state file's sandbox."""
    from ..activecampaign.settings import account_settings
    from ..activecampaign.v3 import V3Account

    settings = account_settings(options.ac_url, options.ac_token, options.credentials,
                                os.environ, replaying=options.replay is not None)
    if settings is None:
        return state.sandbox(contact)
    http.redactor.add(settings.token)
    return V3Account(settings.url, settings.token, http, contact)


def make_env(compiled: CompiledManifest, state: StateFile, http: HttpClient, reporter: Reporter,
             *, ac: ActiveCampaign, trace: bool = False, http_output: HttpOutput = "auto",
             role: Literal["source", "target"] | None = None,
             contact: dict[str, Any] | None = None) -> Env:
    """The run-wide services: state store, HTTP, the ActiveCampaign account, `!print_c` to
    `reporter.log`, the tracer (with `trace`), redaction, and the !http output override."""
    from ..runtime.context import Env

    redactor: Redactor = http.redactor
    return Env(
        store=state.store,
        http=http,
        ac=ac,
        contact=contact,
        base_url=compiled.node_at(("api", "base_url")),
        http_output=None if http_output == "auto" else http_output,
        log=lambda message: reporter.log(redactor.text(f"print_c: {message}")),
        trace=tracer(redactor, reporter.trace) if trace else None,
        redact=redactor.text,
        redact_value=redactor.value,
        resource_role=role,
    )


@contextmanager
def open_pipeline(options: PipelineOptions, compiled: CompiledManifest, workflow: Workflow,
                  reporter: Reporter, *, state: StateFile | None = None
                  ) -> Iterator[tuple[StateFile, Pipeline, Journal | None]]:
    """The state file, the workflow's pipeline (with the saved setup, the HTTP client and the
    account) and the journal (None for a dry run), closed on exit. `state`: an open state
    file to use (then left open)."""
    from ..state import StateFile, state_path
    from .journal import Journal
    from .runner import Pipeline

    own = state is None
    opened = StateFile(state_path(options.state)) if state is None else state
    try:
        setup = opened.load_setup(workflow.name)
        needs_setup(options.manifest, workflow, setup)
        http = http_service(options.http, compiled, workflow.auth, reporter,
                            trace=options.trace,
                            stored=setup.credentials if setup else None,
                            save_stored=_store_rotated(opened, setup))
        try:
            env = make_env(compiled, opened, http, reporter,
                           ac=account(options.http, opened, http), trace=options.trace,
                           http_output=options.http_output)
            pipeline = Pipeline(compiled, workflow, setup, env, webhook_url=options.webhook_url,
                                subdomain=http.subdomain, dry_run=options.dry_run)
            journal = None if options.dry_run else Journal(opened.db, opened.lock)
            yield opened, pipeline, journal
        finally:
            http.close()
    finally:
        if own:
            opened.close()


def needs_setup(manifest: str, workflow: Workflow, setup: Setup | None) -> None:
    """UsageError when the workflow asks something at setup that the state file lacks."""
    name = workflow.name
    again = f"run: manifest-runtime setup {manifest} --workflow {name} [--answers FILE]"
    if workflow.asks and setup is None:
        raise UsageError(f"workflow {name!r} has select/map steps and no setup was saved in "
                         f"the state file; {again}")
    answered = setup.custom_data if setup is not None else {}
    missing = [f for f in workflow.required_fields() if f not in answered]
    if missing:
        raise UsageError(f"the saved setup of workflow {name!r} has no answer for required "
                         f"field(s) {', '.join(missing)} (the manifest changed since setup?); "
                         f"{again}")


def _store_rotated(state: StateFile, setup: Setup | None) -> Any:
    """Keep refreshed oauth2 tokens in the setup they came from."""
    if setup is None:
        return None

    def save(creds: Any) -> None:
        fresh = creds.as_json()
        entry = dict(setup.credentials or {})
        entry.update({k: fresh[k] for k in ("access_token", "refresh_token", "expires_at")
                      if k in fresh})
        state.save_setup(replace(setup, credentials=entry))

    return save


def emit_trace(text: str, out: Callable[[str], None]) -> None:
    """A trace block to `out`, or kept whole for the record this thread runs."""
    from .tracebuf import captured

    if not captured(text):
        out(text)


def tracer(redactor: Redactor, out: Callable[[str], None]) -> Callable[[TraceEvent], None]:
    """The step tracer: one block per step (input, arguments, output or error), redacted."""
    from ..paths import to_pointer

    def emit(event: TraceEvent) -> None:
        lines = [f"trace: {to_pointer(event.path) or ROOT} {event.command}"]
        lines.append(f"  input:  {show(redactor.value(event.input))}")
        for name, value in event.args.items():
            if name == "request" and isinstance(value, dict):
                value = {**value, "url": redactor.url(str(value.get("url", ""))),
                         **({"headers": redactor.headers(value["headers"])}
                            if "headers" in value else {})}
            lines.append(f"  {name}: {show(redactor.value(value))}")
        if event.error is not None:
            lines.append(f"  error:  {event.error}")
        else:
            lines.append(f"  output: {show(redactor.value(event.output))}")
        emit_trace("\n".join(lines), out)

    return emit


def show(value: Any, limit: int = 2000) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."
