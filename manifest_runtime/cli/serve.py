"""`manifest-runtime serve MANIFEST`: a local webhook receiver for a workflow whose data_intake
is a webhook intake (intake/webhook.py, docs/serve.md).

On start the intake's `create` registers `${webhook.url}` (http://HOST:PORT/webhooks/<workflow>
or --public-url) unless that URL is registered already; each webhook then goes through
verification, routing and the workflow's data_pipeline into the sandbox; on Ctrl-C or SIGTERM
the webhooks in hand finish and `delete` removes the registration. Several serves of one
workflow may share one state behind a load balancer: one registration, removed by the last of
them to stop; each payload processed once (docs/serve.md "Several serve processes").
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import EvaluationError, UsageError
from .failures import DEFAULT_SHOWN, Failures
from .http_options import add_http_options
from .output import print_json, wants_json
from .run import open_dead_letter, write_dead
from .session import (
    add_pipeline_options,
    compile_or_report,
    open_pipeline,
    pipeline_options,
    report_error,
)
from .signals import StopOnSignal

if TYPE_CHECKING:
    from ..http.redact import Redactor
    from ..intake.journal import WebhookJournal
    from ..intake.webhook import Receiver
    from ..model import CompiledManifest
    from ..pipeline.journal import DeadLetter
    from ..pipeline.runner import Pipeline
    from ..runtime.context import EvalContext

DEDUPE_WINDOW = 600.0  # = intake.webhook.DEDUPE_WINDOW (not imported: --help stays light)
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "serve",
        help="receive a webhook data_intake's payloads locally",
        description="Serve a local webhook receiver for an inbound workflow whose data_intake "
        "is a webhook intake: register ${webhook.url} with the intake's create command, run "
        "verification, routing and the data_pipeline for each webhook (into the sandbox, or a "
        "real account with --ac-url), and "
        "remove the registration with delete on Ctrl-C / SIGTERM. See docs/serve.md.",
        epilog="examples:\n  manifest-runtime serve manifest.yaml\n"
        "  manifest-runtime serve manifest.yaml --port 9000 --public-url "
        "https://abc.example-tunnel.app/webhooks/my-workflow\n"
        "  curl -X POST localhost:8787/webhooks/my-workflow -H 'Content-Type: "
        "application/json' -d @payload.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_pipeline_options(p, "payload")
    p.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default "
                   f"{DEFAULT_HOST})")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"port to listen on (default {DEFAULT_PORT}; 0: any free port)")
    p.add_argument("--public-url", metavar="URL",
                   help="${webhook.url} as the provider reaches it (e.g. a tunnel's URL); "
                   "default http://HOST:PORT/webhooks/<workflow>. Its path is answered too")
    register = p.add_mutually_exclusive_group()
    register.add_argument("--no-register", action="store_true",
                          help="run neither create nor delete (the URL is registered by hand)")
    register.add_argument("--keep-registration", action="store_true",
                          help="do not run delete on stop: the next serve with the same URL "
                          "reuses the registration")
    p.add_argument("--forget-registration", action="store_true",
                   help="first clear the registration recorded in the state file (e.g. one "
                   "whose outcome is unknown, once checked at the provider); nothing is asked "
                   "of the provider")
    p.add_argument("--dedupe-window", type=_seconds, default=DEDUPE_WINDOW, metavar="SECONDS",
                   help="a payload (method and body) seen again within this many seconds is "
                   f"answered 200 as a duplicate, not processed (default {DEDUPE_WINDOW:g}; "
                   "0: off)")
    add_http_options(p)
    p.set_defaults(handler=run, dry_run=False)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"give 0 or more seconds, got {text!r}")
    return value


class Reported(Exception):
    """An error already printed (located); the command exits 1."""


@dataclass
class Service:
    """A receiver ready to take webhooks: its app, the URL registered, the workflow."""

    app: Any  # the starlette application
    receiver: Receiver
    url: str
    paths: list[str]
    workflow: str
    state_path: str
    stop_failed: bool = False  # delete failed: the registration is left behind
    on_stop: str = "then removing the registration (delete)"  # what stopping does to it
    failures: Failures = field(default_factory=Failures)  # the first ones, by error code


def webhook_url(args: argparse.Namespace, workflow: str, port: int) -> str:
    from ..intake.app import webhook_path

    if args.public_url:
        return str(args.public_url)
    host = f"[{args.host}]" if ":" in args.host else args.host
    return f"http://{host}:{port}{webhook_path(workflow)}"


@contextmanager
def serving(args: argparse.Namespace, compiled: CompiledManifest, port: int | None = None
            ) -> Iterator[Service]:
    """Open the pipeline, register the webhook (unless --no-register or registered already for
    this URL), yield the service; on exit let the webhooks in hand finish and remove the
    registration (unless --keep-registration). A failing create raises Reported."""
    from urllib.parse import urlsplit

    from ..intake.app import build_app, webhook_path
    from ..intake.journal import HEARTBEAT, WebhookJournal
    from ..intake.lifecycle import forget, leave, register, stop_plan, unregister, watch
    from ..intake.webhook import Receiver, WebhookIntake
    from ..workflows import choose

    workflow = choose(compiled, args.workflow)
    intake = WebhookIntake.of(compiled, compiled.data["workflows"][workflow.index])
    name = workflow.name
    url = webhook_url(args, name, args.port if port is None else port)
    paths = [webhook_path(name)]
    if args.public_url:
        parts = urlsplit(args.public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"--public-url {args.public_url}: give an http(s) URL, e.g. "
                             f"https://abc.example-tunnel.app{webhook_path(name)}")
        paths.append(parts.path or "/")
    with open_pipeline(pipeline_options(args, webhook_url=url, dry_run=False), compiled,
                       workflow) as (state, pipeline, journal):
        webhooks = WebhookJournal(state.db, state.lock)
        dead_file = open_dead_letter(args.dead_letter)
        failures = Failures(getattr(args, "show_failures", DEFAULT_SHOWN))

        def on_dead(dead: list[DeadLetter]) -> None:
            write_dead(dead_file, dead)
            failures.add(dead)

        receiver = Receiver(intake, pipeline, state.load_setup(name), webhooks=webhooks,
                            journal=journal, on_dead=on_dead,
                            log=_say, window=args.dedupe_window,
                            redactor=redactor_of(pipeline),
                            atomic=state.batch if in_the_state(pipeline) else None)
        webhooks.join(name, url)  # before registering: the others see this serve alive
        ticker: Ticker | None = None
        try:
            for notice in receiver.notices:
                _say(f"{name}: {notice}")
            if args.forget_registration:
                _say(f"{name}: {forget(webhooks, name, intake.name)}")
            if not args.no_register:
                _lifecycle(pipeline, name, "create", lambda: register(
                    intake, name, url, webhooks, lifecycle_context(pipeline),
                    warn=lambda message: _say(f"{name}: warning: {message}"),
                    provider=provider_of(compiled)),
                    lambda: _after_create(webhooks, name, intake.name))
            plan = stop_plan(intake, webhooks.registration(name, intake.name),
                             no_register=args.no_register, keep=args.keep_registration)
            service = Service(build_app(receiver, paths), receiver, url, paths, name,
                              state.path, on_stop=plan, failures=failures)
            if not plan.startswith("then removing"):
                _say(f"{name}: on stop: {plan}")
            receiver.recover()  # payloads a stopped serve journaled and did not end

            def tick() -> None:
                webhooks.join(name, url)  # the heartbeat
                receiver.recover()
                if not args.no_register:
                    done = watch(intake, name, url, webhooks, lifecycle_context(pipeline),
                                 warn=lambda message: _say(f"{name}: warning: {message}"))
                    if done is not None:
                        _say(f"{name}: {done}")

            ticker = Ticker(receiver, tick, HEARTBEAT, lambda what: _say(f"{name}: {what}"))
            try:
                yield service
            finally:
                ticker.stop()
                receiver.close()
                kept = leave(intake, name, webhooks)
                if kept is not None:
                    _say(f"{name}: {kept}")
                elif args.no_register or args.keep_registration:
                    _say(f"{name}: {plan}")
                else:
                    try:
                        _lifecycle(pipeline, name, "delete", lambda: unregister(
                            intake, name, webhooks, lifecycle_context(pipeline)),
                            lambda: "the registration is left with the provider (serve "
                            "again, then stop, to retry)")
                    except Reported:
                        service.stop_failed = True
        finally:
            if ticker is not None:
                ticker.stop()
            webhooks.leave(name)
            if dead_file is not None:
                dead_file.close()


class Ticker:
    """Every `interval` seconds, `job` on the receiver's worker thread (between webhooks):
    the heartbeat, taking over stranded payloads and the registration. A failing tick is
    said (`say`) and the next one runs."""

    def __init__(self, receiver: Receiver, job: Callable[[], None], interval: float,
                 say: Callable[[str], None]) -> None:
        self._stop = threading.Event()
        self._receiver = receiver
        self._job = job
        self._say = say
        self._interval = interval
        self._thread = threading.Thread(target=self._loop, name="serve-tick", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        pending: Future[object] | None = None
        while not self._stop.wait(self._interval):
            if pending is not None and not pending.done():
                continue  # the last tick still waits behind webhooks: no pile-up
            try:
                pending = self._receiver.call(self._guarded)
            except RuntimeError:  # the worker is shut down: serve is stopping
                return

    def _guarded(self) -> None:
        if self._stop.is_set():
            return
        try:
            self._job()
        except UsageError as exc:
            self._say(f"warning: {exc}")
        except EvaluationError as exc:
            self._say(f"warning: {exc.diagnostic.code}: {exc.diagnostic.message}")
        except Exception as exc:  # the state failed (locked, full): the next tick retries
            self._say(f"warning: the state failed ({exc}); trying again in "
                      f"{self._interval:g} s")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def lifecycle_context(pipeline: Pipeline) -> EvalContext:
    """The intake's context for create / delete, with `${data...}` read again from the state:
    another serve of the workflow may have saved the hook id since this one started."""
    from ..expressions.nodes import SAVE_SCOPES

    env = pipeline.env
    for scope in SAVE_SCOPES:
        env.data[scope] = env.store.get_all(scope)
    return pipeline.intake_context()


def in_the_state(pipeline: Pipeline) -> bool:
    """Does the pipeline write only into the state (the sandbox account; no HTTP of its own)?
    Then a webhook's processing and its journal end are one transaction."""
    from ..activecampaign import SandboxAccount

    return not pipeline.sends_http and (pipeline.env.ac is None
                                        or isinstance(pipeline.env.ac, SandboxAccount))


def redactor_of(pipeline: Pipeline) -> Redactor | None:
    """The run's redactor (the HTTP client's: the one traces and errors go through)."""
    from ..http.client import HttpClient

    http = pipeline.env.http
    return http.redactor if isinstance(http, HttpClient) else None


def provider_of(compiled: CompiledManifest) -> str | None:
    """The provider's API, to say where to check a registration (api.base_url)."""
    api = compiled.data.get("api") if isinstance(compiled.data, dict) else None
    base = api.get("base_url") if isinstance(api, dict) else None
    return base if isinstance(base, str) else None


def _lifecycle(pipeline: Pipeline, name: str, what: str, step: Callable[[], str],
               left: Callable[[], str]) -> None:
    """Run create/delete; print what it did, or its located error, what is `left`, and raise
    Reported."""
    try:
        _say(f"{name}: {step()}")
    except EvaluationError as exc:
        report_error(exc.diagnostic, pipeline.compiled, pipeline.env.redact)
        _say(f"{name}: the webhook intake's {what} command failed; {left()}")
        raise Reported from None


def _after_create(webhooks: WebhookJournal, name: str, intake: str) -> str:
    known = webhooks.registration(name, intake)
    if known is not None and known.status == "unknown":
        return ("its outcome is unknown (the provider may have registered the URL): the next "
                "serve says what to check and does not register it twice")
    return "nothing is registered"


def run(args: argparse.Namespace) -> int:
    compiled = compile_or_report(args.manifest)
    if compiled is None:
        return 1
    sock = _listen(args.host, args.port)
    try:
        with serving(args, compiled, port=sock.getsockname()[1]) as service:
            stopped = _serve(service, sock, args)
    except Reported:
        return 1
    finally:
        sock.close()
    counts = service.receiver.counts
    code = 1 if service.stop_failed or stopped is None else 128 + stopped
    if wants_json(args):
        print_json({"ok": code != 1 and not counts["failed"], "workflow": service.workflow,
                    "url": service.url, "received": sum(counts.values()),
                    **{k: counts[k] for k in ("delivered", "failed", "ignored", "answered",
                                              "duplicate")},
                    "taken_over": service.receiver.taken_over,
                    "registration_left": service.stop_failed, "signal": stopped,
                    "state": service.state_path, "failures": service.failures.as_json(),
                    "exit_code": code}, flush=True)
        return code
    print(f"{service.workflow}: received {sum(counts.values())} webhook(s): delivered "
          f"{counts['delivered']}, failed {counts['failed']}, ignored {counts['ignored']}, "
          f"answered by verification {counts['answered']}, duplicate {counts['duplicate']}"
          + (f"; {service.receiver.taken_over} taken over from stopped serves"
             if service.receiver.taken_over else ""), flush=True)
    if counts["failed"]:
        sys.stdout.write(service.failures.render("webhook"))
        print(f"failed payloads are in the dead_letters table of {service.state_path}"
              + (f" and {args.dead_letter}" if args.dead_letter else ""), flush=True)
    return code


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the URL is registered (--port 0 picks one)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise UsageError(f"--host {host}: cannot listen there ({exc})") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick "
                         "another --port (0: any free port)") from None
    return sock


def _serve(service: Service, sock: socket.socket, args: argparse.Namespace) -> int | None:
    """Serve until SIGINT/SIGTERM; the signal number (None: the server failed)."""
    import uvicorn

    config = uvicorn.Config(service.app, lifespan="off", log_level="warning",
                            access_log=False, loop="asyncio", http="h11", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="uvicorn", daemon=True)
    def force(signum: int) -> None:
        server.force_exit = True  # a second Ctrl-C: do not wait for open connections

    stop = StopOnSignal(f"\nstopping: finishing the webhooks in hand; {service.on_stop}",
                        first=lambda signum: setattr(server, "should_exit", True),
                        again=force)
    with stop:
        thread.start()
        announced = False
        while thread.is_alive():
            thread.join(0.1)
            if not announced and server.started:
                announced = True
                host, port = sock.getsockname()[:2]
                local = f" (listening on {host}:{port})" if args.public_url else ""
                extra = f"; also answered at {', '.join(service.paths[1:])}" \
                    if len(service.paths) > 1 else ""
                _say(f"{service.workflow}: receiving webhooks at {service.url}{local}"
                     f"{extra}; Ctrl-C to stop")
    if stop.signal is None:
        _say(f"{service.workflow}: the server stopped unexpectedly")
    return stop.signal


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def update_registration(args: argparse.Namespace, compiled: CompiledManifest, index: int
                        ) -> int:
    """After `setup` saved new choices for a workflow whose webhook is registered (a row in
    `webhook_registrations`): run the intake's `update` with the saved setup, or `delete` +
    `create` where it has no update (intake/lifecycle.py `refresh`). Prints what it did on
    stderr; returns the exit code (1: a command failed, its located error printed)."""
    from ..intake.journal import WebhookJournal
    from ..intake.lifecycle import refresh
    from ..intake.webhook import WebhookIntake
    from ..state import StateFile, state_path

    workflow = compiled.data["workflows"][index]
    name = str(workflow.get("name"))
    try:
        intake = WebhookIntake.of(compiled, workflow)
    except UsageError:
        return 0  # not a webhook workflow: nothing is registered
    with StateFile(state_path(args.state)) as state:
        known = WebhookJournal(state.db, state.lock).registration(name, intake.name)
    if known is None:
        return 0
    from ..workflows import workflows

    view = workflows(compiled)[index]
    with open_pipeline(pipeline_options(args, webhook_url=known.url, dry_run=False), compiled,
                       view) as (state, pipeline, _):
        webhooks = WebhookJournal(state.db, state.lock)
        try:
            done = refresh(intake, name, webhooks, lambda url: pipeline.intake_context(),
                           warn=lambda message: _say(f"{name}: warning: {message}"),
                           provider=provider_of(compiled))
        except EvaluationError as exc:
            report_error(exc.diagnostic, pipeline.compiled, pipeline.env.redact)
            now = webhooks.registration(name, intake.name)
            left = "no registration is left (the next serve registers anew)" if now is None \
                else "its outcome is unknown (the next serve says what to check)" \
                if now.status == "unknown" else \
                "the registration keeps its earlier choices (run setup again to retry)"
            _say(f"{name}: bringing the webhook registration up to date failed; {left}")
            return 1
    if done is not None:
        _say(f"{name}: {done}")
    return 0
