"""Structural validation against schemas/manifest.schema.json, as located diagnostics.

Two validators, one schema: the compiled one (jsonschema-rs, Rust) says quickly whether a
manifest is valid; only when it is not does python-jsonschema list the errors to explain
(tests/validate/test_schema_agreement.py checks both agree on every case file). Without
jsonschema-rs (a platform with no wheel) python-jsonschema does both.

jsonschema's errors are translated here (the boundary): unknown keys get a did-you-mean hint
from the schema's own `properties`, wrong types say what was found, and every diagnostic
points at the key or value it is about. A misspelt required key (`labl` for `label`) is one
`unknown-key` diagnostic at the misspelt key, not also a `missing-key` for the object.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from ..errors import choices_hint, describe, did_you_mean, misspelt_required, misspelt_required_hint
from ..paths import Path
from .compiler import COMMENT, Compiler, not_a_command_hint


@cache
def load_schema() -> dict[str, Any]:
    from importlib import resources  # here, not at import (start-up)

    text = resources.files("manifest_runtime").joinpath("schema/manifest.schema.json").read_text(
        "utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema())


@cache
def _fast_validator() -> Any | None:
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a platform without a wheel: the slow path only
        return None
    return jsonschema_rs.validator_for(load_schema())


def schema_valid(data: Any) -> bool:
    """Does `data` follow the schema? (the fast validator when there is one)"""
    fast = _fast_validator()
    if fast is not None:
        return bool(fast.is_valid(data))
    return bool(_validator().is_valid(data))


_UNKNOWN_KEY_KINDS = ("additionalProperties", "unevaluatedProperties")

# object path -> {misspelt unknown key: the missing required key it stands for}
Misspelt = dict[Path, dict[str, str]]


def check_schema(data: Any, c: Compiler) -> None:
    """Report every structural problem of `data` through the compiler's diagnostics."""
    if _fast_validator() is not None and schema_valid(data):
        return
    errors = list(_validator().iter_errors(data))
    misspelt = _misspelt_required(errors)
    for error in errors:
        _translate(error, c, misspelt)


def _misspelt_required(errors: list[Any]) -> Misspelt:
    """Per object, the unknown keys that are close to a missing required key of it."""
    missing: dict[Path, list[str]] = {}
    unknown: dict[Path, list[str]] = {}
    for error in errors:
        path: Path = tuple(error.absolute_path)
        if error.validator == "required":
            missing.setdefault(path, []).append(_missing_key(error))
        elif error.validator in _UNKNOWN_KEY_KINDS:
            unknown.setdefault(path, []).extend(_unexpected_keys(error))
    out: Misspelt = {}
    for path in missing.keys() & unknown.keys():
        if found := misspelt_required(unknown[path], missing[path]):
            out[path] = found
    return out


def _translate(error: Any, c: Compiler, misspelt: Misspelt) -> None:
    path: Path = tuple(error.absolute_path)
    kind = error.validator
    if kind in _UNKNOWN_KEY_KINDS:
        for key in _unexpected_keys(error):
            known = list(error.schema.get("properties", {}))
            required = misspelt.get(path, {}).get(key)
            hint = misspelt_required_hint(required) if required is not None else \
                did_you_mean(key, known) or f"allowed keys here: {', '.join(known)}"
            c.report("unknown-key", f"unknown key {key!r}", (*path, key), hint=hint, at_key=True)
    elif kind == "not" and "propertyNames" in error.validator_value:
        # a plain object where a command belongs ($defs/command: some key starts with "!")
        where = f"{path[-1]} " if path and isinstance(path[-1], str) else "this value "
        keys = [k for k in error.instance if k != COMMENT]
        got = f"an object without a '!' key ({', '.join(keys)})" if keys else \
            "an object without a '!' key" if error.instance else "an empty object"
        c.report("not-a-command", f"{where}must be a command, got {got}", path,
                 hint=not_a_command_hint(error.instance, c.commands))
    elif kind == "not" and path:
        c.report("unknown-key", f"key {path[-1]!r} is not allowed here", path, at_key=True,
                 hint=error.schema.get("description"))
    elif kind == "required":
        missing = _missing_key(error)
        if missing in misspelt.get(path, {}).values():
            return  # reported as the misspelt unknown key
        c.report("missing-key", f"missing required key {missing!r}", path,
                 hint=_describe_property(error.schema, missing))
    elif kind in ("enum", "const"):
        allowed = error.validator_value if kind == "enum" else [error.validator_value]
        shown = ", ".join(json.dumps(a) for a in allowed)
        hint = choices_hint(str(error.instance), [str(a) for a in allowed]) if kind == "enum" \
            else f"use {shown}"
        c.report("invalid-value", f"{describe(error.instance)} is not allowed here (expected "
                 f"{shown})", path, hint=hint)
    elif kind == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        hint = None
        if expected_text == "object" and path and _is_command_position(error.schema):
            hint = 'write a command here, e.g. {"!jq": "..."} (YAML: !jq "...")'
        c.report("wrong-type", f"expected {_article(expected_text)}, got "
                 f"{describe(error.instance)}", path, hint=hint)
    elif kind in ("minItems", "minProperties", "minLength"):
        c.report("invalid-value", _min_message(kind, error), path,
                 hint=error.schema.get("description"))
    else:
        c.report("schema", error.message, path, hint=error.schema.get("description"))


def _missing_key(error: Any) -> str:
    """The key a `required` error is about (jsonschema: "'label' is a required property")."""
    message: str = error.message
    return message.split("'")[1] if "'" in message else message


def _unexpected_keys(error: Any) -> Iterator[str]:
    props = error.schema.get("properties", {})
    patterns = error.schema.get("patternProperties", {})
    for key in error.instance:
        if key in props or key == COMMENT:
            continue
        if patterns and any(_matches(p, key) for p in patterns):
            continue
        yield key


def _matches(pattern: str, key: str) -> bool:
    import re

    return re.search(pattern, key) is not None


def _describe_property(schema: dict[str, Any], key: str) -> str | None:
    prop = schema.get("properties", {}).get(key, {})
    description = prop.get("description") if isinstance(prop, dict) else None
    return f"add {key!r}: {description}" if description else f"add {key!r}"


def _is_command_position(schema: dict[str, Any]) -> bool:
    return "command" in str(schema.get("description", "")).lower()


def _article(type_name: str) -> str:
    return ("an " if type_name[:1] in "aeiou" else "a ") + type_name


def _min_message(kind: str, error: Any) -> str:
    n = error.validator_value
    if kind == "minItems":
        return f"needs at least {n} item{'s' if n != 1 else ''}"
    if kind == "minLength":
        return "must not be empty"
    return f"needs at least {n} key{'s' if n != 1 else ''}"
