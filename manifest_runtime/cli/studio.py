"""`manifest-runtime studio MANIFEST [--port 8790] [--state PATH] [HTTP options]`: a local
page (127.0.0.1 only, nothing fetched from the network) that shows the app as App Studio's
users see it: the workflows and the graph, each workflow's setup (connect, select, map,
schedule) driven by the same setup engine as `setup`, a trace of what ran, and a run panel
over the batch engine of `run`. The manifest is re-validated when its file changes.
See docs/studio.md.

This module turns the options into the typed services the studio uses (studio/services.py)
and serves the app with uvicorn until Ctrl-C.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .http_options import add_http_options, cassette_options, http_service
from .output import add_format_option, print_json, wants_json
from .session import (
    DEFAULT_WEBHOOK_URL,
    Busy,
    add_state_option,
    make_env,
    one_writer,
    open_pipeline,
    pipeline_options,
)

if TYPE_CHECKING:
    from ..http.client import HttpClient
    from ..http.credentials import Credentials
    from ..http.redact import Redactor
    from ..http.trace import TraceFn
    from ..model import CompiledManifest
    from ..pipeline.batch import RecordResult, Summary
    from ..runtime.context import Env
    from ..state import StateFile
    from ..studio.services import RunRequest, Services
    from ..workflows import Workflow

DEFAULT_PORT = 8790


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "studio",
        help="a local web page showing the app's setup as App Studio renders it",
        description="Serve a local page (127.0.0.1, offline) that shows the manifest's "
        "workflows and graph, walks each workflow's setup as App Studio renders it (with the "
        "same engine and checks as `setup`; it saves the same state), traces every command "
        "and HTTP attempt it triggers, and runs pasted or uploaded payloads through the "
        "pipeline (as `run`). Editing the manifest re-validates it on the page. Ctrl-C stops.",
    )
    p.add_argument("manifest", metavar="MANIFEST", help=".json, .yaml or .yml file")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"the port on 127.0.0.1 (default {DEFAULT_PORT}; 0: any free port)")
    add_state_option(p, " setups are saved in and runs deliver to")
    p.add_argument("--http-output", choices=("auto", "wrapped", "body"), default="auto",
                   help="!http output shape: as validate decided (auto), or force one")
    add_format_option(p, "the address served (printed once listening)")
    add_http_options(p)
    p.set_defaults(handler=run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {value}")
    return value


def services(args: argparse.Namespace) -> Services:
    """The studio's services over this command's options (what setup and run do with them)."""
    from ..http.credentials import load_credentials
    from ..state import state_path
    from ..studio.services import Services
    from .ac_options import account
    from .session import open_state

    cassette_options(args)
    for remap in args.remap:
        from ..http.remap import parse_remap

        parse_remap(remap)
    path = state_path(args.state)
    if path == ":memory:":
        raise UsageError("studio needs a state file it can reopen: --state :memory: keeps "
                         "nothing between the page's setup and its runs; give a path")
    opened = 0

    def open_http(compiled: CompiledManifest, auth_name: str | None, credentials: Credentials,
                  redactor: Redactor, trace: TraceFn) -> HttpClient:
        nonlocal opened
        opened += 1
        return http_service(args, compiled, auth_name, trace=trace, credentials=credentials,
                            redactor=redactor, record_mode="append" if opened > 1 else None)

    def env(compiled: CompiledManifest, state: StateFile, http: HttpClient) -> Env:
        return make_env(args, compiled, state, http, ac=account(args, state, http))

    def run_records(compiled: CompiledManifest, workflow: Workflow, request: RunRequest,
                    each: Callable[[RecordResult], None]) -> tuple[Summary, list[str]]:
        return _run_records(args, compiled, workflow, request, each)

    return Services(state_path=path, replaying=args.replay is not None,
                    base_credentials=lambda auth: load_credentials(auth, args.credentials),
                    open_http=open_http, make_env=env,
                    open_state=lambda: open_state(path), run_records=run_records)


def _run_records(args: argparse.Namespace, compiled: CompiledManifest, workflow: Workflow,
                 request: RunRequest, each: Callable[[RecordResult], None]
                 ) -> tuple[Summary, list[str]]:
    """`run --input/--contacts` over the page's lines: the batch engine under one writer;
    the --trace lines it would print, captured for the trace panel."""
    from ..pipeline.batch import BatchOptions, BatchRun
    from ..pipeline.records import read_jsonl
    from ..pipeline.tracebuf import capture
    from .ac_options import target_key
    from .run import _is_sandbox, sandbox_in_file

    run_args = copy.copy(args)
    run_args.trace = True  # each step and attempt, captured below
    run_args.workflow = workflow.name
    options_ = pipeline_options(run_args, webhook_url=DEFAULT_WEBHOOK_URL,
                                dry_run=request.dry_run)
    with open_pipeline(options_, compiled, workflow) as (state, pipeline, _), \
            capture() as lines:
        options = BatchOptions(
            dry_run=request.dry_run, restart=request.restart,
            batched=not request.dry_run and sandbox_in_file(pipeline, state),
            sandbox_account=_is_sandbox(pipeline.env.ac))

        salt = None if request.dry_run else workflow.name + target_key(pipeline.env.ac)
        try:
            with one_writer(state, workflow.name, "studio", no_wait=True):
                summary = BatchRun(pipeline, state, options, on_result=each).run(
                    read_jsonl(request.lines, salt=salt))
            return summary, list(lines)
        except Busy as exc:
            raise UsageError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    import os

    from ..studio.app import Studio

    if not os.path.exists(args.manifest):
        raise UsageError(f"no such file: {args.manifest}")
    studio = Studio(args.manifest, services(args))
    if not studio.manifest.compiled.valid:
        print(f"{args.manifest}: invalid; the page shows the errors until the file is fixed",
              file=sys.stderr)
    return serve(studio, args.port, json_start=wants_json(args))


def serve(studio: Any, port: int, json_start: bool = False) -> int:
    """Serve on 127.0.0.1:`port` until Ctrl-C; the address on stderr (or, `json_start`, as
    one JSON object on stdout)."""
    import socket

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} "
                         "(another studio running? pass --port N)") from None
    sock.listen(64)
    bound = sock.getsockname()[1]
    url = f"http://127.0.0.1:{bound}/"
    if json_start:
        print_json({"ok": True, "command": "studio", "url": url,
                    "manifest": studio.manifest.path, "valid": studio.manifest.compiled.valid,
                    "state": studio.services.state_path}, flush=True)
    else:
        print(f"manifest-runtime studio: {url} ({studio.manifest.path}; state "
              f"{studio.services.state_path}); Ctrl-C stops", file=sys.stderr, flush=True)
    config = uvicorn.Config(studio.app(), lifespan="off", log_level="warning",
                            access_log=False, loop="asyncio", http="h11", ws="none")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        studio.close()
        sock.close()
    return 0
