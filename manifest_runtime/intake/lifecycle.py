"""A webhook intake's registration lifecycle (reference §4.1 create / update / delete), journaled
as intents in the state file (`webhook_registrations`, intake/journal.py):

* `register` (serve's start): `creating` is committed before `create` runs; then the row is
  `registered` (create succeeded), removed (create surely registered nothing: the provider
  refused it, or it could not be reached) or `unknown` (a timeout, a dropped connection, a
  5xx, or a step failing after the provider accepted the request: a hook may exist that
  nothing here knows the id of). A row left `creating` by a process that died is `unknown`
  too. An `unknown` registration is never registered again silently: `register` says what to
  check and serves without running `create`, until `forget` clears it.
* `unregister` (serve's stop): `delete` for a `registered` row.
* `refresh` (setup on a registered workflow): `update`, or `delete` + `create` where the
  intake has no `update` (a warning says so).

Nothing here prints: warnings go to the `warn` callback, results are returned as text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import EvaluationError, UsageError
from ..runtime.context import EvalContext
from ..runtime.run import run_node

if TYPE_CHECKING:
    from ..http.types import HttpRequest, HttpResponse, HttpService
    from .journal import Registration, WebhookJournal
    from .webhook import WebhookIntake

# failures of a request that may have reached the provider and been acted on
_MAYBE_SENT = ("http-timeout", "http-connect")
_NEVER_SENT = ("ConnectError",)  # an http-connect message naming these: nothing left


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
             ctx: EvalContext, warn: Callable[[str], None], provider: str | None = None
             ) -> str:
    """Run `create` unless the state file says `url` is registered already; a registration
    for another URL is removed first (its `delete`, when there is one). Returns what was done;
    raises EvaluationError when `create` fails (the row then says whether the outcome is
    unknown) and UsageError when another live serve holds the registration."""
    known = webhooks.registration(workflow, intake.name)
    if known is not None and known.held_by_another_live_process():
        raise UsageError(f"another `serve` ({known.owner}) is receiving the webhooks of "
                         f"workflow {workflow!r} at {known.url}; stop it first (one receiver "
                         "per workflow and state file)")
    if known is not None and not known.settled:
        if known.status == "creating":  # its process died during create
            webhooks.registered(workflow, intake.name, known.url, "unknown",
                                "the process registering it stopped during create")
            known = webhooks.registration(workflow, intake.name)
            assert known is not None
        warn(what_to_check(known, provider))
        return f"create not run: the registration for {known.url} is unknown"
    if known is not None and known.url == url:
        return (f"registered already for {url} (since {known.registered_at}): create not run "
                "again")
    if known is not None:
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
        webhooks.unregistered(workflow, intake.name)
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
            webhooks.registered(workflow, intake.name, url, "unknown", f"{d.code}: {d.message}")
        else:
            webhooks.unregistered(workflow, intake.name)
        raise
    except BaseException:  # interrupted: the request may have gone out
        webhooks.registered(workflow, intake.name, url, "unknown", "create was interrupted")
        raise
    webhooks.registered(workflow, intake.name, url)


def unregister(intake: WebhookIntake, workflow: str, webhooks: WebhookJournal,
               ctx: EvalContext) -> str:
    """Run `delete` for the registration recorded in the state file. Returns what was done;
    raises EvaluationError when `delete` fails (the registration stays recorded)."""
    known = webhooks.registration(workflow, intake.name)
    if known is None:
        return "nothing registered to remove"
    if not known.settled:
        return (f"registration kept: its outcome is unknown ({known.url}); check the "
                "provider, then `serve --forget-registration`")
    if "delete" not in intake.nodes:
        return f"registration kept at the provider: the intake has no delete ({known.url})"
    run_node(intake.nodes["delete"], None, ctx)
    webhooks.unregistered(workflow, intake.name)
    return f"removed the registration for {known.url} (delete ran)"


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
