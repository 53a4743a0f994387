"""One record through a workflow's data_pipeline: source -> transform -> target (DESIGN §4).

* inbound (`type: generic`): the record is a payload, the source's input;
* outbound (`type: automations`): the record is the contact being processed
  (`!resource ActiveCampaignContact` as source outputs it); the source's input is null.

A source that outputs an array fans out: each element goes through transform and target on
its own (its `item` index names it in dead letters). Every failure is caught here and becomes
a `DeadLetter` with the stage it happened in; nothing escapes and nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any

from ..activecampaign.ignored import collecting, ignored_warnings
from ..errors import Diagnostic, EvaluationError
from ..expressions.nodes import Missing
from ..runtime.context import Env, EvalContext
from ..runtime.errors import with_location
from ..runtime.evaluate import SYSTEM_ERRORS
from ..runtime.run import node_runner, run_node
from ..state import Setup
from ..workflows import Workflow
from .journal import DeadLetter
from .personalize import personalize, personalized_fields
from .records import Record
from .transform import has_email, mapping_pairs, transformer

if TYPE_CHECKING:
    from ..http.types import HttpService
    from ..model import CompiledManifest, Node


@dataclass
class Outcome:
    record_no: int
    items: int | None = None  # how many items its source's array fanned out into (else None)
    delivered: int = 0
    dead: list[DeadLetter] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)  # transformed (dry run) or target outputs
    warnings: list[str] = field(default_factory=list)  # keys the target could not use


class Pipeline:
    """A workflow's pipeline, ready to process records; safe to share between threads."""

    def __init__(self, compiled: CompiledManifest, workflow: Workflow | int,
                 setup: Setup | None, env: Env, *, webhook_url: str, subdomain: str | None,
                 dry_run: bool = False) -> None:
        if isinstance(workflow, int):  # by index
            from ..workflows import workflows

            workflow = workflows(compiled)[workflow]
        self.compiled = compiled
        self.view = workflow
        self.workflow: dict[str, Any] = compiled.data["workflows"][workflow.index]
        self.name = workflow.name
        index = workflow.index
        base = ("workflows", index, "data_pipeline")
        self.source_path = (*base, "source")
        self.target_path = (*base, "target")
        source, target = compiled.node_at(self.source_path), compiled.node_at(self.target_path)
        if source is None or target is None:  # a valid manifest always has both
            raise ValueError(f"workflow {index} has no data_pipeline source and target")
        self.source: Node = source  # found once, run per record
        self.target: Node = target
        self._run_source = node_runner(source)  # run_node(source, ...), made once
        self.inbound = workflow.inbound
        # does a step send HTTP requests of its own (not to the ActiveCampaign account)?
        self.sends_http = _sends_http(source) or _sends_http(target)
        self.env = env
        self._envs = {role: replace(env, contact=None, resource_role=role)
                      for role in ("source", "target")}  # inbound: no per-record contact
        self._shared: dict[str, EvalContext] = {}  # contexts without a contact, by role
        self.dry_run = dry_run
        # identity without a map step, or with one that has nothing to map to (the published
        # Twilio config's map has describe_source only, and its target reads the contact)
        self.mapping: dict[str, Any] | None = dict(setup.mapping) \
            if workflow.maps and setup is not None else None
        self.pairs = None if self.mapping is None else mapping_pairs(self.mapping)
        self._transform = transformer(self.pairs)
        self.custom_data = dict(setup.custom_data) if setup is not None else {}
        selection = setup.selection if setup is not None else None
        self.resource: Any = {"id": selection.get("resource_id"),
                              "display": selection.get("display")} if selection else None
        self.webhook = {"url": webhook_url}
        self.subdomain = subdomain
        self.personalized = personalized_fields(self.workflow)
        self.perstags: dict[str, str] = {}
        if self.personalized and env.ac is not None:
            self.perstags = {f.perstag: f.id for f in getattr(env.ac, "custom_fields", ())}

    def process(self, record: Record, http: HttpService | None = None) -> Outcome:
        """Never raises (but for the state file failing): a failure of any kind becomes a
        dead letter. `http`: this record's HTTP service (the run's by default)."""
        try:
            return self._process(record, http)
        except SYSTEM_ERRORS:  # the state file failed: stop the run, don't fail each record
            raise
        except Exception as exc:  # a bug: still, the record must not be lost
            outcome = Outcome(record.number)
            outcome.dead.append(self._dead(record, None, "internal", Diagnostic(
                "runtime-error", f"unexpected failure: {type(exc).__name__}: {exc}",
                hint="please report this with the record")))
            return outcome

    def _process(self, record: Record, http: HttpService | None) -> Outcome:
        if record.error is not None:
            outcome = Outcome(record.number)
            hint = "each input line is one JSON value, in UTF-8" \
                if record.code == "record-not-utf8" else "each input line is one JSON value"
            outcome.dead.append(self._dead(record, None, "read", Diagnostic(
                record.code, record.error, hint=hint)))
            return outcome
        inbound = self.inbound
        contact = None if inbound else record.value
        if not inbound and not isinstance(contact, dict):
            outcome = Outcome(record.number)
            outcome.dead.append(self._dead(record, None, "read", Diagnostic(
                "record-not-contact", f"line {record.number}: a contact is a JSON object",
                hint='e.g. {"email": "ada@example.com", "firstName": "Ada"}')))
            return outcome
        outcome = Outcome(record.number)
        try:
            produced = self._run_source(record.value if inbound else None,
                                        self._context(contact, "source", http))
        except EvaluationError as exc:
            outcome.dead.append(self._dead(record, None, "source", exc.diagnostic))
            return outcome
        if isinstance(produced, list):
            outcome.items = len(produced)
            for i, item in enumerate(produced):
                self._deliver(record, i, item, contact, outcome, http)
        else:
            self._deliver(record, None, produced, contact, outcome, http)
        return outcome

    def _deliver(self, record: Record, item: int | None, value: Any,
                 contact: dict[str, Any] | None, outcome: Outcome,
                 http: HttpService | None) -> None:
        transformed = self._transform(value)
        if self.inbound and self.mapping is not None and not has_email(transformed):
            outcome.dead.append(self._dead(record, item, "transform", Diagnostic(
                "no-email", "the transformed record has no email: ActiveCampaign contacts "
                "are matched by email", self.target_path,
                hint="map the source field holding the email address to the Email field "
                "(setup's map step), or check the payload")))
            return
        if self.dry_run:
            outcome.outputs.append(transformed)
            return
        ignored: list[str] = []
        try:
            with collecting() as ignored:  # keys the target could not use: warnings
                output = run_node(self.target, transformed,
                                  self._context(contact, "target", http))
        except EvaluationError as exc:
            outcome.dead.append(self._dead(record, item, "target", exc.diagnostic))
            return
        finally:
            if ignored:
                outcome.warnings += ignored_warnings(ignored, record.number, item)
        outcome.delivered += 1
        outcome.outputs.append(output)

    def _context(self, contact: dict[str, Any] | None, role: Any,
                 http: HttpService | None = None) -> EvalContext:
        if contact is None and http is None and self.env.trace is None:
            shared = self._shared.get(role)  # the same for every record: made once
            if shared is None:
                shared = self._shared[role] = self._make_context(None, role, None)
            return shared
        return self._make_context(contact, role, http)

    def _make_context(self, contact: dict[str, Any] | None, role: Any,
                      http: HttpService | None) -> EvalContext:
        env = self._envs[role] if contact is None else \
            replace(self.env, contact=contact, resource_role=role)
        if http is not None or env.trace is not None:  # this record's own services
            env = replace(env, http=http or env.http, trace_args=[])
        custom_data = personalize(self.custom_data, self.personalized, contact, self.perstags)
        return EvalContext.create(custom_data=custom_data, webhook=self.webhook,
                                  subdomain=self.subdomain,
                                  resource=Missing if self.resource is None else self.resource,
                                  env=env, reload_data=False)

    def intake_context(self, polling_state: Any = Missing) -> EvalContext:
        """The context of the workflow's intake commands (polling lifecycle): the setup's
        custom_data and selection, and `${polling_state}` when one is stored."""
        return EvalContext.create(custom_data=self.custom_data, webhook=self.webhook,
                                  subdomain=self.subdomain, polling_state=polling_state,
                                  resource=Missing if self.resource is None else self.resource,
                                  env=self.env, reload_data=False)

    def dead_letter(self, record: Record, stage: str, d: Diagnostic) -> DeadLetter:
        """A dead letter of `record` for a failure found outside the pipeline (the run's
        journal)."""
        return self._dead(record, None, stage, d)

    def _dead(self, record: Record, item: int | None, stage: str, d: Diagnostic
              ) -> DeadLetter:
        if d.path:
            d = with_location(d, self.compiled.source)
        redact = self.env.redact
        where = f" ({d.file}:{d.line}:{d.column})" if d.line else ""
        return DeadLetter(
            workflow=self.name, record_no=record.number, item=item, stage=stage, code=d.code,
            message=redact(d.message + where + "".join(f"; {n}" for n in d.notes)),
            pointer=d.pointer, record=self.env.redact_value(record.value),
            hint=redact(d.hint) if d.hint else None)


def _sends_http(node: Any) -> bool:
    """Does the compiled node hold an `!http` command whose target is not the ActiveCampaign
    account?"""
    from ..commands.http import HttpNode

    stack, seen = [node], set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, HttpNode) and item.target != "activecampaign":
            return True
        if is_dataclass(item) and not isinstance(item, type):
            stack.extend(getattr(item, f.name) for f in fields(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False
