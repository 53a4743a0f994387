"""`!save`: merge the input object's keys into a scope's store (`${data.<scope>.<key>}`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import choices_hint, describe
from ..expressions.nodes import SAVE_SCOPES
from ..runtime.errors import fail
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


@dataclass(frozen=True, slots=True)
class SaveNode:
    scope: str


def compile_save(raw: Any, path: Path, c: Compiler, scope: Scope) -> SaveNode | None:
    args = c.object_arg(raw, path, "!save", {"scope": True})
    if args is None or "scope" not in args:
        return None
    value = args["scope"]
    if value not in SAVE_SCOPES:
        c.report("invalid-argument", f"!save scope must be one of {', '.join(SAVE_SCOPES)}, got "
                 f"{describe(value)}", (*path, "scope"),
                 hint=choices_hint(str(value), SAVE_SCOPES, "scopes"))
        return None
    return SaveNode(value)


def run_save(node: SaveNode, value: Any, ctx: EvalContext) -> Any:
    """Merge the input object's keys into the scope's store; the output is the input."""
    if not isinstance(value, dict):
        raise fail("save-input", f"!save stores the keys of an object, got {describe(value)}",
                   hint="put a !jq step before it that builds the object, e.g. "
                   "{webhook_id: .id}")
    ctx.note("scope", node.scope)
    ctx.save(node.scope, value)
    return value


SPEC = CommandSpec("!save", "store the input's keys for ${data.<scope>.<key>}", compile_save,
                   run_save)
