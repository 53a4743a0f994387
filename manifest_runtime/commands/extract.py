"""`!extract`: output an array of the listed fields' values (parsed from JSON text if asked)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..compiler import describe
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compiler import Compiler, Scope
    from ..paths import Path


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
        c.report("invalid-argument", f"!extract item_keys must be a non-empty array of field "
                 f"names, got {describe(keys)}", (*path, "item_keys"),
                 hint='e.g. {"item_keys": ["data.json"], "to_json": true}')
        return None
    to_json = args.get("to_json", False)
    if not isinstance(to_json, bool):
        c.report("invalid-argument", f"!extract to_json must be true or false, got "
                 f"{describe(to_json)}", (*path, "to_json"))
        to_json = False
    return ExtractNode(tuple(keys), to_json)


SPEC = CommandSpec("!extract", "output the listed fields' values as an array", compile_extract)
