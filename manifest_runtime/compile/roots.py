"""Every root and scope rule in one place: which `${root}` exists where, and why not.

A `Scope` says where a value stands in the manifest (which workflow's form fields are visible,
polling or webhook lifecycle, the current pipe step, the roots that exist there). The section
scopes (auth, api, connect, ...) are built by `walk.py` from the constants here; each root's
own rule (`ROOT_CHECKS`) checks one expansion against the scope it stands in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import choices_hint
from ..expressions.nodes import ROOTS, SAVE_SCOPES, Expansion
from ..paths import Path

if TYPE_CHECKING:
    from .compiler import Compiler

RESOURCE_PROPERTIES = ("id", "display")  # ${resource.*}: what describe_selection outputs

WEBHOOK_LIFECYCLE = ("create", "update", "delete")
# data_intake keys that read an incoming payload to route it, before any selection is known
ROUTING_KEYS = ("resource_id", "account_id")

# auth and api values are evaluated with the user's credentials only (reference §2.6)
ONLY_SUBDOMAIN = frozenset({"subdomain"})
AUTH_ROOTS_HINT = (
    "auth values are resolved when an account is connected, before any workflow step runs: "
    "only ${subdomain} (declared in defined_fields) exists there"
)
API_ROOTS_HINT = (
    "api values are shared by every request of every workflow and resolved from the "
    "connection alone: only ${subdomain} (declared in the auth's defined_fields) exists there"
)
# the connect step runs when the account is connected, before the select step
CONNECT_ROOTS = frozenset(ROOTS) - {"custom_data"}
CONNECT_ROOTS_HINT = (
    "the connect step runs when the account is connected, before the select step: "
    "custom_data exists from the select step on (options of later fields, "
    "describe_selection, map, data_intake commands, data_pipeline)"
)


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
    polling: bool | None = False  # in a polling data_intake; None: its type is unknown
    webhook_lifecycle: bool = False
    # outside any !pipe being compiled: the step ${piped_content.N} is read from (None: not
    # in a pipe); inside one, the compiler's own count of the innermost pipe's step wins
    pipe_step: int | None = None
    subdomain: bool | None = None  # is ${subdomain} declared? None: unknown
    # when subdomain is False: the auths that would evaluate this value without declaring it
    subdomain_lacking: tuple[str, ...] = ()
    where: str = "the manifest"  # for messages: "auth 'tok'", "the connect step of ...", ...
    bare_paths: bool = False  # api.pagination.parser: a bare `page_count` means `.page_count`
    roots: frozenset[str] | None = None  # the only roots that can exist here; None: any
    roots_hint: str | None = None  # why the others cannot (for root-not-available)
    selection: bool = False  # ${resource} (the select step's describe_selection) exists here

    def but(self, **changes: Any) -> Scope:
        """This scope with `changes` (dataclasses.replace without its per-call introspection:
        the walk derives a scope for every section, step and form field)."""
        new = object.__new__(Scope)
        for name in _SCOPE_FIELDS:
            object.__setattr__(new, name, changes.pop(name) if name in changes
                               else getattr(self, name))
        if changes:
            raise TypeError(f"Scope has no field {next(iter(changes))!r}")
        return new


_SCOPE_FIELDS = tuple(f.name for f in dataclasses.fields(Scope))


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
    step = c.pipe_steps[-1] if c.pipe_steps else scope.pipe_step
    if step is None:
        c.bad_ref(exp, path, text, "piped-content-reference",
                  f"piped_content.{n} is used outside a !pipe",
                  "only ${piped_content.0} (the input) exists outside a pipe")
    elif n >= step:
        c.bad_ref(exp, path, text, "piped-content-reference",
                  f"piped_content.{n} is not an earlier step (this is step {step})",
                  f"steps 0..{step - 1} are available here: 0 is the pipe's input, "
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
    if scope.polling is False:
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


RootCheck = Callable[["Compiler", Expansion, Path, Scope, str], None]

ROOT_CHECKS: dict[str, RootCheck] = {
    "custom_data": _check_custom_data,
    "piped_content": _check_piped,
    "subdomain": _check_subdomain,
    "polling_state": _check_polling,
    "webhook": _check_webhook,
    "data": _check_data,
    "resource": _check_resource,
}
