"""The Compiler: turns raw manifest values into frozen nodes and collects every problem.

It never stops at the first error: each problem becomes a located Diagnostic and compilation
continues, so `validate` reports everything at once. `Scope` says where a value stands (which
workflow's form fields are visible, polling or webhook lifecycle, the current pipe step), which
is what the expansion checks need.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .errors import (
    Diagnostic,
    Severity,
    Span,
    choices_hint,
    misspelt_required,
    misspelt_required_hint,
)
from .expressions.nodes import Expansion, Template
from .expressions.parser import TemplateSyntaxError, parse_template
from .model import Arr, Command, Const, Node, Obj, Tmpl
from .paths import Path
from .source import SourceMap

if TYPE_CHECKING:
    from .commands.base import CommandSpec
    from .commands.http import HttpNode

COMMENT = "_comment"
SAVE_SCOPES = ("workflow", "connection", "application")
RESOURCE_PROPERTIES = ("id", "display")  # ${resource.*}: what describe_selection outputs


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """A select-step form field, as expansions see it."""

    id: str
    index: int
    required: bool
    type: str


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a value stands in the manifest; decides which references make sense there."""

    fields: Mapping[str, FieldInfo] | None = None  # None: no workflow known, skip field checks
    field_index: int | None = None  # inside options of form field N: fields >= N not chosen yet
    polling: bool = False
    webhook_lifecycle: bool = False
    pipe_step: int | None = None  # 1-based step of the innermost pipe being compiled
    subdomain: bool | None = None  # is ${subdomain} declared? None: unknown
    # when subdomain is False: the auths that would evaluate this value without declaring it
    subdomain_lacking: tuple[str, ...] = ()
    where: str = "the manifest"  # for messages: "auth 'tok'", "the connect step of ...", ...
    bare_paths: bool = False  # api.pagination.parser: a bare `page_count` means `.page_count`
    roots: frozenset[str] | None = None  # the only roots that can exist here; None: any
    roots_hint: str | None = None  # why the others cannot (for root-not-available)
    selection: bool = False  # ${resource} (the select step's describe_selection) exists here


@dataclass
class Compiler:
    """Compiles values and commands, collecting diagnostics (mutable only while compiling)."""

    commands: Mapping[str, CommandSpec]
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # per open !pipe (innermost last): step number -> (root fields read, who reads them)
    pipe_reads: list[dict[int, list[tuple[str, str]]]] = field(default_factory=list)
    # every compiled !http node by command path; pipes update it when they pick the output mode
    http_nodes: dict[Path, HttpNode] = field(default_factory=dict)

    # ------------------------------------------------------------------ reporting

    def report(
        self,
        code: str,
        message: str,
        path: Path,
        *,
        hint: str | None = None,
        severity: Severity = "error",
        span: Span | None = None,
        text: str | None = None,
        at_key: bool = False,
    ) -> None:
        if span is not None:
            pos = self.source.locate_in_string(path, span.start)
        else:
            pos = self.source.locate(path, key=at_key)
        line, column = pos if pos else (None, None)
        self.diagnostics.append(
            Diagnostic(
                code=code,
                message=message,
                path=path,
                severity=severity,
                hint=hint,
                span=span,
                file=self.source.file,
                line=line,
                column=column,
                source_text=text,
            )
        )

    # ------------------------------------------------------------------ values

    def value(self, raw: Any, path: Path, scope: Scope) -> Node:
        """Compile any manifest value: commands, templates, containers, constants."""
        if isinstance(raw, str):
            return self.string(raw, path, scope)
        if isinstance(raw, list):
            items = tuple(self.value(v, (*path, i), scope) for i, v in enumerate(raw))
            if all(isinstance(n, Const) for n in items):
                return Const([n.value for n in items], path)  # type: ignore[union-attr]
            return Arr(items, path)
        if isinstance(raw, dict):
            bang = [k for k in raw if k.startswith("!")]
            if bang:
                return self.command(raw, path, scope)
            obj = {k: self.value(v, (*path, k), scope) for k, v in raw.items() if k != COMMENT}
            if all(isinstance(n, Const) for n in obj.values()):
                return Const({k: n.value for k, n in obj.items()}, path)  # type: ignore[union-attr]
            return Obj(obj, path)
        return Const(raw, path)

    def string(self, text: str, path: Path, scope: Scope) -> Node:
        template = self.template(text, path, scope)
        if template is None or not template.expansions:
            literal = "".join(p for p in template.parts if isinstance(p, str)) if template else text
            return Const(literal, path)
        return Tmpl(template, path)

    def template(self, text: str, path: Path, scope: Scope) -> Template | None:
        """Parse a string's expansions and check each against the scope."""
        try:
            template = parse_template(text)
        except TemplateSyntaxError as exc:
            self.report(exc.code, exc.message, path, hint=exc.hint, span=exc.span, text=text)
            return None
        for exp in template.expansions:
            self.check_expansion(exp, path, scope, text)
        return template

    # ------------------------------------------------------------------ commands

    def is_command(self, raw: Any) -> bool:
        return isinstance(raw, dict) and any(k.startswith("!") for k in raw)

    def command(self, raw: dict[str, Any], path: Path, scope: Scope) -> Node:
        bang = [k for k in raw if k.startswith("!")]
        extra = [k for k in raw if not k.startswith("!") and k != COMMENT]
        if len(bang) > 1:
            self.report(
                "command-shape",
                f"one object holds {len(bang)} commands ({', '.join(bang)})",
                path,
                hint="a command object has exactly one '!' key; chain commands with !pipe",
            )
            return Const(None, path)
        name = bang[0]
        if extra:
            self.report(
                "command-shape",
                f"command {name} has extra key(s) beside it: {', '.join(extra)}",
                (*path, extra[0]),
                hint=f"put arguments inside the {name} value; only _comment may stand beside "
                "a command",
                at_key=True,
            )
        spec = self.commands.get(name)
        if spec is None:
            self.report(
                "unknown-command",
                f"unknown command {name!r}",
                (*path, name),
                hint=choices_hint(name, self.commands, "commands"),
                at_key=True,
            )
            return Const(None, path)
        arg_path = (*path, name)
        node = spec.compile(raw[name], arg_path, self, scope)
        return Command(name, node, path)

    def step(self, raw: Any, path: Path, scope: Scope, what: str) -> Command | None:
        """Compile a value that must be a command (a pipe step, a switch case, ...)."""
        if not self.is_command(raw):
            self.report(
                "not-a-command",
                f"{what} must be a command, got {describe(raw)}",
                path,
                hint=not_a_command_hint(raw, self.commands),
            )
            return None
        node = self.command(raw, path, scope)
        return node if isinstance(node, Command) else None

    def object_arg(
        self,
        raw: Any,
        path: Path,
        command: str,
        allowed: Mapping[str, bool],
    ) -> dict[str, Any] | None:
        """Check an object argument: known keys only, required ones present (a misspelt
        required key is reported once, as the unknown key)."""
        if not isinstance(raw, dict):
            self.report(
                "invalid-argument",
                f"{command} takes an object, got {describe(raw)}",
                path,
                hint=f"{command} keys: {', '.join(allowed)}",
            )
            return None
        unknown = [key for key in raw if key != COMMENT and key not in allowed]
        missing = [key for key, required in allowed.items() if required and key not in raw]
        misspelt = misspelt_required(unknown, missing)
        for key in unknown:
            self.report(
                "invalid-argument",
                f"{command} has no argument {key!r}",
                (*path, key),
                hint=misspelt_required_hint(misspelt[key]) if key in misspelt
                else choices_hint(key, allowed, f"{command} takes"),
                at_key=True,
            )
        for key in missing:
            if key not in misspelt.values():
                self.report("invalid-argument", f"{command} needs {key!r}", path,
                            hint=f"add \"{key}\" to the {command} object")
        return {k: v for k, v in raw.items() if k != COMMENT}

    # ------------------------------------------------------------------ expansions

    def check_expansion(self, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
        if scope.roots is not None and exp.root not in scope.roots:
            allowed = ", ".join(f"${{{r}}}" for r in sorted(scope.roots))
            self.bad_ref(exp, path, text, "root-not-available",
                         f"${{{exp.root}}} is not available in {scope.where}"
                         + (f" (only {allowed} is)" if len(scope.roots) == 1 else ""),
                         scope.roots_hint or f"available here: {allowed or 'nothing'}")
            return
        check = _ROOT_CHECKS.get(exp.root)
        if check is not None:
            check(self, exp, path, scope, text)

    def bad_ref(
        self, exp: Expansion, path: Path, text: str, code: str, message: str, hint: str,
        severity: Severity = "error",
    ) -> None:
        self.report(code, message, path, hint=hint, span=exp.span, text=text, severity=severity)


def not_a_command_hint(raw: Any, commands: Iterable[str]) -> str:
    """The hint for a value where a command belongs: `did you mean '!http'?` when a key of a
    plain object is a command name without its `!`."""
    if isinstance(raw, dict):
        names = list(commands)
        for key in raw:
            if not isinstance(key, str) or key == COMMENT or key.startswith("!"):
                continue
            close = difflib.get_close_matches("!" + key.lower(), names, n=1, cutoff=0.8)
            if close:
                name = close[0]
                return (f"did you mean {name!r}? a command's key starts with '!': "
                        f"{{\"{name}\": ...}} (YAML: {name} ...)")
        if any(k != COMMENT for k in raw):
            return ("a command is an object with one key starting with '!'; to output a fixed "
                    "value, write it as a jq literal: {\"!jq\": \"{...}\"} (YAML: !jq '{...}')")
    return 'write it as {"!jq": "..."}, {"!http": {...}}, ... (YAML: !jq "...")'


def describe(raw: Any) -> str:
    """A short description of a raw value for messages: `a string ("abc")`, `an array`."""
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return f"a boolean ({str(raw).lower()})"
    if isinstance(raw, int | float):
        return f"a number ({raw})"
    if isinstance(raw, str):
        shown = raw if len(raw) <= 40 else raw[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(raw, list):
        return "an array"
    return "an object"


def _check_custom_data(c: Compiler, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
    if not exp.path:
        c.bad_ref(exp, path, text, "custom-data-reference",
                  "${custom_data} needs a field id", "write ${custom_data.<field id>.value}")
        return
    if scope.fields is None:
        return
    field_id = str(exp.path[0])
    info = scope.fields.get(field_id)
    if info is None:
        declared = ", ".join(sorted(scope.fields)) or "none"
        guess = choices_hint(field_id, scope.fields, "declared fields") if scope.fields else \
            "this workflow's select step declares no form fields"
        c.bad_ref(exp, path, text, "unknown-field",
                  f"custom_data.{field_id} is not a form field of this workflow's select step "
                  f"(declared: {declared})", guess)
        return
    if scope.field_index is not None and info.index >= scope.field_index:
        c.bad_ref(exp, path, text, "field-order",
                  f"custom_data.{field_id} is not chosen yet when these options load",
                  "options may only read fields that come earlier in form_fields",
                  severity="warning")
    if not info.required and not exp.has_default:
        c.bad_ref(exp, path, text, "optional-without-default",
                  f"form field {field_id!r} is optional (required: false) but is read without "
                  "a default", f"write ${{{exp.dotted()} | default:<value>}}")
    if len(exp.path) > 1 and exp.path[1] not in ("value", "display"):
        c.bad_ref(exp, path, text, "custom-data-property",
                  f"custom_data.{field_id} has properties 'value' and 'display', not "
                  f"{exp.path[1]!r}", "write .value (the chosen value) or .display (its label)",
                  severity="warning")


def _check_piped(c: Compiler, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
    if not exp.path or not str(exp.path[0]).isdigit():
        c.bad_ref(exp, path, text, "piped-content-reference",
                  "${piped_content} needs a step number",
                  "write ${piped_content.0} (the pipe's input) or ${piped_content.N} (step N)")
        return
    n = int(exp.path[0])
    if len(exp.path) > 1 and c.pipe_reads:
        c.pipe_reads[-1].setdefault(n, []).append((str(exp.path[1]), exp.text))
    if n == 0:
        return
    if scope.pipe_step is None:
        c.bad_ref(exp, path, text, "piped-content-reference",
                  f"piped_content.{n} is used outside a !pipe",
                  "only ${piped_content.0} (the input) exists outside a pipe")
    elif n >= scope.pipe_step:
        c.bad_ref(exp, path, text, "piped-content-reference",
                  f"piped_content.{n} is not an earlier step (this is step {scope.pipe_step})",
                  f"steps 0..{scope.pipe_step - 1} are available here: 0 is the pipe's input, "
                  "N the output of step N")


def _check_subdomain(c: Compiler, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
    if scope.subdomain is not False:
        return
    if not scope.subdomain_lacking:
        c.bad_ref(exp, path, text, "undeclared-subdomain",
                  "${subdomain} is used but the auth does not declare a subdomain field",
                  "add defined_fields.subdomain {label, placeholder, help_text} to the auth")
        return
    lacking = scope.subdomain_lacking
    names = ", ".join(repr(n) for n in lacking)
    auths = f"auth{'s' if len(lacking) > 1 else ''} {names}"
    c.bad_ref(exp, path, text, "undeclared-subdomain",
              f"${{subdomain}} is used in {scope.where}, but {auths} used by a workflow "
              f"{'do' if len(lacking) > 1 else 'does'} not declare a subdomain field",
              f"add defined_fields.subdomain {{label, placeholder, help_text}} to {auths}: "
              "every workflow evaluating this value needs the user's subdomain")


def _check_resource(c: Compiler, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
    if not scope.selection:
        c.bad_ref(exp, path, text, "resource-root",
                  f"${{resource}} is not provided in {scope.where}: the runtime provides it "
                  "(the output of describe_selection) only in the map step, the data_pipeline "
                  "and the data_intake commands of a workflow whose select step has "
                  "describe_selection",
                  "read the selected value from its form field (${custom_data.<id>.value}), "
                  "or add describe_selection {resource_id, display} to the select step",
                  severity="warning")
    elif exp.path and exp.path[0] not in RESOURCE_PROPERTIES:
        c.bad_ref(exp, path, text, "resource-root",
                  f"${{resource}} has properties 'id' and 'display', not {exp.path[0]!r}",
                  "write ${resource.id} (describe_selection.resource_id) or "
                  "${resource.display} (describe_selection.display)", severity="warning")


def _check_polling(c: Compiler, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
    if not scope.polling:
        c.bad_ref(exp, path, text, "polling-state-outside-polling",
                  "${polling_state} exists only in a polling data_intake's commands",
                  "polling_state is written by initial_setup/pre_poll/request/post_poll")


def _check_webhook(c: Compiler, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
    if not exp.path or exp.path[0] != "url":
        c.bad_ref(exp, path, text, "webhook-reference",
                  "the webhook root has one property: url", "write ${webhook.url}")
    elif not scope.webhook_lifecycle:
        c.bad_ref(exp, path, text, "webhook-url-outside-lifecycle",
                  "${webhook.url} exists only in a webhook intake's create/update/delete",
                  "register the receiver URL in the data_intake's create command")


def _check_data(c: Compiler, exp: Expansion, path: Path, scope: Scope, text: str) -> None:
    if not exp.path or exp.path[0] not in SAVE_SCOPES:
        got = repr(exp.path[0]) if exp.path else "nothing"
        c.bad_ref(exp, path, text, "data-reference",
                  f"${{data}} needs a scope ({', '.join(SAVE_SCOPES)}), got {got}",
                  "write ${data.workflow.<key>} for a value saved with !save {scope: workflow}")


_ROOT_CHECKS = {
    "custom_data": _check_custom_data,
    "piped_content": _check_piped,
    "subdomain": _check_subdomain,
    "polling_state": _check_polling,
    "webhook": _check_webhook,
    "data": _check_data,
    "resource": _check_resource,
}


def in_pipe(scope: Scope, step: int) -> Scope:
    return replace(scope, pipe_step=step)
