"""`!save`: merge the input object's keys into a scope's store (`${data.<scope>.<key>}`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..compiler import SAVE_SCOPES, describe
from ..errors import choices_hint
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compiler import Compiler, Scope
    from ..paths import Path


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


SPEC = CommandSpec("!save", "store the input's keys for ${data.<scope>.<key>}", compile_save)
