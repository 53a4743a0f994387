"""Run the node at a JSON pointer of a compiled manifest."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from ..model import Command
from ..paths import Path, from_pointer
from .evaluate import SYSTEM_ERRORS, evaluate
from .locate import not_found

if TYPE_CHECKING:
    from ..model import CompiledManifest, Node
    from .context import EvalContext


def run_at(compiled: CompiledManifest, pointer: str | Path, value: Any, ctx: EvalContext
           ) -> Any:
    """Evaluate the command (or value) at `pointer` with input `value`.

    Outside any `!pipe`, `${piped_content.0}` is this input (validate allows exactly that).
    Raises ValueError for a malformed pointer, EvaluationError (code "no-such-node") when
    nothing is there, and EvaluationError for any failure while running."""
    path = from_pointer(pointer) if isinstance(pointer, str) else pointer
    node = compiled.node_at(path)
    if node is None:
        raise not_found(compiled, path)
    return run_node(node, value, ctx)


def run_node(node: Node, value: Any, ctx: EvalContext) -> Any:
    """Evaluate a node found once (e.g. a pipeline's source) with input `value`; outside any
    `!pipe`, `${piped_content.0}` is this input."""
    if ctx.piped_content is None and not _reads_no_roots(node):
        ctx = ctx.with_piped([value])
    return evaluate(node, value, ctx)


def _reads_no_roots(node: Node) -> bool:
    """A `!jq` program without expansions reads its input only: no `${piped_content}` to
    make for it (once per record)."""
    return type(node) is Command and node.name == "!jq" and \
        getattr(node.node, "variables", None) == ()


def node_runner(node: Node) -> Callable[[Any, EvalContext], Any]:
    """`run_node(node, ...)` for a node run once per record, made once: for a `!jq` whose
    expansions do not read `${piped_content}`, the program runs straight in the given
    context (no child context made for the record, no dispatch). Anything other than an
    output (a jq error, a missing expansion) runs again the usual way, so a failure is
    exactly `run_node`'s (its message, its location); a jq program and its expansions have
    no side effects. Traced runs take the usual way."""
    if not isinstance(node, Command) or node.run is None or node.name != "!jq":
        return partial(run_node, node)
    variables = getattr(node.node, "variables", None)
    if variables is None or any(exp.root == "piped_content" for exp in variables):
        return partial(run_node, node)
    run, inner = node.run, node.node

    def run_jq(value: Any, ctx: EvalContext) -> Any:
        if ctx.env.trace is None:
            try:
                return run(inner, value, ctx)
            except SYSTEM_ERRORS:
                raise
            except Exception:  # run again below: its error as run_node gives it
                pass
        return run_node(node, value, ctx)
    return run_jq
