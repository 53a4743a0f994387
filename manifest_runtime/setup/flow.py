"""The setup steps of one workflow, as the App Studio UI walks them (reference §5.2):
connect → select → map → schedule (one module each). Answers come from an `Answerer`; every
answer is checked by the steps, whoever gave it, so a file and a terminal get the same rules
and the same messages. The flow holds what the steps share: the HTTP client and evaluation
environment, asking again after a refused answer, recovering from a failing command on a
terminal, and the answers so far (`answered`, for --save-answers).

    flow = SetupFlow(compiled, 0, answerer, base_credentials=..., open_http=..., make_env=...)
    outcome = flow.run()          # SetupOutcome: the Setup to save, and what to show
    flow.close()

Nothing here prints: warnings go to `warn`, questions to the answerer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import Diagnostic, ManifestRuntimeError, choices_hint
from ..paths import Path
from ..runtime.errors import with_location
from ..state import Setup
from .connect import ConnectStep
from .map_step import MapStep
from .mapping import Mapped, saved_mapping
from .model import Action, Answerer, AnswerError, FormField, answer_error
from .options import listing
from .schedule import ScheduleStep
from .select import SelectStep, form_fields
from .values import as_dict, as_str

if TYPE_CHECKING:
    from ..http.client import HttpClient
    from ..http.credentials import Credentials
    from ..model import CompiledManifest
    from ..runtime.context import Env

T = TypeVar("T")


@dataclass
class SetupOutcome:
    """What setup chose (`setup`, to save) and what the summary shows."""

    setup: Setup
    workflow_label: str
    auth_name: str | None
    verified: str
    fields: list[tuple[FormField, dict[str, Any] | None]] = field(default_factory=list)
    mapped: list[Mapped] = field(default_factory=list)
    has_map: bool = False


class SetupFlow:
    """connect → select → map → schedule for workflow `index` of a compiled manifest."""

    def __init__(
        self,
        compiled: CompiledManifest,
        index: int,
        answerer: Answerer,
        *,
        base_credentials: Credentials,
        open_http: Callable[[Credentials], HttpClient],
        make_env: Callable[[HttpClient], Env],
        replaying: bool = False,
        warn: Callable[[str], None] = lambda message: None,
        redact: Callable[[str], str] = lambda text: text,
    ) -> None:
        self.compiled = compiled
        self.index = index
        self.answerer = answerer
        self.base_credentials = base_credentials
        self.open_http = open_http
        self.make_env = make_env
        self.replaying = replaying
        self.warn = warn
        self.redact = redact
        # what was answered so far, in the answers file's form (`setup --save-answers`)
        self.answered: dict[str, Any] = {}
        data = as_dict(compiled.data)
        self.workflow = as_dict((data.get("workflows") or [])[index])
        self.name = as_str(self.workflow.get("name")) or ""
        self.steps = as_dict(self.workflow.get("setup"))
        self.auth_name = as_str(self.workflow.get("auth"))
        self.auth = as_dict(as_dict(data.get("auth")).get(self.auth_name or ""))
        self.inbound = self.workflow.get("type") == "generic"
        self.http: HttpClient | None = None
        self.env: Env | None = None

    def path(self, *parts: str | int) -> Path:
        return ("workflows", self.index, "setup", *parts)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None

    # -- the walk ------------------------------------------------------------------------------

    def run(self) -> SetupOutcome:
        self.precheck()
        credentials, verified, connection = ConnectStep(self).connect()
        custom_data, shown, selection = SelectStep(self).select()
        resource = None if selection is None else \
            {"id": selection.get("resource_id"), "display": selection.get("display")}
        mapped = MapStep(self).map(custom_data, resource)
        schedule = ScheduleStep(self).schedule()
        if not self.replaying and self.http is not None:
            credentials = self.http.credentials  # a token refreshed after connect is kept
        setup = Setup(
            workflow=self.name,
            connection=connection,
            custom_data=custom_data,
            mapping=saved_mapping(mapped) if isinstance(self.steps.get("map"), dict) else {},
            selection=selection,
            schedule=schedule,
            credentials=credentials.as_json() or None,
        )
        return SetupOutcome(setup, as_str(self.workflow.get("label")) or self.name,
                            self.auth_name, verified, shown, mapped,
                            isinstance(self.steps.get("map"), dict))

    def precheck(self) -> None:
        """Answers given in advance to questions this workflow never asks: reported before
        anything is fetched."""
        select = self.steps.get("select")
        form = form_fields(self.steps)
        known = [f.id for f in form]
        for given in self.answerer.given("custom_data"):
            if given not in known:
                why = "the workflow has no select step" if not isinstance(select, dict) else \
                    choices_hint(given, known, "form fields")
                raise answer_error(self.answerer, "answers-unknown-field",
                                   f"custom_data.{given} is not a form field of workflow "
                                   f"{self.name!r}", ("custom_data", given), hint=why)
        searchable = [f.id for f in form if f.searchable]
        for given in self.answerer.given("search"):
            if given not in searchable:
                why = "it is not a form field" if given not in known else \
                    "its options take no search text (the field has no search_term)"
                raise answer_error(self.answerer, "answers-no-search",
                                   f"search.{given} cannot be used: {why}", ("search", given),
                                   hint=f"fields with a search_term: {listing(searchable)}")
        if self.answerer.given("mapping") and not isinstance(self.steps.get("map"), dict):
            raise answer_error(self.answerer, "answers-no-map-step",
                               f"workflow {self.name!r} has no map step, so mapping cannot "
                               "be answered", ("mapping",), hint="remove mapping")
        if self.answerer.given("schedule") and self.schedule_step() is None:
            why = "has no schedule step" if self.intake().get("type") == "polling" else \
                "does not poll (only a polling data_intake has a schedule)"
            raise answer_error(self.answerer, "answers-no-schedule",
                               f"workflow {self.name!r} {why}", ("schedule",),
                               hint="remove schedule")

    def intake(self) -> dict[str, Any]:
        intakes = as_dict(self.compiled.data).get("data_intake")
        name = self.workflow.get("data_intake")
        return next((as_dict(d) for d in intakes if as_dict(d).get("name") == name), {}) \
            if isinstance(intakes, list) else {}

    def schedule_step(self) -> dict[str, Any] | None:
        step = self.steps.get("schedule")
        polling = self.intake().get("type") == "polling"
        return step if polling and isinstance(step, dict) else None

    def ask(self, step: Callable[[bool], T], retry: bool = False) -> T:
        """Run a step that asks; an interactive answerer is asked again after a refusal."""
        while True:
            try:
                return step(retry)
            except AnswerError as exc:
                if not self.answerer.interactive:
                    raise
                self.answerer.rejected(exc)
                retry = True

    def located(self, code: str, message: str, path: Path, hint: str | None = None
                 ) -> Diagnostic:
        return with_location(Diagnostic(code, message, path, hint=hint), self.compiled.source)

    def evaluate(self, path: Path, custom_data: dict[str, Any] | None = None,
              resource: Any = None, search: tuple[str, str] | None = None) -> Any:
        """Run the command at `path`; `search` = (query parameter, text) adds the search
        text to its !http requests (a field's search_term)."""
        from ..expressions.nodes import Missing
        from ..runtime.context import EvalContext
        from ..runtime.run import run_at
        from .search import SearchingHttp

        assert self.http is not None and self.env is not None
        env = self.env
        if search is not None and env.http is not None:
            env = replace(env, http=SearchingHttp(env.http, *search))
        ctx = EvalContext.create(custom_data=custom_data, subdomain=self.http.subdomain,
                                 resource=Missing if resource is None else resource,
                                 env=env)
        return run_at(self.compiled, path, None, ctx)

    def recover(self, exc: ManifestRuntimeError, actions: list[Action]) -> str:
        """A manifest command failed. From a file: the error ends setup. On a terminal: it is
        shown and the user chooses among `actions` (going back to the question that led
        there, skipping an optional field), trying again, or quitting (the error then ends
        setup). Returns the action's name."""
        if isinstance(exc, AnswerError) or not self.answerer.interactive:
            raise exc
        d = with_location(exc.diagnostic, self.compiled.source)
        d = replace(d, message=self.redact(d.message),
                    hint=self.redact(d.hint) if d.hint else None)
        choice = self.answerer.failed(d, [*actions, Action("retry", "Try again"),
                                          Action("quit", "Quit setup")])
        if choice == "quit":
            raise exc
        return choice


