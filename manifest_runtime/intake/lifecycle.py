"""A webhook intake's registration lifecycle (reference §4.1 create / update / delete), journaled
as intents in the state file (`webhook_registrations`, intake/journal.py):

* `register` (serve's start): `creating` is committed before `create` runs; then the row is
  `registered` (create succeeded), removed (create surely registered nothing: the provider
  refused it, or it could not be reached) or `unknown` (a timeout, a dropped connection, a
  5xx, or a step failing after the provider accepted the request: a hook may exist that
  nothing here knows the id of). A row left `creating` by a process that died is `unknown`
  too. An `unknown` registration is never registered again silently: `register` says what to
  check and serves without running `create`, until `forget` clears it.
* Several serves of one workflow (docs/serve.md "Several serve processes") share one
  registration: row transitions are compare-and-set (`WebhookJournal.claim`), so of serves
  starting together one runs `create` and the others wait for it and join; `leave` keeps the
  registration while other serves of the workflow are alive (handing this one's ownership
  over); `watch` (every tick) takes a dead owner's row over and registers again a row that
  vanished while serves are alive.
* `unregister` (the last serve's stop): `delete` for a `registered` row, moved to
  `deleting` first (compare-and-set: two serves stopping together run it once).
* `refresh` (setup on a registered workflow): `update`, or `delete` + `create` where the
  intake has no `update` (a warning says so).

Nothing here prints: warnings go to the `warn` callback, results are returned as text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import EvaluationError, UsageError
from ..runtime.context import EvalContext
from ..runtime.run import run_node
from .journal import me

if TYPE_CHECKING:
    from ..http.types import HttpRequest, HttpResponse, HttpService
    from .journal import Registration, WebhookJournal
    from .webhook import WebhookIntake

# failures of a request that may have reached the provider and been acted on
_MAYBE_SENT = ("http-timeout", "http-connect")
_NEVER_SENT = ("ConnectError",)  # an http-connect message naming these: nothing left
WAIT = 60.0  # seconds to wait for another serve's create or delete to end
POLL = 0.1  # seconds between looks meanwhile


@dataclass
class _Watch:
    """The HTTP service with a note of whether a request may have reached the provider and
    been acted on (answered 2xx or 5xx, timed out, connection dropped)."""

    inner: HttpService
    maybe_acted: bool = False

    def send(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.inner.send(request)
        except EvaluationError as exc:
            d = exc.diagnostic
            if d.code in _MAYBE_SENT and not any(n in d.message for n in _NEVER_SENT):
                self.maybe_acted = True
            raise
        if response.status < 400 or response.status >= 500:
            self.maybe_acted = True
        return response


def _watched(ctx: EvalContext) -> tuple[EvalContext, _Watch | None]:
    if ctx.env.http is None:
        return ctx, None
    watch = _Watch(ctx.env.http)
    return EvalContext(replace(ctx.env, http=watch), dict(ctx.roots())), watch


def what_to_check(known: Registration, provider: str | None) -> str:
    at = f" ({provider})" if provider else ""
    why = f" ({known.detail})" if known.detail else ""
    return (f"the outcome of registering {known.url} is unknown{why}: the provider{at} may "
            f"have a webhook for {known.url} that this state file has no id for. Check the "
            "provider's webhooks for that URL and remove any you do not want, then run "
            "`serve --forget-registration`; until then serve does not run create (no second "
            "hook) and payloads that do arrive are processed once")


def register(intake: WebhookIntake, workflow: str, url: str, webhooks: WebhookJournal,
             ctx: EvalContext, warn: Callable[[str], None], provider: str | None = None,
             wait: float = WAIT) -> str:
    """Run `create` unless the state says `url` is registered already (then this process
    joins the serves receiving at it, and takes the registration over when its owner is
    gone); a registration for another URL is removed first (its `delete`, when there is
    one). Of several processes starting together, one runs `create` (compare-and-set on the
    row) and the others wait for its outcome. Returns what was done; raises EvaluationError
    when `create` fails (the row then says whether the outcome is unknown) and UsageError
    when live serves receive the workflow's webhooks at another URL."""
    deadline = time.monotonic() + wait
    while True:
        known = webhooks.registration(workflow, intake.name)
        if known is None:
            if webhooks.claim(workflow, intake.name, url, None):
                create(intake, workflow, url, webhooks, ctx)
                return f"registered {url} (create ran)"
            continue  # another process claimed it first: look again
        owner_alive = webhooks.alive(workflow, known.owner)
        if known.status in ("creating", "deleting") and owner_alive and known.owner != me():
            if time.monotonic() > deadline:
                doing = "registering" if known.status == "creating" else "removing"
                raise UsageError(f"another `serve` ({known.owner}) has been {doing} the "
                                 f"webhook of workflow {workflow!r} for more than {wait:g} s; "
                                 "try again when it is done")
            time.sleep(POLL)
            continue
        if known.status in ("creating", "deleting"):  # its process died meanwhile
            what = "registering it stopped during create" if known.status == "creating" \
                else "removing it stopped during delete"
            webhooks.claim(workflow, intake.name, known.url, known, "unknown",
                           f"the process {what}")
            continue
        if not known.settled:
            warn(what_to_check(known, provider))
            if known.url != url:
                warn(f"{url} is not registered (create not run): if the unknown hook exists, "
                     f"the provider sends to {known.url}")
            return f"create not run: the registration for {known.url} is unknown"
        if known.url == url:
            since = f"(since {known.registered_at})"
            if known.owner == me():
                return f"registered already for {url} {since}: create not run again"
            if owner_alive:
                return (f"registered already for {url} {since} by serve {known.owner}: "
                        "receiving with it (create not run again)")
            if not webhooks.take_over(known):
                continue
            gone = f"; taken over from {known.owner} (stopped)" if known.owner else ""
            return f"registered already for {url} {since}: create not run again{gone}"
        live = [m.member for m in webhooks.others(workflow)]
        if (owner_alive and known.owner != me()) or live:
            who = known.owner if owner_alive else live[0]
            raise UsageError(f"another `serve` ({who}) is receiving the webhooks of workflow "
                             f"{workflow!r} at {known.url}; stop it first, or give this serve "
                             "the same URL (behind a load balancer: --public-url with the "
                             "balancer's URL on every serve)")
        if not webhooks.claim(workflow, intake.name, url, known):
            continue
        delete = intake.nodes.get("delete")
        if delete is None:
            warn(f"the registration for {known.url} cannot be removed (the intake has no "
                 "delete command); registering the new URL")
        else:
            try:
                run_node(delete, None, ctx)
            except EvaluationError as exc:
                warn(f"removing the registration for {known.url} failed "
                     f"({exc.diagnostic.code}: {exc.diagnostic.message}); registering the new "
                     "URL anyway")
        create(intake, workflow, url, webhooks, ctx)
        return f"registered {url} (create ran)"


def create(intake: WebhookIntake, workflow: str, url: str, webhooks: WebhookJournal,
           ctx: EvalContext) -> None:
    """`create` journaled as an intent: `creating` before it, `registered` after; on failure
    the row is removed (nothing registered) or `unknown` (see the module docstring)."""
    webhooks.registered(workflow, intake.name, url, "creating")
    watched, watch = _watched(ctx)
    try:
        run_node(intake.nodes["create"], None, watched)
    except EvaluationError as exc:
        if watch is not None and watch.maybe_acted:
            d = exc.diagnostic
            webhooks.registered(workflow, intake.name, url, "unknown",
                                ctx.env.redact(f"{d.code}: {d.message}"))
        else:
            webhooks.unregistered(workflow, intake.name)
        raise
    except BaseException:  # interrupted: the request may have gone out
        webhooks.registered(workflow, intake.name, url, "unknown", "create was interrupted")
        raise
    webhooks.registered(workflow, intake.name, url)


def unregister(intake: WebhookIntake, workflow: str, webhooks: WebhookJournal,
               ctx: EvalContext) -> str:
    """Run `delete` for the registration recorded in the state. Returns what was done;
    raises EvaluationError when `delete` fails (the registration stays recorded)."""
    known = webhooks.registration(workflow, intake.name)
    if known is None:
        return "nothing registered to remove"
    if known.status == "deleting":
        return f"the registration for {known.url} is being removed by {known.owner}"
    if not known.settled:
        return (f"registration kept: its outcome is unknown ({known.url}); check the "
                "provider, then `serve --forget-registration`")
    if "delete" not in intake.nodes:
        return f"registration kept at the provider: the intake has no delete ({known.url})"
    if not webhooks.claim(workflow, intake.name, known.url, known, "deleting"):
        return unregister(intake, workflow, webhooks, ctx)  # changed meanwhile: look again
    try:
        run_node(intake.nodes["delete"], None, ctx)
    except BaseException:
        webhooks.registered(workflow, intake.name, known.url)  # still there, as far as known
        raise
    webhooks.unregistered(workflow, intake.name)
    return f"removed the registration for {known.url} (delete ran)"


def leave(intake: WebhookIntake, workflow: str, webhooks: WebhookJournal) -> str | None:
    """This serve stops receiving. While other serves of the workflow are alive, the
    registration stays (this process's ownership handed to one of them) and what was done is
    returned; None when this is the last one (the registration is this process's to remove
    or keep)."""
    webhooks.leave(workflow)
    others = webhooks.others(workflow)
    if not others:
        return None
    known = webhooks.registration(workflow, intake.name)
    n = len(others)
    still = f"{n} other serve process{'es' * (n != 1)} of the workflow still " \
        f"receive{'s' * (n == 1)}"
    if known is not None and known.owner == me() and webhooks.hand_over(
            workflow, intake.name, others[0].member):
        return f"registration kept: {still} ({others[0].member} holds it now)"
    return f"registration kept: {still}"


def watch(intake: WebhookIntake, workflow: str, url: str, webhooks: WebhookJournal,
          ctx: EvalContext, warn: Callable[[str], None]) -> str | None:
    """While serving (every few seconds): take the registration over when its owner is gone,
    and register again when it vanished (the last other serve removed it as this one was
    joining). What was done, or None."""
    known = webhooks.registration(workflow, intake.name)
    if known is None:
        return register(intake, workflow, url, webhooks, ctx, warn)
    if known.status == "registered" and known.url == url and known.owner != me() \
            and not webhooks.alive(workflow, known.owner) and webhooks.take_over(known):
        gone = f" from {known.owner} (stopped)" if known.owner else ""
        return f"took the registration for {url} over{gone}"
    return None


def stop_plan(intake: WebhookIntake, known: Registration | None, *, no_register: bool,
              keep: bool) -> str:
    """What happens to the registration when serve stops (said on start and on stop)."""
    if no_register:
        return "registration left as it is (--no-register: delete not run)"
    if keep:
        return "registration kept for the next serve (--keep-registration: delete not run)"
    if known is not None and not known.settled:
        return "registration kept: its outcome is unknown (delete not run)"
    if "delete" not in intake.nodes:
        return "registration kept at the provider: the intake has no delete"
    return "then removing the registration (delete)"


def forget(webhooks: WebhookJournal, workflow: str, intake: str) -> str:
    """`serve --forget-registration`: remove the row, whatever its status."""
    known = webhooks.registration(workflow, intake)
    if known is None:
        return "--forget-registration: no registration was recorded"
    live = [m.member for m in webhooks.others(workflow)]
    if (known.owner != me() and webhooks.alive(workflow, known.owner)) or live:
        who = known.owner if webhooks.alive(workflow, known.owner) else live[0]
        raise UsageError(f"another `serve` ({who}) is receiving the webhooks of "
                         f"workflow {workflow!r} at {known.url}: its registration is not "
                         "forgotten; stop it first")
    webhooks.unregistered(workflow, intake)
    return (f"forgot the {known.status} registration for {known.url} (recorded "
            f"{known.registered_at}); the provider was not asked to remove anything")


def refresh(intake: WebhookIntake, workflow: str, webhooks: WebhookJournal,
            ctx: Callable[[str], EvalContext], warn: Callable[[str], None],
            provider: str | None = None) -> str | None:
    """After setup saved new choices: `update` the registration recorded for the workflow
    (or `delete` + `create` where there is no update). `ctx(url)` is the intake's context
    with `${webhook.url}` = url. None when nothing is registered; raises EvaluationError when
    a command fails."""
    known = webhooks.registration(workflow, intake.name)
    if known is None:
        return None
    if not known.settled:
        warn(f"update not run: {what_to_check(known, provider)}")
        return None
    context = ctx(known.url)
    update = intake.nodes.get("update")
    if update is not None:
        run_node(update, None, context)
        return f"updated the registration for {known.url} (update ran)"
    if "delete" not in intake.nodes:
        warn(f"the registration for {known.url} keeps the choices it was made with: the "
             "intake has neither update nor delete (serve --forget-registration, then serve, "
             "registers anew)")
        return None
    warn(f"webhook intake {intake.name!r} has no update command: re-registering "
         f"{known.url} with delete + create")
    run_node(intake.nodes["delete"], None, context)
    webhooks.unregistered(workflow, intake.name)
    create(intake, workflow, known.url, webhooks, context)
    return f"re-registered {known.url} (delete, then create ran)"
