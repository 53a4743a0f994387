"""`!print_c`: log a message (expansions allowed); the output is the input, unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import describe
from ..expressions.evaluate import as_text
from ..model import Node
from ..runtime.evaluate import evaluate
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


@dataclass(frozen=True, slots=True)
class PrintNode:
    message: Node


def compile_print(raw: Any, path: Path, c: Compiler, scope: Scope) -> PrintNode | None:
    if not isinstance(raw, str):
        c.report("invalid-argument", f"!print_c takes a string, got {describe(raw)}", path,
                 hint='e.g. {"!print_c": "got ${piped_content.1}"}')
        return None
    return PrintNode(c.value(raw, path, scope))


def run_print(node: PrintNode, value: Any, ctx: EvalContext) -> Any:
    """Log the expanded message (objects as JSON text); the output is the input."""
    message = as_text(evaluate(node.message, value, ctx))
    ctx.note("message", message)
    ctx.log(message)
    return value


SPEC = CommandSpec("!print_c", "log a message; pass the input through", compile_print,
                   run_print)
