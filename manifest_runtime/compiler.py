"""Moved to `manifest_runtime.compile.compiler` (and `compile.roots`); this name is kept so
that imports written before the move still work. Import from the new place."""

from .compile.compiler import COMMENT, Compiler, not_a_command_hint
from .compile.roots import FieldInfo, Scope
from .errors import describe
from .expressions.nodes import SAVE_SCOPES

__all__ = ["COMMENT", "SAVE_SCOPES", "Compiler", "FieldInfo", "Scope", "describe",
           "not_a_command_hint"]
