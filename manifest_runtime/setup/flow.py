"""The setup steps of one workflow, as the App Studio UI walks them (reference §5.2):
connect → select → map → schedule. Answers come from an `Answerer`; every answer is checked
here, whoever gave it, so a file and a terminal get the same rules and the same messages.

    flow = SetupFlow(compiled, 0, answerer, base_credentials=..., open_http=..., make_env=...)
    outcome = flow.run()          # SetupOutcome: the Setup to save, and what to show
    flow.close()

Nothing here prints: warnings go to `warn`, questions to the answerer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import Diagnostic, EvaluationError, ManifestRuntimeError, UsageError, choices_hint
from ..http.credentials import ENV_VARS, FIELDS, Credentials, credentials_from_mapping
from ..paths import Path
from ..runtime.errors import excerpt, with_location
from ..state import Setup
from .mapping import Mapped, always_required, email_option, resolve_mapping, saved_mapping
from .model import (
    UNANSWERED,
    Action,
    Answerer,
    AnswerError,
    Choice,
    CredentialField,
    CredentialsRequest,
    FormField,
    ImportOption,
    MapOption,
    MapRequest,
    ScheduleRequest,
    Searched,
    SetupError,
    WorkflowChoice,
    answer_error,
)
from .options import (
    OptionsShapeError,
    find_choice,
    listing,
    map_options,
    scalar,
    select_choices,
    unknown_choice_hint,
)

if TYPE_CHECKING:
    from ..http.client import HttpClient
    from ..model import CompiledManifest
    from ..runtime.context import Env

T = TypeVar("T")

SECRETS = frozenset({"token", "password", "access_token", "refresh_token"})
AUTH_FIELDS = {"token": ("token",), "basic": ("username", "password"),
               "session": ("username", "password"),
               "oauth2": ("access_token", "refresh_token")}
DEFAULT_LABELS = {"token": "Token", "username": "Username", "password": "Password",
                  "subdomain": "Subdomain", "access_token": "Access token",
                  "refresh_token": "Refresh token"}
SCHEDULE_KEYS = ("import_option", "frequency")
_CUSTOM_DATA_REF = re.compile(r"custom_data\s*(?:\.|::)\s*([A-Za-z0-9_-]+)")


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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def workflow_choices(compiled: CompiledManifest) -> list[WorkflowChoice]:
    workflows = _dict(compiled.data).get("workflows")
    out: list[WorkflowChoice] = []
    for w in workflows if isinstance(workflows, list) else []:
        w = _dict(w)
        name = _str(w.get("name")) or ""
        out.append(WorkflowChoice(name, _str(w.get("label")) or name, _str(w.get("type")) or ""))
    return out


def choose_workflow(compiled: CompiledManifest, requested: str | None,
                    answerer: Answerer) -> int:
    """The index of the workflow to set up: --workflow, else the answers' `workflow`, else
    the only one, else (on a terminal) the one picked. UsageError when none can be told."""
    choices = workflow_choices(compiled)
    names = [c.name for c in choices]
    if not choices:
        raise UsageError("the manifest has no workflows")
    if requested is not None and requested not in names:
        raise UsageError(f"the manifest has no workflow {requested!r}; "
                         f"{choices_hint(requested, names, 'workflows')}")
    answered: Any = UNANSWERED
    if not answerer.interactive or (requested is None and len(choices) > 1):
        answered = answerer.workflow(choices)
    if answered is not UNANSWERED and answered is not None:
        if not isinstance(answered, str) or answered not in names:
            raise answer_error(answerer, "answers-unknown-workflow",
                               f"the manifest has no workflow {answered!r}", ("workflow",),
                               hint=choices_hint(str(answered), names, "workflows"))
        if requested is not None and requested != answered:
            raise UsageError(f"--workflow {requested} and the answers file's workflow "
                             f"{answered!r} differ; give one of them")
        return names.index(answered)
    if requested is not None:
        return names.index(requested)
    if len(choices) == 1:
        return 0
    raise UsageError(f"the manifest has {len(choices)} workflows ({', '.join(names)}); "
                     "choose one with --workflow NAME or `workflow:` in the answers file")


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
        data = _dict(compiled.data)
        self.workflow = _dict((data.get("workflows") or [])[index])
        self.name = _str(self.workflow.get("name")) or ""
        self.steps = _dict(self.workflow.get("setup"))
        self.auth_name = _str(self.workflow.get("auth"))
        self.auth = _dict(_dict(data.get("auth")).get(self.auth_name or ""))
        self.inbound = self.workflow.get("type") == "generic"
        self.http: HttpClient | None = None
        self.env: Env | None = None
        # options fetched, by (field id, the answers they were fetched with, search text)
        self._choices: dict[tuple[str, str, str], list[Choice]] = {}
        self._searched: dict[str, tuple[str, ...]] = {}  # field id -> its answer's searches

    def path(self, *parts: str | int) -> Path:
        return ("workflows", self.index, "setup", *parts)

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None

    # -- the walk ------------------------------------------------------------------------------

    def run(self) -> SetupOutcome:
        self.precheck()
        credentials, verified, connection = self.connect()
        custom_data, shown, selection = self.select()
        resource = None if selection is None else \
            {"id": selection.get("resource_id"), "display": selection.get("display")}
        mapped = self.map(custom_data, resource)
        schedule = self.schedule()
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
        return SetupOutcome(setup, _str(self.workflow.get("label")) or self.name,
                            self.auth_name, verified, shown, mapped,
                            isinstance(self.steps.get("map"), dict))

    def precheck(self) -> None:
        """Answers given in advance to questions this workflow never asks: reported before
        anything is fetched."""
        select = self.steps.get("select")
        known = [f.id for f in self.form_fields()]
        for given in self.answerer.given("custom_data"):
            if given not in known:
                why = "the workflow has no select step" if not isinstance(select, dict) else \
                    choices_hint(given, known, "form fields")
                raise answer_error(self.answerer, "answers-unknown-field",
                                   f"custom_data.{given} is not a form field of workflow "
                                   f"{self.name!r}", ("custom_data", given), hint=why)
        searchable = [f.id for f in self.form_fields() if f.searchable]
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
        if self.answerer.given("schedule") and self._schedule_step() is None:
            why = "has no schedule step" if self._intake().get("type") == "polling" else \
                "does not poll (only a polling data_intake has a schedule)"
            raise answer_error(self.answerer, "answers-no-schedule",
                               f"workflow {self.name!r} {why}", ("schedule",),
                               hint="remove schedule")

    def _intake(self) -> dict[str, Any]:
        intakes = _dict(self.compiled.data).get("data_intake")
        name = self.workflow.get("data_intake")
        return next((_dict(d) for d in intakes if _dict(d).get("name") == name), {}) \
            if isinstance(intakes, list) else {}

    def _schedule_step(self) -> dict[str, Any] | None:
        step = self.steps.get("schedule")
        polling = self._intake().get("type") == "polling"
        return step if polling and isinstance(step, dict) else None

    def _ask(self, step: Callable[[bool], T], retry: bool = False) -> T:
        """Run a step that asks; an interactive answerer is asked again after a refusal."""
        while True:
            try:
                return step(retry)
            except AnswerError as exc:
                if not self.answerer.interactive:
                    raise
                self.answerer.rejected(exc)
                retry = True

    def _located(self, code: str, message: str, path: Path, hint: str | None = None
                 ) -> Diagnostic:
        return with_location(Diagnostic(code, message, path, hint=hint), self.compiled.source)

    def _eval(self, path: Path, custom_data: dict[str, Any] | None = None,
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

    def _recover(self, exc: ManifestRuntimeError, actions: list[Action]) -> str:
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

    # -- connect -------------------------------------------------------------------------------

    def connect(self) -> tuple[Credentials, str, dict[str, Any] | None]:
        step = _dict(self.steps.get("connect"))
        self.answerer.begin("connect", _str(step.get("label")), _str(step.get("help_text")))
        again = False
        while True:
            credentials, verified = self._ask(self._connect_once, retry=again)
            assert self.http is not None
            self.env = self.make_env(self.http)
            path = self.path("connect", "describe_connection")
            if self.compiled.node_at(path) is None:
                return credentials, verified, None
            while True:
                try:
                    output = self._eval(path)
                except ManifestRuntimeError as exc:
                    action = self._recover(exc, [Action("back", "Enter the credentials again")])
                    if action == "back":
                        break
                    continue
                return credentials, verified, self._connection(output, path)
            again = True

    def credential_fields(self, given: Credentials) -> tuple[CredentialField, ...]:
        defined = _dict(self.auth.get("defined_fields"))
        kind = _str(self.auth.get("type")) or ""
        names = AUTH_FIELDS.get(kind, ())
        if "subdomain" in defined:
            names = ("subdomain", *names)
        out = []
        for name in names:
            spec = _dict(defined.get(name))
            out.append(CredentialField(
                name=name, label=_str(spec.get("label")) or DEFAULT_LABELS[name],
                secret=name in SECRETS, required=kind != "oauth2" or name == "subdomain",
                placeholder=_str(spec.get("placeholder")), help_text=_str(spec.get("help_text")),
                given=getattr(given, name) is not None))
        return tuple(out)

    def _connect_once(self, retry: bool) -> tuple[Credentials, str]:
        self.close()
        step = _dict(self.steps.get("connect"))
        request = CredentialsRequest(
            auth_name=self.auth_name or "", auth_type=_str(self.auth.get("type")) or "",
            label=_str(step.get("label")) or "Connect", help_text=_str(step.get("help_text")),
            fields=self.credential_fields(self.base_credentials), replaying=self.replaying,
            retry=retry)
        raw = self.answerer.credentials(request)
        credentials = self._merge_credentials(raw)
        self.answered.pop("credentials", None)
        if isinstance(raw, dict) and raw:
            self.answered["credentials"] = dict(raw)
        self._check_complete(credentials, request)
        http = self.http = self.open_http(credentials)
        try:
            ok, detail = http.verify()
        except EvaluationError as exc:  # e.g. ${subdomain} in verify_url with no subdomain
            raise SetupError(with_location(exc.diagnostic, self.compiled.source)) from None
        if not ok:
            raise self._refused(request, detail)
        settings = http.auth_settings()
        url = settings.verify_url if settings is not None else None
        if request.auth_type == "oauth2" or not url:
            verified = f"accepted ({detail})"
        else:
            method = "POST" if request.auth_type == "session" else "GET"
            verified = f"verified: {method} {http.redactor.url(url)} -> {detail.split(':')[0]}"
        if self.replaying:
            verified += ", replayed"
            kept = credentials  # the client holds the cassette's placeholders
        else:
            kept = http.credentials  # with a refreshed oauth2 token, if any
        return kept, verified

    def _merge_credentials(self, raw: Any) -> Credentials:
        """The answers' credentials over --credentials and the environment."""
        if raw is UNANSWERED or raw is None:
            return self.base_credentials
        if not isinstance(raw, dict):
            raise answer_error(self.answerer, "answers-shape", "credentials must be an object",
                               ("credentials",), hint="credentials: {token: ...}")
        try:
            given = credentials_from_mapping(raw, "credentials")
        except UsageError as exc:
            bad = next((k for k in raw if k not in FIELDS), None)
            path: Path = ("credentials", bad) if bad is not None else ("credentials",)
            raise answer_error(self.answerer, "answers-credentials", str(exc), path) from None
        changes = {f.name: getattr(given, f.name) for f in fields(given)
                   if getattr(given, f.name) is not None}
        return replace(self.base_credentials, **changes)

    def _check_complete(self, credentials: Credentials, request: CredentialsRequest) -> None:
        missing = [f.name for f in request.fields if f.required
                   and not getattr(credentials, f.name)
                   and not (self.replaying and f.name != "subdomain")]
        if request.auth_type == "oauth2" and not self.replaying and \
                not (credentials.access_token or credentials.refresh_token):
            missing.append("access_token or refresh_token")
        if not missing:
            return
        first = missing[0].split()[0]
        raise answer_error(
            self.answerer, "credentials-missing",
            f"the auth {request.auth_name!r} ({request.auth_type}) needs "
            f"{', '.join(missing)}", ("credentials",),
            hint=f"give credentials: {{{first}: ...}} in the answers file, put it under "
            f"{request.auth_name!r} in --credentials FILE, or set {ENV_VARS[first]}")

    def _refused(self, request: CredentialsRequest, detail: str) -> AnswerError:
        where: Path = ("auth", request.auth_name, "verify_url") \
            if "verify_url" in self.auth else ("auth", request.auth_name)
        kind = request.auth_type
        what = {"token": "the token", "basic": "the username and password",
                "session": "the username and password", "oauth2": "the tokens"}.get(kind,
                                                                                  "them")
        hint = f"check {what} (answers `credentials`, --credentials FILE or MANIFEST_RUNTIME_*)"
        if "replay-unmatched" in detail or "no recorded response" in detail:
            hint = "the cassette has no answer for the credential check: record one with " \
                "--record (see docs/setup.md)"
        return AnswerError(self._located(
            "credentials-refused",
            f"the credentials for {request.auth_name!r} were refused: {detail}", where, hint))

    def _connection(self, output: Any, path: Path) -> dict[str, Any] | None:
        if not isinstance(output, dict):
            self.warn(f"describe_connection output {excerpt(output, 120)}, not {{account_id, "
                      "description}}: no connection description is stored")
            return None
        for key in ("account_id", "description"):
            if key not in output or output[key] is None:
                self.warn(f"describe_connection output has no {key} "
                          f"({excerpt(output, 120)})")
            elif not isinstance(output[key], str):
                self.warn(f"describe_connection's {key} is {excerpt(output[key], 60)}, not a "
                          "string")
        return output

    # -- select --------------------------------------------------------------------------------

    def form_fields(self) -> list[FormField]:
        raw = _dict(self.steps.get("select")).get("form_fields")
        out = []
        for j, f in enumerate(raw if isinstance(raw, list) else []):
            f = _dict(f)
            ident = f.get("id")
            out.append(FormField(
                id=str(ident), label=_str(f.get("label")) or str(ident),
                type=_str(f.get("type")) or "text", required=f.get("required") is not False,
                index=j, placeholder=_str(f.get("placeholder")),
                help_text=_str(f.get("help_text")),
                search_param=_str(f.get("search_term")) or None))
        return out

    def select(self) -> tuple[dict[str, Any], list[tuple[FormField, dict[str, Any] | None]],
                              dict[str, Any] | None]:
        """Each form field in turn. On a terminal, a failing options command (or
        describe_selection) offers to go back to the answer it depends on."""
        step = self.steps.get("select")
        form = self.form_fields()
        if not isinstance(step, dict):
            return {}, [], None
        self.answerer.begin("select", _str(step.get("label")), _str(step.get("description")))
        entries: list[dict[str, Any] | None] = [None] * len(form)
        path = self.path("select", "describe_selection")
        i = 0
        while True:
            custom_data = {f.id: e for f, e in zip(form[:i], entries, strict=False)
                           if e is not None}
            try:
                if i < len(form):
                    entries[i] = self._ask(partial(self._field_once, form[i], custom_data))
                    self._answered_field(form[i], entries[i])
                    i += 1
                    continue
                selection = None if self.compiled.node_at(path) is None else \
                    self._selection(self._eval(path, custom_data))
            except ManifestRuntimeError as exc:
                back = self._depends_on(form, i)
                actions = [Action("back", f"Change {back.label!r}")] if back is not None else []
                if i < len(form) and not form[i].required:
                    actions.append(Action("skip", f"Leave {form[i].label!r} unanswered"))
                action = self._recover(exc, actions)
                if action == "back" and back is not None:
                    i = back.index
                    for later in form[i:]:  # asked again: no stale answer is saved
                        self._answered_field(later, None)
                elif action == "skip":
                    entries[i] = None
                    self._answered_field(form[i], None)
                    i += 1
                continue
            return custom_data, list(zip(form, entries, strict=True)), selection

    def _depends_on(self, form: list[FormField], i: int) -> FormField | None:
        """The field to ask again when what comes at step `i` fails: the last earlier field
        its command reads (`${custom_data.<id>...}`), else the one just before."""
        if i == 0 or not form:
            return None
        at = self.path("select", "form_fields", i, "options") if i < len(form) else \
            self.path("select", "describe_selection")
        node: Any = self.compiled.data
        for part in at:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
        read = set(_CUSTOM_DATA_REF.findall(json.dumps(node, default=str)))
        earlier = [f for f in form[:i] if f.id in read]
        return earlier[-1] if earlier else form[i - 1]

    def _answered_field(self, form_field: FormField, entry: dict[str, Any] | None) -> None:
        """Keep the answer (and the search text it was found with) for --save-answers."""
        for section in ("custom_data", "search"):
            self.answered.setdefault(section, {}).pop(form_field.id, None)
        if entry is not None:
            self.answered["custom_data"][form_field.id] = entry["value"]
            texts = self._searched.get(form_field.id)
            if texts is not None:
                self.answered["search"][form_field.id] = texts[0] if len(texts) == 1 \
                    else list(texts)

    def choices(self, form_field: FormField, custom_data: dict[str, Any], search: str = ""
                ) -> list[Choice]:
        """The field's options, evaluated with the answers so far and the search text (sent
        as the field's search_term; none when empty). Fetched once per answers and text."""
        key = (form_field.id, json.dumps(custom_data, sort_keys=True, default=str), search)
        if key not in self._choices:
            path = self.path("select", "form_fields", form_field.index, "options")
            if self.compiled.node_at(path) is None:
                raise SetupError(self._located(
                    "missing-options", f"the {form_field.type} field {form_field.id!r} has no "
                    "options", path[:-1], hint="options: a command that outputs "
                    "[{display, value}], or a static list"))
            param = form_field.search_param
            query = (param, search) if param is not None and search else None
            try:
                self._choices[key] = select_choices(self._eval(path, custom_data,
                                                               search=query))
            except OptionsShapeError as exc:
                raise SetupError(self._located(
                    "options-shape", f"the options of field {form_field.id!r} {exc}", path,
                    hint="options must output [{display: <shown text>, value: <stored "
                    "value>}, ...]")) from None
        return self._choices[key]

    def _field_once(self, form_field: FormField, custom_data: dict[str, Any], _retry: bool
                    ) -> dict[str, Any] | None:
        choices = self.choices(form_field, custom_data) if form_field.has_options else None
        if choices == [] and form_field.required and not form_field.searchable:
            path = self.path("select", "form_fields", form_field.index, "options")
            raise SetupError(self._located(
                "options-empty", f"the {form_field.type} field {form_field.id!r} is required "
                "but its options list is empty: nothing can be chosen", path,
                hint="check what the options command fetches (--trace shows each step)"))
        search = partial(self.choices, form_field, custom_data) if form_field.searchable \
            else None
        raw = self.answerer.field(form_field, choices, search)
        self._searched.pop(form_field.id, None)
        if isinstance(raw, Searched):
            choices = []
            for text in raw.texts:
                choices += [c for c in self.choices(form_field, custom_data, text)
                            if c not in choices]
            self._searched[form_field.id] = raw.texts
            raw = raw.value
        return self.resolve_field(form_field, raw, choices)

    def resolve_field(self, form_field: FormField, raw: Any, choices: list[Choice] | None
                      ) -> dict[str, Any] | None:
        """The custom_data entry ({value, display}) for an answer; None when skipped."""
        path: Path = ("custom_data", form_field.id)
        name = f"{form_field.label!r} (custom_data.{form_field.id})"
        if raw is UNANSWERED or raw is None or raw == "" or raw == []:
            if form_field.required:
                hint = f"options: {listing([_show(c) for c in choices])}" \
                    if choices is not None else "give it a text value"
                raise answer_error(self.answerer, "field-required",
                                   f"{name} is required", path, hint=hint)
            return None
        if choices is None:  # text, textarea
            if not scalar(raw) or isinstance(raw, bool):
                raise answer_error(self.answerer, "field-text",
                                   f"{name} is a {form_field.type} field: give text, not "
                                   f"{excerpt(raw, 60)}", path)
            text = raw if isinstance(raw, str) else str(raw)
            if form_field.required and not text.strip():
                raise answer_error(self.answerer, "field-required", f"{name} is required",
                                   path, hint="give it a non-blank text value")
            return {"value": text, "display": text}
        if form_field.type == "dropdown":
            if isinstance(raw, list | dict):
                raise answer_error(self.answerer, "field-one-value",
                                   f"{name} is a dropdown: give one value, not "
                                   f"{excerpt(raw, 60)}", path,
                                   hint="only multiselect fields take a list of values")
            choice = self._choice(form_field, raw, choices, path)
            return {"value": choice.value, "display": choice.display}
        items = raw if isinstance(raw, list) else [raw]
        picked: list[Choice] = []
        for i, item in enumerate(items):
            where: Path = (*path, i) if isinstance(raw, list) else path
            choice = self._choice(form_field, item, choices, where)
            if choice not in picked:
                picked.append(choice)
        return {"value": [c.value for c in picked], "display": [c.display for c in picked]}

    def _search_note(self, form_field: FormField) -> str:
        texts = [t for t in self._searched.get(form_field.id, ()) if t]
        return f" for search {' and '.join(repr(t) for t in texts)}" if texts else ""

    def _choice(self, form_field: FormField, raw: Any, choices: list[Choice], path: Path
                ) -> Choice:
        if not scalar(raw):
            raise answer_error(self.answerer, "field-option",
                               f"{excerpt(raw, 60)} is not an option value of "
                               f"{form_field.label!r} (custom_data.{form_field.id})", path,
                               hint=unknown_choice_hint("", choices))
        choice = find_choice(raw, choices)
        if choice is None:
            raise answer_error(self.answerer, "unknown-option",
                               f"{raw!r} is not an option of {form_field.label!r} "
                               f"(custom_data.{form_field.id}; {len(choices)} options"
                               f"{self._search_note(form_field)})", path,
                               hint=unknown_choice_hint(raw, choices))
        return choice

    def _selection(self, output: Any) -> dict[str, Any] | None:
        if not isinstance(output, dict):
            self.warn(f"describe_selection output {excerpt(output, 120)}, not {{resource_id, "
                      "display}}: no selection is stored")
            return None
        for key in ("resource_id", "display"):
            value = output.get(key)
            if value is None:
                self.warn(f"describe_selection has no {key}: ${{resource."
                          f"{'id' if key == 'resource_id' else key}}} will be missing")
            elif not isinstance(value, str | int | float) or isinstance(value, bool):
                self.warn(f"describe_selection's {key} is {excerpt(value, 60)}, not a string")
        return {"resource_id": output.get("resource_id"), "display": output.get("display")}

    # -- map -----------------------------------------------------------------------------------

    def map(self, custom_data: dict[str, Any], resource: Any) -> list[Mapped]:
        step = self.steps.get("map")
        if not isinstance(step, dict):
            return []
        self.answerer.begin("map", _str(step.get("label")), None)
        while True:
            try:
                sources = self._map_options("describe_source", custom_data, resource)
                targets = self._map_options("describe_target", custom_data, resource)
                break
            except ManifestRuntimeError as exc:
                self._recover(exc, [])  # try again, or quit
        if targets is None:
            self.warn("the map step has no describe_target: target field ids are saved "
                      "unchecked")
        elif self.inbound and email_option(targets) is None:
            self.warn("no target option is the ActiveCampaign Email (id 'email'): inbound "
                      "records without an email cannot become contacts")
        request = MapRequest(
            label=_str(step.get("label")) or "Map",
            source_label=_str(_dict(step.get("describe_source")).get("label")) or "Source",
            target_label=_str(_dict(step.get("describe_target")).get("label")) or "Target",
            sources=None if sources is None else tuple(sources),
            targets=None if targets is None else tuple(targets),
            required=always_required(targets, self.inbound), inbound=self.inbound)
        def once(_retry: bool) -> list[Mapped]:
            raw = self.answerer.mapping(request)
            mapped = resolve_mapping(self.answerer, request, raw)
            if isinstance(raw, dict) and raw:
                self.answered["mapping"] = raw
            return mapped

        return self._ask(once)

    def _map_options(self, side: str, custom_data: dict[str, Any], resource: Any
                     ) -> list[MapOption] | None:
        path = self.path("map", side, "options")
        if self.compiled.node_at(path) is None:
            return None
        try:
            return map_options(self._eval(path, custom_data, resource))
        except OptionsShapeError as exc:
            raise SetupError(self._located(
                "options-shape", f"the {side} options {exc}", path,
                hint="map options must output [{title: <shown text>, id: <field id>, "
                "required: <bool>}, ...]")) from None

    # -- schedule ------------------------------------------------------------------------------

    def schedule(self) -> dict[str, Any] | None:
        step = self._schedule_step()
        if step is None:
            return None
        options = tuple(ImportOption(str(_dict(o).get("type")),
                                     _str(_dict(o).get("label")) or str(_dict(o).get("type")))
                        for o in step.get("import_options") or [] if isinstance(o, dict))
        frequency = step.get("frequency")
        request = ScheduleRequest(_str(step.get("label")) or "Schedule",
                                  _str(step.get("description")), options,
                                  frequency if isinstance(frequency, int) and
                                  not isinstance(frequency, bool) else None)
        self.answerer.begin("schedule", request.label, request.description)
        chosen = self._ask(lambda _r: self.resolve_schedule(request,
                                                            self.answerer.schedule(request)))
        self.answered["schedule"] = dict(chosen)
        return chosen

    def resolve_schedule(self, request: ScheduleRequest, raw: Any) -> dict[str, Any]:
        if raw is UNANSWERED or raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise answer_error(self.answerer, "answers-shape", "schedule must be an object",
                               ("schedule",), hint="schedule: {import_option: recurring}")
        for key in raw:
            if key not in SCHEDULE_KEYS:
                raise answer_error(self.answerer, "answers-unknown-key",
                                   f"unknown key {key!r} in schedule", ("schedule", key),
                                   hint=choices_hint(str(key), SCHEDULE_KEYS, "keys"))
        types = ", ".join(f"{o.type} ({o.label})" for o in request.import_options)
        given = raw.get("import_option")
        if given is None:
            if len(request.import_options) != 1:
                raise answer_error(self.answerer, "schedule-import-option",
                                   "schedule.import_option is required: the schedule step "
                                   f"offers {types or 'no import option'}", ("schedule",))
            chosen = request.import_options[0]
        else:
            found = [o for o in request.import_options if given == o.type or
                     (isinstance(given, str) and given.lower() == o.label.lower())]
            if not found:
                raise answer_error(self.answerer, "schedule-import-option",
                                   f"{given!r} is not an import option of the schedule step",
                                   ("schedule", "import_option"),
                                   hint=choices_hint(str(given),
                                                     [o.type for o in request.import_options],
                                                     "import options"))
            chosen = found[0]
        frequency = raw.get("frequency")
        if frequency is None:
            frequency = request.frequency
        elif not isinstance(frequency, int) or isinstance(frequency, bool) or frequency <= 0:
            raise answer_error(self.answerer, "schedule-frequency",
                               f"schedule.frequency must be a number of seconds, not "
                               f"{frequency!r}", ("schedule", "frequency"))
        elif request.frequency is not None and frequency != request.frequency:
            raise answer_error(self.answerer, "schedule-frequency",
                               f"the schedule step fixes frequency at {request.frequency} s, "
                               f"not {frequency}", ("schedule", "frequency"),
                               hint="leave frequency out to use the step's")
        return {"import_option": chosen.type, "frequency": frequency}


def _show(choice: Choice) -> str:
    value = str(choice.value)
    return value if choice.display == value else f"{value} ({choice.display})"


def summary_lines(outcome: SetupOutcome, state_path: str) -> list[str]:
    """The short report `setup` prints (pass it through the redactor)."""
    setup = outcome.setup
    lines = [f"setup of workflow {setup.workflow!r} ({outcome.workflow_label}) saved in "
             f"{state_path}"]
    connection = setup.connection or {}
    described = connection.get("description")
    account = connection.get("account_id")
    if setup.connection is None:
        lines.append(f"  connection: {outcome.auth_name} (no describe_connection output)")
    else:
        lines.append(f"  connection: {described if described is not None else '(no description)'}"
                     + (f" (account {account})" if account is not None else ""))
    lines.append(f"  credentials: {outcome.verified}")
    for form_field, entry in outcome.fields:
        if entry is None:
            shown = "(not answered)"
        elif form_field.type in ("text", "textarea"):
            shown = excerpt(entry["value"], 100) if "\n" in entry["value"] or \
                len(entry["value"]) > 100 else entry["value"]
        elif form_field.type == "multiselect":
            shown = ", ".join(f"{d} ({v})" if str(v) != d else d
                              for v, d in zip(entry["value"], entry["display"], strict=True)) \
                or "(none)"
        else:
            value, display = entry["value"], entry["display"]
            shown = display if str(value) == display else f"{display} ({value})"
        lines.append(f"  {form_field.label}: {shown}")
    if setup.selection is not None:
        lines.append(f"  selection: {setup.selection.get('display')} "
                     f"(resource {setup.selection.get('resource_id')})")
    if outcome.has_map:
        lines.append("  mapping:" if outcome.mapped else "  mapping: (nothing mapped)")
        for m in outcome.mapped:
            source = m.source.describe() if m.source is not None else m.source_key
            target = m.target.describe() if m.target is not None else m.target_key
            lines.append(f"    {source} -> {target}")
    if setup.schedule is not None:
        lines.append(f"  schedule: {setup.schedule['import_option']}, every "
                     f"{setup.schedule['frequency']} s")
    return lines
