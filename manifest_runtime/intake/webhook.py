"""A workflow's webhook data_intake (reference §4.1, DESIGN §4), as `serve` runs it.

* `WebhookIntake` finds the intake and its compiled commands once.
* Registration (create / update / delete) is in intake/lifecycle.py.
* `Receiver.handle` takes one request, whatever the web framework: the body is parsed
  (JSON, or form-encoded), `verification` runs first when there is one (its `!respond`
  output either is the reply, or lets the payload through with `process_payload: true`),
  an application-scope intake routes by its `account_id` / `resource_id` commands, and the
  payload goes through the workflow's pipeline like one line of `run --input`. Every
  payload ends delivered, dead-lettered, ignored (another account's) or duplicate (the same
  method and payload handled within the de-duplication window: a doubled registration or a
  provider's retry), and each webhook is a numbered row of the webhook journal; the number
  is its dead letters' record number (and the reply's X-Webhook-Number header). A payload to
  process is journaled (payload, holder, digest) and committed before it is processed, so
  before the reply; `Receiver.recover` takes over what a serve that died had journaled.

Nothing here prints: messages go to the `log` callback the command line gives. While a
webhook is in hand, its secrets (`secrets_of`: authorization, cookie, API-key, token and
signature headers, secret-named query and form values) are masked in everything said about
it: traces, errors, dead letters, the journal (`Redactor.scoped`, http/redact.py).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ..errors import Diagnostic, EvaluationError, UsageError
from ..http.redact import TOKEN_FIELDS, is_secret_name
from ..pipeline.journal import DeadLetter
from ..pipeline.records import MAX_NESTING, Record, loads_strict, too_deep
from ..runtime.errors import excerpt, with_location
from ..runtime.evaluate import SYSTEM_ERRORS
from ..runtime.run import run_node
from .journal import Pending, me

if TYPE_CHECKING:
    from ..http.redact import Redactor
    from ..model import CompiledManifest, Node
    from ..paths import Path
    from ..pipeline.journal import Journal
    from ..pipeline.runner import Outcome, Pipeline
    from ..state import Setup
    from .journal import WebhookJournal

LIFECYCLE = ("create", "update", "delete")
COMMANDS = (*LIFECYCLE, "verification", "account_id", "resource_id")
MAX_BODY = 10 * 1024 * 1024  # bytes; a larger body is refused (413) and dead-lettered
DEDUPE_WINDOW = 600.0  # seconds: the same payload again within it is a duplicate
KEPT_TEXT = 10_000  # characters of a body that is not JSON kept in its dead letter
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class WebhookIntake:
    index: int
    name: str
    scope: str
    nodes: dict[str, Node]  # the commands the intake has, among COMMANDS

    @property
    def path(self) -> Path:
        return ("data_intake", self.index)

    @classmethod
    def of(cls, compiled: CompiledManifest, workflow: dict[str, Any]) -> WebhookIntake:
        """The webhook intake the workflow's `data_intake` names (UsageError otherwise)."""
        intakes = [d if isinstance(d, dict) else {} for d in
                   compiled.data.get("data_intake") or []]
        names = [d.get("name") for d in intakes]
        name = workflow.get("data_intake")
        wf = workflow.get("name")
        if name not in names:
            raise UsageError(f"workflow {wf!r} has no data_intake (type "
                             f"{workflow.get('type')!r}): serve receives the payloads of an "
                             "inbound workflow whose data_intake is a webhook intake")
        index = names.index(name)
        intake = intakes[index]
        if intake.get("type") != "webhook":
            raise UsageError(f"workflow {wf!r} has a {intake.get('type')} data_intake "
                             f"({name!r}), not a webhook intake; run it with "
                             "`manifest-runtime poll`")
        nodes: dict[str, Node] = {}
        for key in COMMANDS:
            node = compiled.node_at(("data_intake", index, key))
            if node is not None:
                nodes[key] = node
        return cls(index, str(name), str(intake.get("scope") or "workflow"), nodes)


# ---------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Incoming:
    """One HTTP request to the receiver, as the web framework gave it."""

    method: str
    url: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # names in any case
    body: bytes
    too_large: bool = False  # the body was cut at MAX_BODY

    @property
    def content_type(self) -> str:
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.split(";", 1)[0].strip().lower()
        return ""


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # a string is sent as text, anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)


_ABSENT = object()  # no payload kept
NUMBER_HEADER = "X-Webhook-Number"  # the reply's journal number (dead letters' record number)


def numbered(reply: Reply, number: int) -> Reply:
    """The reply with the webhook's number (its row of the journal, committed before)."""
    return Reply(reply.status, reply.body, {**reply.headers, NUMBER_HEADER: str(number)})


def flat(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Query or form fields as an object: one value is a string, a repeated name a list."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name not in out:
            out[name] = value
        elif isinstance(out[name], list):
            out[name].append(value)
        else:
            out[name] = [out[name], value]
    return out


def parse_payload(incoming: Incoming) -> tuple[Any, str | None]:
    """(payload, None), or (the body as kept text, why it cannot be read).

    An empty body gives the query parameters; `application/x-www-form-urlencoded` a flat
    object of its fields; any other body must be JSON, whatever its Content-Type says."""
    body = incoming.body
    if not body.strip():
        return flat(incoming.query), None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _cut(body.decode("utf-8", "replace")), \
            f"the request body is not UTF-8 (byte {exc.start})"
    text = text.removeprefix("\ufeff")
    if incoming.content_type == FORM:
        return flat(parse_qsl(text, keep_blank_values=True)), None
    try:
        payload = loads_strict(text)  # no NaN / Infinity, as on every input
    except ValueError as exc:
        kind = incoming.content_type or "no Content-Type"
        return _cut(text), f"the request body ({kind}) is not JSON: {exc}"
    except RecursionError:
        return _cut(text), "the request body nests too deeply to be read"
    if too_deep(payload, text=text):
        return _cut(text), f"the request body nests deeper than {MAX_NESTING} levels"
    return payload, None


def digest(incoming: Incoming) -> str:
    """What identifies a payload for de-duplication: the method and the body (the query
    string when the body is empty). Not the path: a doubled registration may post to an old
    URL and a new one; not the headers: delivery ids and signatures differ per delivery."""
    h = hashlib.sha256(incoming.method.upper().encode())
    h.update(b"\n")
    if incoming.body.strip():
        h.update(incoming.body)
    else:
        h.update(b"?" + "&".join(f"{k}={v}" for k, v in sorted(incoming.query)).encode())
    return h.hexdigest()


def secrets_of(incoming: Incoming) -> list[str]:
    """The request's secret values: of headers and query or form fields named like a secret
    (authorization, cookie, x-api-key, *token*, *secret*, *signature*, ...; each cookie's
    value and a credential after its scheme too), and of JSON body fields named like a
    token (`password`, `api_key`, ...)."""
    found: list[str] = []
    for name, value in incoming.headers:
        if not is_secret_name(name):
            continue
        found.append(value)
        if name.lower() in ("cookie", "set-cookie"):
            found += [part.partition("=")[2].strip() for part in value.split(";")]
        else:
            found.append(value.strip().rpartition(" ")[2])  # "Bearer xyz": xyz
            found += [part.partition("=")[2] for part in value.split(",")]  # t=1,v1=abc
    found += [v for k, v in incoming.query if is_secret_name(k)]
    if incoming.body.strip():
        text = incoming.body.decode("utf-8", "replace")
        if incoming.content_type == FORM:
            found += [v for k, v in parse_qsl(text, keep_blank_values=True)
                      if is_secret_name(k)]
        else:  # the raw text (verification's raw_body): "password": "..." (JSON-escaped)
            found += [m.group(2) for m in _TOKEN_FIELD.finditer(text)]
    return [v for v in found if v]


_NAMES = "|".join(re.escape(f) for f in sorted(TOKEN_FIELDS))
_TOKEN_FIELD = re.compile(r'"(' + _NAMES + r')"\s*:\s*"((?:[^"\\]|\\.)*)"', re.IGNORECASE)


def request_object(incoming: Incoming, payload: Any) -> dict[str, Any]:
    """What `verification` gets as its input."""
    headers: dict[str, str] = {}
    for name, value in incoming.headers:
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return {"method": incoming.method, "url": incoming.url, "query_params": flat(incoming.query),
            "headers": headers, "body": payload,
            "raw_body": incoming.body.decode("utf-8", "replace")}


def _cut(text: str) -> str:
    return text if len(text) <= KEPT_TEXT else \
        text[:KEPT_TEXT] + f"... ({len(text)} characters)"


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _as_text(value: Any) -> str:
    """Routing compares ids as text: 42 and "42" are the same account."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr)


# ---------------------------------------------------------------------- the receiver


@dataclass
class _Handled:
    reply: Reply
    outcome: str  # delivered | failed | ignored | answered | duplicate
    delivered: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    detail: str | None = None
    warnings: list[str] = field(default_factory=list)  # keys the target could not use


Early = Callable[[int], _Handled]  # how a webhook that is not processed ends, given its number
Atomic = Callable[[], AbstractContextManager[Any]]  # one transaction of the state


class Receiver:
    """Handles the webhooks of one workflow, one at a time in arrival order (a single worker
    thread: several payloads about one contact are applied in the order they came).

    A payload to process is journaled with its payload first (committed: `arrived`), then
    processed. With `atomic` (the pipeline writes only into the state: the sandbox), its
    processing and its end are one transaction, so a process killed meanwhile leaves the
    payload journaled and nothing of it written: `recover` (another serve, or the next one)
    processes it once. Without, it is marked `processing` first: taken over, it ends as an
    `outcome-unknown` dead letter (its requests may have gone out), never sent twice."""

    def __init__(self, intake: WebhookIntake, pipeline: Pipeline, setup: Setup | None, *,
                 webhooks: WebhookJournal, journal: Journal | None,
                 on_dead: Callable[[list[DeadLetter]], None] | None = None,
                 log: Callable[[str], None] | None = None,
                 window: float = DEDUPE_WINDOW, redactor: Redactor | None = None,
                 atomic: Atomic | None = None) -> None:
        self.intake = intake
        self.redactor = redactor
        self.window = window
        self.pipeline = pipeline
        self.workflow = pipeline.name
        self.webhooks = webhooks
        self.journal = journal
        self.on_dead = on_dead
        self.log = log
        self.atomic = atomic
        self.counts: Counter[str] = Counter()
        self.taken_over = 0  # payloads of stopped serves processed here
        self.notices: list[str] = []  # said once at start
        self.routes: dict[str, Any] = {}  # account_id / resource_id -> the expected value
        if intake.scope == "application":
            connection = setup.connection if setup is not None and setup.connection else {}
            selection = setup.selection if setup is not None and setup.selection else {}
            saved = {"account_id": (connection.get("account_id"), "connection's account_id"),
                     "resource_id": (selection.get("resource_id"), "selection's resource_id")}
            for key, (expected, what) in saved.items():
                if key not in intake.nodes:
                    continue
                if expected is None:
                    self.notices.append(
                        f"warning: no saved {what} to compare the payloads' {key} with: "
                        f"payloads are not routed by {key} (run setup to save one)")
                else:
                    self.routes[key] = expected
        self._lock = threading.Lock()
        self._kept: dict[int, Any] = {}  # payloads journaled here whose processing failed
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhook")

    @property
    def verifies(self) -> bool:
        return "verification" in self.intake.nodes

    def submit(self, incoming: Incoming) -> Future[Reply]:
        """Handle on the worker thread (in arrival order)."""
        return self._worker.submit(self.handle, incoming)

    def call(self, job: Callable[[], object]) -> Future[object]:
        """Run `job` on the worker thread, between webhooks (the state's connection is used
        by that thread only while serving)."""
        return self._worker.submit(job)

    def close(self) -> None:
        """Wait for the webhooks in hand to end."""
        self._worker.shutdown(wait=True)

    def handle(self, incoming: Incoming) -> Reply:
        """One webhook, recorded from start to end. Never raises: when the state fails
        (locked for too long, full), the sender is told to retry later (503)."""
        scope = self.redactor.scoped(secrets_of(incoming)) if self.redactor is not None \
            else nullcontext()
        try:
            with scope:
                return self._recorded(incoming)
        except SYSTEM_ERRORS as exc:
            self._busy(exc)
            return Reply(503, {"error": "busy: retry later"}, {"Retry-After": "30"})

    def _busy(self, exc: BaseException) -> None:
        if self.log is not None:
            self.log(f"webhook: the state failed ({exc}); answered 503 so the sender "
                     "retries later")

    def _recorded(self, incoming: Incoming) -> Reply:
        key = digest(incoming)
        payload, early = self._screen(incoming)
        method = incoming.method
        if early is not None:
            number = self.webhooks.received(self.workflow, self.intake.name, method, key)
            handled = self._guarded(number, incoming.body.decode("utf-8", "replace"),
                                    lambda: early(number))
            self._record(number, handled)
            self._said(number, method, handled)
            return numbered(handled.reply, number)
        stored = self.pipeline.env.redact_value(payload)  # this webhook's secrets masked
        number, first = self.webhooks.arrived(self.workflow, self.intake.name, method, key,
                                              stored, stored != payload, self.window)
        if first is not None:
            why = (f"the same payload as webhook {first.number} ({first.received_at}, "
                   f"{first.outcome}), within the {self.window:g} s window: not processed again")
            handled = _Handled(Reply(200, {"duplicate": why}), "duplicate",
                               detail=f"same payload as webhook {first.number}")
            self._said(number, method, handled)
            return numbered(handled.reply, number)
        try:
            handled = self._process(number, method, payload)
        except SYSTEM_ERRORS:  # the state failed: `recover` retries it, as it came
            with self._lock:
                self._kept[number] = payload
            raise
        if handled.reply.status >= 500:  # refused: a retry of it is processed
            self.webhooks.release(self.workflow, key, number)
        return numbered(handled.reply, number)

    # ------------------------------------------------------------------ before journaling

    def _screen(self, incoming: Incoming) -> tuple[Any, Early | None]:
        """Read the body and run verification: (the payload to process, None), or how the
        webhook ends without being processed."""
        if incoming.too_large:
            def too_large(number: int) -> _Handled:
                dead = self._dead(number, _cut(incoming.body.decode("utf-8", "replace")),
                                  "read", Diagnostic("webhook-too-large", f"the request body "
                                                     f"is larger than {MAX_BODY} bytes",
                                                     hint="send smaller payloads (one event "
                                                     "per request)"))
                return _Handled(Reply(413, {"error": dead.message}), "failed", dead=[dead])
            return None, too_large
        payload, error = parse_payload(incoming)
        if error is not None:
            def unread(number: int) -> _Handled:
                outcome = self.pipeline.process(Record(number, payload, error))
                return _Handled(Reply(400, {"error": error}), "failed", dead=outcome.dead)
            return None, unread
        verification = self.intake.nodes.get("verification")
        if verification is not None:
            answered = self._verify(verification, incoming, payload)
            if answered is not None:
                return None, answered
        return payload, None

    def _verify(self, node: Node, incoming: Incoming, payload: Any) -> Early | None:
        """None to process the payload, else how the webhook ends."""
        where = (*self.intake.path, "verification")
        ctx = self.pipeline.intake_context()
        try:
            output = run_node(node, request_object(incoming, payload), ctx)
        except EvaluationError as exc:
            diagnostic = exc.diagnostic

            def failed(number: int) -> _Handled:
                dead = self._dead(number, payload, "verification", diagnostic)
                return _Handled(Reply(500, {"error": f"verification failed ({dead.code})"}),
                                "failed", dead=[dead])
            return failed
        if not isinstance(output, dict) or not isinstance(output.get("process_payload"), bool):
            wrong = Diagnostic(
                "verification-output", f"verification must output what !respond builds "
                f"({{process_payload, code, headers, body}}), got "
                f"{excerpt(self.pipeline.env.redact_value(output), 120)}", where,
                hint="end every case of the verification !switch with !respond")

            def malformed(number: int) -> _Handled:
                dead = self._dead(number, payload, "verification", wrong)
                return _Handled(Reply(500, {"error": "verification failed "
                                           "(verification-output)"}), "failed", dead=[dead])
            return malformed
        if output["process_payload"]:
            return None
        code = output.get("code", 200)
        status = code if isinstance(code, int) and 100 <= code <= 599 else 200
        raw_headers = output.get("headers")
        headers = {str(k): v if isinstance(v, str) else _as_text(v)
                   for k, v in (raw_headers.items() if isinstance(raw_headers, dict) else ())}
        reply = Reply(status, output.get("body", {}), headers)
        return lambda number: _Handled(reply, "answered",
                                       detail=f"replied {status} without processing the "
                                       "payload")

    # ------------------------------------------------------------------ processing

    def _process(self, number: int, method: str, payload: Any, origin: str = "") -> _Handled:
        """Route and run a journaled payload, and record its end: in one transaction of the
        state with `atomic` (a rolled-back part: once more without), else after marking it
        `processing`."""
        text = json.dumps(payload, ensure_ascii=False, default=repr)

        def run() -> _Handled:
            return self._guarded(number, text, lambda: self._run(number, payload))

        handled: _Handled | None = None
        if self.atomic is not None:
            with self.atomic() as db:
                handled = run()
                self._record(number, handled)
            if getattr(db, "spoiled", False):
                handled = None
        if handled is None:
            if self.pipeline.sends_http or self.atomic is None:
                self.webhooks.processing(number)
            handled = run()
            self._record(number, handled)
        self._said(number, method, handled, origin)
        return handled

    def _run(self, number: int, payload: Any) -> _Handled:
        ctx = self.pipeline.intake_context()
        for key, expected in self.routes.items():
            try:
                got = run_node(self.intake.nodes[key], payload, ctx)
            except EvaluationError as exc:
                dead = self._dead(number, payload, "route", exc.diagnostic)
                return _Handled(Reply(200, {"delivered": 0, "failed": 1}), "failed",
                                dead=[dead])
            if _as_text(got) != _as_text(expected):
                owner = "connection" if key == "account_id" else "selection"
                why = (f"{key} {excerpt(self.pipeline.env.redact_value(got), 80)} is not this "
                       f"{owner}'s ({excerpt(expected, 80)})")
                return _Handled(Reply(202, {"ignored": why}), "ignored", detail=why)
        outcome: Outcome = self.pipeline.process(Record(number, payload))
        return _Handled(Reply(200, {"delivered": outcome.delivered, "failed": len(outcome.dead)}),
                        "failed" if outcome.dead else "delivered", delivered=outcome.delivered,
                        dead=outcome.dead, warnings=outcome.warnings)

    def _guarded(self, number: int, text: str, step: Callable[[], _Handled]) -> _Handled:
        try:
            return step()
        except SYSTEM_ERRORS:
            raise
        except Exception as exc:  # a bug: still, the payload must not be lost
            dead = self._dead(number, text, "internal",
                              Diagnostic("runtime-error", f"unexpected failure: "
                                         f"{type(exc).__name__}: {exc}",
                                         hint="please report this with the payload"))
            return _Handled(Reply(500, {"error": "internal error; the payload is in the "
                                        "dead letters"}), "failed", dead=[dead])

    def _record(self, number: int, handled: _Handled) -> None:
        """The webhook's end in the state: its dead letters and its journal row."""
        if handled.dead:
            if self.journal is not None:
                self.journal.finish(None, number, handled.dead)
            first = handled.dead[0]
            handled.detail = handled.detail or _short(
                f"{first.stage} {first.code}: {first.message}")
        self.webhooks.finish(number, handled.outcome, handled.reply.status,
                             delivered=handled.delivered, failed=len(handled.dead),
                             detail=self.pipeline.env.redact(handled.detail)
                             if handled.detail else None)

    def _said(self, number: int, method: str, handled: _Handled, origin: str = "") -> None:
        """After the webhook's end is committed: dead-letter file, counts, the log line."""
        if handled.dead and self.on_dead is not None:
            self.on_dead(handled.dead)
        with self._lock:
            self.counts[handled.outcome] += 1
        if self.log is not None:
            self.log(self.pipeline.env.redact(self._line(number, method, handled, origin)))
            for warning in handled.warnings:  # never a silent drop (issue 12)
                self.log(self.pipeline.env.redact(f"webhook {number}: warning: {warning}"))

    def _line(self, number: int, method: str, h: _Handled, origin: str = "") -> str:
        what = {"delivered": f"delivered {h.delivered}",
                "failed": f"failed ({len(h.dead)} dead letter{'s' * (len(h.dead) != 1)}"
                f"{f', delivered {h.delivered}' if h.delivered else ''}): {h.detail}",
                "ignored": f"ignored: {h.detail}",
                "answered": f"answered by verification: {h.detail}",
                "duplicate": f"duplicate: {h.detail}"}[h.outcome]
        end = f" -> {h.reply.status}" if not origin else ""
        return f"webhook {number}: {method}{origin} {what}{end}"

    # ------------------------------------------------------------------ taking over

    def recover(self) -> int:
        """Process the journaled payloads whose serve stopped before ending them (and this
        process's own ones a state failure interrupted: processed as they came, from
        memory). Call it on the worker thread (`call`), or before serving. How many were
        taken over from stopped serves."""
        taken = 0
        for number, holder in self.webhooks.stranded(self.workflow):
            pending = self.webhooks.take(number, holder)
            if pending is None:  # another serve took it first
                continue
            if pending.previous != me():
                taken += 1
                origin = f" (taken over from {pending.previous}, which stopped before it ended)"
            else:
                origin = " (retried after a state failure)"
                with self._lock:
                    kept = self._kept.pop(number, _ABSENT)
                if kept is not _ABSENT:  # as it came, secrets and all
                    pending = replace(pending, payload=kept, masked=False)
            self._takeover(pending, origin)
        with self._lock:
            self.taken_over += taken
        return taken

    def _takeover(self, pending: Pending, origin: str) -> None:
        if pending.outcome == "received" and not pending.masked:
            self._process(pending.number, pending.method, pending.payload, origin)
            return
        if pending.masked:
            d = Diagnostic("webhook-not-kept", f"webhook {pending.number} "
                           f"({pending.received_at}) was journaled with its secret values "
                           "masked (the journal keeps no incoming secret), and the serve that "
                           "received it stopped before processing it: it cannot be processed "
                           "as it came", hint="have the sender resend it (or resend it by "
                           "hand); the payload, masked, is in this dead letter")
            stage = "read"
        else:
            d = Diagnostic("outcome-unknown", f"webhook {pending.number} "
                           f"({pending.received_at}): the serve processing it stopped while "
                           "its requests were in flight: the receiving side may or may not "
                           "have acted on them; it is not sent again automatically",
                           self.pipeline.target_path, hint="check the target, then resend "
                           "the payload if it did not arrive")
            stage = "target"
        dead = self._dead(pending.number, pending.payload, stage, d)
        handled = _Handled(Reply(200, {"delivered": 0, "failed": 1}), "failed", dead=[dead])
        self._record(pending.number, handled)
        self._said(pending.number, pending.method, handled, origin)

    def _dead(self, number: int, value: Any, stage: str, d: Diagnostic) -> DeadLetter:
        if d.path:
            d = with_location(d, self.pipeline.compiled.source)
        env = self.pipeline.env
        where = f" ({d.file}:{d.line}:{d.column})" if d.line else ""
        return DeadLetter(
            workflow=self.workflow, record_no=number, item=None, stage=stage, code=d.code,
            message=env.redact(d.message + where + "".join(f"; {n}" for n in d.notes)),
            pointer=d.pointer, record=env.redact_value(value),
            hint=env.redact(d.hint) if d.hint else None)
