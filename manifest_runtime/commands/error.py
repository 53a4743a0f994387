"""`!error`: fail the current record with a fixed message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import describe
from ..expressions.evaluate import as_text
from ..model import Const, Node
from ..runtime.errors import fail
from ..runtime.evaluate import evaluate
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


@dataclass(frozen=True, slots=True)
class ErrorNode:
    message: Node


def compile_error(raw: Any, path: Path, c: Compiler, scope: Scope) -> ErrorNode | None:
    if not isinstance(raw, str):
        c.report("invalid-argument", f"!error takes a message string, got {describe(raw)}", path,
                 hint='e.g. {"!error": "the contact has no email address"}')
        return None
    message = c.value(raw, path, scope)
    if not isinstance(message, Const):
        c.report("error-message-not-static", "!error messages are static text in App Studio",
                 path, severity="warning",
                 hint="the expansion works here, but App Studio may log the text unexpanded")
    return ErrorNode(message)


def run_error(node: ErrorNode, value: Any, ctx: EvalContext) -> Any:
    """Fail the current record with the message (code "error-command")."""
    message = evaluate(node.message, value, ctx)
    raise fail("error-command", as_text(message))


SPEC = CommandSpec("!error", "stop: fail the current record with a message", compile_error,
                   run_error)
