"""The select step (reference §5.2): each form field in turn, its options evaluated with the
answers so far (and, for a field with a `search_term`, the search text); on a terminal a
failing options command offers to go back to the answer it depends on; then
`describe_selection`.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import TYPE_CHECKING, Any

from ..errors import ManifestRuntimeError
from ..paths import Path
from ..runtime.errors import excerpt
from .model import (
    UNANSWERED,
    Action,
    Choice,
    FormField,
    Searched,
    SetupError,
    answer_error,
)
from .options import (
    OptionsShapeError,
    find_choice,
    listing,
    scalar,
    select_choices,
    unknown_choice_hint,
)
from .values import as_dict, as_str

if TYPE_CHECKING:
    from .flow import SetupFlow

_CUSTOM_DATA_REF = re.compile(r"custom_data\s*(?:\.|::)\s*([A-Za-z0-9_-]+)")


def form_fields(steps: dict[str, Any]) -> list[FormField]:
    """The select step's form fields, as questions."""
    raw = as_dict(steps.get("select")).get("form_fields")
    out = []
    for j, f in enumerate(raw if isinstance(raw, list) else []):
        f = as_dict(f)
        ident = f.get("id")
        out.append(FormField(
            id=str(ident), label=as_str(f.get("label")) or str(ident),
            type=as_str(f.get("type")) or "text", required=f.get("required") is not False,
            index=j, placeholder=as_str(f.get("placeholder")),
            help_text=as_str(f.get("help_text")),
            search_param=as_str(f.get("search_term")) or None))
    return out


def _show(choice: Choice) -> str:
    value = str(choice.value)
    return value if choice.display == value else f"{value} ({choice.display})"


class SelectStep:
    """The form fields, and the selection they describe."""

    def __init__(self, flow: SetupFlow) -> None:
        self.flow = flow
        # options fetched, by (field id, the answers they were fetched with, search text)
        self._choices: dict[tuple[str, str, str], list[Choice]] = {}
        self._searched: dict[str, tuple[str, ...]] = {}  # field id -> its answer's searches

    def form_fields(self) -> list[FormField]:
        return form_fields(self.flow.steps)

    def select(self) -> tuple[dict[str, Any], list[tuple[FormField, dict[str, Any] | None]],
                              dict[str, Any] | None]:
        """Each form field in turn. On a terminal, a failing options command (or
        describe_selection) offers to go back to the answer it depends on."""
        step = self.flow.steps.get("select")
        form = self.form_fields()
        if not isinstance(step, dict):
            return {}, [], None
        self.flow.answerer.begin("select", as_str(step.get("label")),
                                 as_str(step.get("description")))
        entries: list[dict[str, Any] | None] = [None] * len(form)
        path = self.flow.path("select", "describe_selection")
        i = 0
        while True:
            custom_data = {f.id: e for f, e in zip(form[:i], entries, strict=False)
                           if e is not None}
            try:
                if i < len(form):
                    entries[i] = self.flow.ask(partial(self._field_once, form[i], custom_data))
                    self._answered_field(form[i], entries[i])
                    i += 1
                    continue
                selection = None if self.flow.compiled.node_at(path) is None else \
                    self._selection(self.flow.evaluate(path, custom_data))
            except ManifestRuntimeError as exc:
                back = self._depends_on(form, i)
                actions = [Action("back", f"Change {back.label!r}")] if back is not None else []
                if i < len(form) and not form[i].required:
                    actions.append(Action("skip", f"Leave {form[i].label!r} unanswered"))
                action = self.flow.recover(exc, actions)
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
        at = self.flow.path("select", "form_fields", i, "options") if i < len(form) else \
            self.flow.path("select", "describe_selection")
        node: Any = self.flow.compiled.data
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
            self.flow.answered.setdefault(section, {}).pop(form_field.id, None)
        if entry is not None:
            self.flow.answered["custom_data"][form_field.id] = entry["value"]
            texts = self._searched.get(form_field.id)
            if texts is not None:
                self.flow.answered["search"][form_field.id] = texts[0] if len(texts) == 1 \
                    else list(texts)

    def choices(self, form_field: FormField, custom_data: dict[str, Any], search: str = ""
                ) -> list[Choice]:
        """The field's options, evaluated with the answers so far and the search text (sent
        as the field's search_term; none when empty). Fetched once per answers and text."""
        key = (form_field.id, json.dumps(custom_data, sort_keys=True, default=str), search)
        if key not in self._choices:
            path = self.flow.path("select", "form_fields", form_field.index, "options")
            if self.flow.compiled.node_at(path) is None:
                raise SetupError(self.flow.located(
                    "missing-options", f"the {form_field.type} field {form_field.id!r} has no "
                    "options", path[:-1], hint="options: a command that outputs "
                    "[{display, value}], or a static list"))
            param = form_field.search_param
            query = (param, search) if param is not None and search else None
            try:
                self._choices[key] = select_choices(self.flow.evaluate(path, custom_data,
                                                               search=query))
            except OptionsShapeError as exc:
                raise SetupError(self.flow.located(
                    "options-shape", f"the options of field {form_field.id!r} {exc}", path,
                    hint="options must output [{display: <shown text>, value: <stored "
                    "value>}, ...]")) from None
        return self._choices[key]

    def _field_once(self, form_field: FormField, custom_data: dict[str, Any], _retry: bool
                    ) -> dict[str, Any] | None:
        choices = self.choices(form_field, custom_data) if form_field.has_options else None
        if choices == [] and form_field.required and not form_field.searchable:
            path = self.flow.path("select", "form_fields", form_field.index, "options")
            raise SetupError(self.flow.located(
                "options-empty", f"the {form_field.type} field {form_field.id!r} is required "
                "but its options list is empty: nothing can be chosen", path,
                hint="check what the options command fetches (--trace shows each step)"))
        search = partial(self.choices, form_field, custom_data) if form_field.searchable \
            else None
        raw = self.flow.answerer.field(form_field, choices, search)
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
                raise answer_error(self.flow.answerer, "field-required",
                                   f"{name} is required", path, hint=hint)
            return None
        if choices is None:  # text, textarea
            if not scalar(raw) or isinstance(raw, bool):
                raise answer_error(self.flow.answerer, "field-text",
                                   f"{name} is a {form_field.type} field: give text, not "
                                   f"{excerpt(raw, 60)}", path)
            text = raw if isinstance(raw, str) else str(raw)
            if form_field.required and not text.strip():
                raise answer_error(self.flow.answerer, "field-required", f"{name} is required",
                                   path, hint="give it a non-blank text value")
            return {"value": text, "display": text}
        if form_field.type == "dropdown":
            if isinstance(raw, list | dict):
                raise answer_error(self.flow.answerer, "field-one-value",
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
            raise answer_error(self.flow.answerer, "field-option",
                               f"{excerpt(raw, 60)} is not an option value of "
                               f"{form_field.label!r} (custom_data.{form_field.id})", path,
                               hint=unknown_choice_hint("", choices))
        choice = find_choice(raw, choices)
        if choice is None:
            raise answer_error(self.flow.answerer, "unknown-option",
                               f"{raw!r} is not an option of {form_field.label!r} "
                               f"(custom_data.{form_field.id}; {len(choices)} options"
                               f"{self._search_note(form_field)})", path,
                               hint=unknown_choice_hint(raw, choices))
        return choice

    def _selection(self, output: Any) -> dict[str, Any] | None:
        if not isinstance(output, dict):
            self.flow.warn(f"describe_selection output {excerpt(output, 120)}, not {{resource_id, "
                      "display}}: no selection is stored")
            return None
        for key in ("resource_id", "display"):
            value = output.get(key)
            if value is None:
                self.flow.warn(f"describe_selection has no {key}: ${{resource."
                          f"{'id' if key == 'resource_id' else key}}} will be missing")
            elif not isinstance(value, str | int | float) or isinstance(value, bool):
                self.flow.warn(f"describe_selection's {key} is {excerpt(value, 60)}, not a string")
        return {"resource_id": output.get("resource_id"), "display": output.get("display")}
