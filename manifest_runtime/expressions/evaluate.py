"""Evaluate parsed expansions against a context of roots (DESIGN §3 typing rules).

* A string that is exactly one `${...}` yields the native value (an object stays an object).
* Text mixed with expansions yields a string: strings spliced raw, numbers and booleans as
  JSON, null as empty, objects and arrays as compact JSON.
* A missing value (not JSON null) without `| default` is an error naming what exists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import Diagnostic, EvaluationError
from ..paths import Path
from .filters import FILTERS
from .nodes import Expansion, Missing, Segment, Template

SUBDOMAIN_HINT = (
    "${subdomain} is the user's subdomain: set \"subdomain\" in the auth's entry of the "
    "credentials file, or MANIFEST_RUNTIME_SUBDOMAIN, or pass --subdomain"
)
DEFAULT_HINT = "add | default:<value> to the expansion if the value may be absent"
# where each root's values come from when a command runs (eval's options, setup, run)
ROOT_HINTS = {
    "subdomain": SUBDOMAIN_HINT,
    "custom_data": "custom_data holds the select step's answers: saved by `setup` (run), or "
    "given with --custom-data (eval); add | default:<value> if the field is optional",
    "resource": "${resource} is the selection saved by `setup` (run), or --resource (eval)",
    "polling_state": "polling_state is kept between polls; give it with --polling-state (eval)",
    "data": "${data.<scope>...} reads what !save stored in the state file; add "
    "| default:<value> for the first run, before anything is saved",
}


def evaluate_template(template: Template, roots: Mapping[str, Any], path: Path = ()) -> Any:
    """The value of a template string: native for a lone expansion, else text."""
    single = template.single
    if single is not None:
        return evaluate_expansion(single, roots, path, template.source)
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(as_text(evaluate_expansion(part, roots, path, template.source)))
    return "".join(out)


def evaluate_expansion(exp: Expansion, roots: Mapping[str, Any], path: Path = (),
                       source: str | None = None) -> Any:
    value, missing_at = resolve(exp, roots)
    for f in exp.filters:
        value = FILTERS[f.name](value, f.arg)
    if value is Missing:
        raise EvaluationError(_missing(exp, roots, missing_at, path, source))
    return value


def resolve(exp: Expansion, roots: Mapping[str, Any]) -> tuple[Any, int]:
    """Follow the reference; returns (value or Missing, index of the first missing segment)."""
    value: Any = roots.get(exp.root, Missing)
    if value is Missing:
        return Missing, -1
    for i, seg in enumerate(exp.path):
        value = step(value, seg)
        if value is Missing:
            return Missing, i
    return value, len(exp.path)


def step(value: Any, seg: Segment) -> Any:
    if isinstance(value, dict):
        return value.get(str(seg), Missing)
    if isinstance(value, list):
        index = seg if isinstance(seg, int) else (int(seg) if seg.isdigit() else None)
        if index is not None and 0 <= index < len(value):
            return value[index]
    return Missing


def as_text(value: Any) -> str:
    """How a value is spliced into surrounding text."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _missing(exp: Expansion, roots: Mapping[str, Any], missing_at: int, path: Path,
             source: str | None) -> Diagnostic:
    if missing_at < 0:
        have = ", ".join(sorted(k for k, v in roots.items() if v is not Missing)) or "nothing"
        message = f"{exp.text}: {exp.root} is not available here (available: {have})"
    else:
        parent: Any = roots.get(exp.root)
        for seg in exp.path[:missing_at]:
            parent = step(parent, seg)
        shown = exp.root + "".join(
            f"[{s}]" if isinstance(s, int) else f".{s}" for s in exp.path[:missing_at])
        message = f"{exp.text}: {shown} has no {exp.path[missing_at]!r} ({_has(parent)})"
    return Diagnostic(
        code="missing-reference",
        message=message,
        path=path,
        span=exp.span,
        source_text=source,
        hint=ROOT_HINTS.get(exp.root, DEFAULT_HINT),
    )


def _has(parent: Any) -> str:
    if isinstance(parent, dict):
        keys = sorted(parent)
        shown = ", ".join(keys[:12]) + (", ..." if len(keys) > 12 else "")
        return f"it has: {shown}" if keys else "it is an empty object"
    if isinstance(parent, list):
        return f"it is an array of {len(parent)} item{'s' if len(parent) != 1 else ''}"
    if parent is None:
        return "it is null"
    return f"it is {as_text(parent)!r}"
