"""The terminal answerer of `setup` (questionary): the same questions as an answers file,
asked one by one. Secrets are typed hidden; dropdowns are arrow-key selects with type-to-filter
(the option's display is shown, its value stored); multiselects are checkboxes; a dropdown or
multiselect whose field has a `search_term` is a search line over its options instead
(cli/setup_search.py: the typed text re-runs the options command, debounced); every mapping
source is a select among the target options. Help texts are shown as plain text.

Only the asking is here: the steps and every check are setup/flow.py's, shared with the
answers file. An answer the steps refuse is shown and asked again; a manifest command that
fails is shown, with a choice: change the answer it depends on, try again, skip an optional
field, or quit. Ctrl-C / Ctrl-D stop.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, Any

from ..errors import Diagnostic
from ..setup.model import (
    UNANSWERED,
    Action,
    AnswerError,
    Choice,
    CredentialsRequest,
    FormField,
    MapRequest,
    ScheduleRequest,
    Search,
    WorkflowChoice,
    guess_target,
)

NOT_MAPPED = "(not mapped)"
SKIP = "(skip)"


class PromptAnswerer:
    """Asks on the terminal. `input`/`output` are prompt_toolkit's (tests pass a pipe input
    and a DummyOutput); `out` gets the step headings, help texts and refusals."""

    interactive = True

    def __init__(self, *, input: Any = None, output: Any = None, out: IO[str] | None = None
                 ) -> None:
        self._io: dict[str, Any] = {}
        if input is not None:
            self._io["input"] = input
        if output is not None:
            self._io["output"] = output
        self.out = out
        self.redact: Any = lambda text: text  # the CLI sets its redactor's

    # -- plumbing ------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        print(text, file=self.out if self.out is not None else sys.stdout)

    def _help(self, text: str | None) -> None:
        if text:
            for line in text.strip().splitlines():
                self._say(f"  {line}")

    def _ask(self, question: Any) -> Any:
        try:
            return question.unsafe_ask()
        except EOFError:  # Ctrl-D, or the end of a piped input
            raise KeyboardInterrupt from None

    # -- Answerer ------------------------------------------------------------------------------

    def workflow(self, choices: Sequence[WorkflowChoice]) -> Any:
        import questionary

        return self._ask(questionary.select(
            "Workflow to set up",
            choices=[questionary.Choice(f"{c.label} ({c.name}, {c.type})", value=c.name)
                     for c in choices],
            **self._io))

    def begin(self, step: str, label: str | None, text: str | None) -> None:
        self._say(f"\n== {label or step.capitalize()} ==")
        self._help(text)

    def credentials(self, request: CredentialsRequest) -> Any:
        import questionary

        values: dict[str, str] = {}
        asked = False
        for f in request.fields:
            if (f.given and not request.retry) or (request.replaying and f.name != "subdomain"):
                continue
            asked = True
            self._help(f.help_text)
            ask = questionary.password if f.secret else questionary.text
            required = f.required

            def check(text: str, required: bool = required) -> bool | str:
                return bool(text.strip()) or not required or "required"

            answer = self._ask(ask(f.label, validate=check, instruction=f.placeholder,
                                   **self._io))
            if answer:
                values[f.name] = answer
        if not asked:
            where = "the cassette (--replay)" if request.replaying else \
                "--credentials / MANIFEST_RUNTIME_*"
            self._say(f"  using the credentials for {request.auth_name!r} from {where}")
        return values

    def field(self, field: FormField, choices: Sequence[Choice] | None,
              search: Search | None = None) -> Any:
        import questionary

        from .setup_search import SearchSelect

        self._help(field.help_text)
        label = field.label + ("" if field.required else " (optional)")
        if choices is not None and search is not None:
            prompt = SearchSelect(label, choices, search, multi=field.type == "multiselect",
                                  required=field.required, title=_title, redact=self.redact,
                                  io=self._io)
            answer = prompt.run()
            self._say(f"? {label} {prompt.shown(answer)}")
            return answer
        if choices is None:
            def check(text: str) -> bool | str:
                return bool(text.strip()) or not field.required or "required"

            answer = self._ask(questionary.text(label, validate=check,
                                                instruction=field.placeholder, **self._io))
            return answer if answer else UNANSWERED
        items = [questionary.Choice(_title(c), value=i) for i, c in enumerate(choices)]
        if field.type == "multiselect":
            def enough(picked: list[Any]) -> bool | str:
                return bool(picked) or not field.required or "choose at least one"

            picked = self._ask(questionary.checkbox(label, choices=items, validate=enough,
                                                    use_search_filter=len(items) > 10,
                                                    use_jk_keys=False, **self._io))
            return [choices[i].value for i in picked] if picked else UNANSWERED
        if not field.required:
            items.append(questionary.Choice(SKIP, value=-1))
        index = self._ask(questionary.select(label, choices=items, use_search_filter=True,
                                             use_jk_keys=False, instruction=field.placeholder,
                                             **self._io))
        return UNANSWERED if index is None or index < 0 else choices[index].value

    def mapping(self, request: MapRequest) -> Any:
        import questionary

        self._say(f"  {request.source_label} -> {request.target_label}"
                  + ("  (* required)" if request.required else ""))
        out: dict[str, Any] = {}
        sources = request.sources or ()
        if request.targets is None:
            for source in sources:
                answer = self._ask(questionary.text(
                    f"{source.describe()} -> target field id", instruction="empty: not mapped",
                    **self._io))
                if answer and answer.strip():
                    out[source.key] = answer.strip()
            return out
        required = set(request.required)
        for source in sources:
            items = [questionary.Choice(NOT_MAPPED, value="")]
            items += [questionary.Choice(t.describe() + (" *" if t in required else ""),
                                         value=t.key) for t in request.targets]
            guess = guess_target(source, request.targets)
            default = next((c for c in items if guess is not None and c.value == guess.key),
                           items[0])
            answer = self._ask(questionary.select(f"{source.describe()} ->", choices=items,
                                                  default=default, use_search_filter=True,
                                                  use_jk_keys=False, **self._io))
            if answer:
                out[source.key] = answer
        return out

    def schedule(self, request: ScheduleRequest) -> Any:
        import questionary

        if request.frequency is not None:
            self._say(f"  polls every {request.frequency} s")
        if len(request.import_options) < 2:
            return {}
        answer = self._ask(questionary.select(
            "Import", choices=[questionary.Choice(f"{o.label} ({o.type})", value=o.type)
                               for o in request.import_options], **self._io))
        return {"import_option": answer}

    def given(self, section: str) -> Sequence[str]:
        return ()

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        return diagnostic

    def rejected(self, error: AnswerError) -> None:
        d = error.diagnostic
        self._say(f"  ✗ {d.message}")
        if d.hint:
            self._say(f"    {d.hint}")

    def failed(self, diagnostic: Diagnostic, actions: Sequence[Action]) -> str:
        import questionary

        d = diagnostic
        where = f" ({d.file}:{d.line})" if d.file and d.line else ""
        self._say(f"  ✗ error[{d.code}]{where}: {d.message}")
        if d.hint:
            self._say(f"    hint: {d.hint}")
        answer: str = self._ask(questionary.select(
            "What now?", choices=[questionary.Choice(a.label, value=a.name) for a in actions],
            use_jk_keys=False, **self._io))
        return answer


def _title(choice: Choice) -> str:
    value = str(choice.value)
    return choice.display if choice.display == value else f"{choice.display} ({value})"


