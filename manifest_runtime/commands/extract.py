"""`!extract`: output an array of the listed fields' values (parsed from JSON text if asked)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import describe
from ..runtime.errors import excerpt, fail
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


@dataclass(frozen=True, slots=True)
class ExtractNode:
    item_keys: tuple[str, ...]
    to_json: bool


def compile_extract(raw: Any, path: Path, c: Compiler, scope: Scope) -> ExtractNode | None:
    args = c.object_arg(raw, path, "!extract", {"item_keys": True, "to_json": False})
    if args is None or "item_keys" not in args:
        return None
    keys = args["item_keys"]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
        if not isinstance(keys, list):
            got = describe(keys)
        elif not keys:
            got = "an empty array"
        else:
            got = "an array holding " + describe(next(k for k in keys if not isinstance(k, str)))
        c.report("invalid-argument", f"!extract item_keys must be a non-empty array of field "
                 f"names, got {got}", (*path, "item_keys"),
                 hint='e.g. {"item_keys": ["data.json"], "to_json": true}')
        return None
    to_json = args.get("to_json", False)
    if not isinstance(to_json, bool):
        c.report("invalid-argument", f"!extract to_json must be true or false, got "
                 f"{describe(to_json)}", (*path, "to_json"))
        to_json = False
    return ExtractNode(tuple(keys), to_json)


def run_extract(node: ExtractNode, value: Any, ctx: EvalContext) -> Any:
    """An array of the listed fields' values, in item_keys order; with to_json each value
    (a JSON text) is parsed. A field that is absent is an error naming it."""
    if not isinstance(value, dict):
        raise fail("extract-input", f"!extract reads fields of an object, got {describe(value)}")
    out: list[Any] = []
    for key in node.item_keys:
        if key not in value:
            have = ", ".join(sorted(value)[:12]) or "no fields"
            raise fail("extract-missing", f"!extract: the input has no field {key!r} "
                       f"(it has: {have})")
        item = value[key]
        if node.to_json:
            item = _parse(key, item)
        out.append(item)
    return out


def _parse(key: str, item: Any) -> Any:
    if isinstance(item, list) and len(item) == 1 and isinstance(item[0], str):
        item = item[0]  # a form field decoded as a one-element list
    if not isinstance(item, str):
        raise fail("extract-not-json", f"!extract: field {key!r} is {describe(item)}, not JSON "
                   "text", hint="set to_json: false to take the value as it is")
    try:
        return json.loads(item)
    except ValueError as exc:
        raise fail("extract-not-json", f"!extract: field {key!r} is not valid JSON ({exc}): "
                   f"{excerpt(item, 80)}",
                   hint="set to_json: false to take the value as it is") from None


SPEC = CommandSpec("!extract", "output the listed fields' values as an array", compile_extract,
                   run_extract)
