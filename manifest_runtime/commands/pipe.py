"""`!pipe`: run commands in order, each step's output the next one's input.

`${piped_content.0}` is the pipe's input, `${piped_content.N}` the output of step N (1-based);
the innermost pipe wins. Each `!http` step's output shape is decided after compiling, from what
consumes it (compile/passes/http_output.py, DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..compile.roots import in_pipe
from ..errors import EvaluationError, describe
from ..model import Command
from ..runtime.errors import PipeStepError, excerpt
from ..runtime.evaluate import run_command
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


@dataclass(frozen=True, slots=True)
class PipeNode:
    steps: tuple[Command, ...]
    # every ${piped_content.N.<field>} inside the pipe (not in nested pipes): (N, field, text)
    reads: tuple[tuple[int, str, str], ...] = ()
    complete: bool = True  # every step compiled (else the output-shape pass skips the pipe)


def compile_pipe(raw: Any, path: Path, c: Compiler, scope: Scope) -> PipeNode | None:
    if not isinstance(raw, list) or not raw:
        got = "an empty array" if raw == [] else describe(raw)
        c.report("invalid-argument", f"!pipe takes a non-empty array of commands, got {got}",
                 path, hint='e.g. {"!pipe": [{"!http": {...}}, {"!jq": "..."}]}')
        return None
    c.pipe_reads.append({})
    try:
        steps: list[Command | None] = [
            c.step(step, (*path, i), in_pipe(scope, i + 1), f"step {i + 1} of !pipe")
            for i, step in enumerate(raw)
        ]
    finally:
        refs = c.pipe_reads.pop()
    valid = tuple(s for s in steps if s is not None)
    reads = tuple((n, name, text) for n, found in refs.items() for name, text in found)
    return PipeNode(valid, reads, complete=len(valid) == len(steps))


# ---------------------------------------------------------------------- run


def run_pipe(node: PipeNode, value: Any, ctx: EvalContext) -> Any:
    """Run the steps in order; `${piped_content}` is `[input, out1, out2, ...]` of this pipe."""
    piped = [value]
    child = ctx.with_piped(piped)
    for index, step in enumerate(node.steps, 1):
        try:
            value = run_command(step, value, child)
        except PipeStepError:
            raise
        except EvaluationError as exc:
            raise _step_error(exc, index, step, piped[-1], ctx) from exc.__cause__
        piped.append(value)
    return value


def _step_error(exc: EvaluationError, index: int, step: Command, step_input: Any,
                ctx: EvalContext) -> PipeStepError:
    d = exc.diagnostic
    shown = ctx.env.redact(excerpt(step_input, 200))
    note = f"in !pipe step {index} ({step.name}), whose input was: {shown}"
    return PipeStepError(replace(d, notes=(*d.notes, note)))


SPEC = CommandSpec("!pipe", "run commands in order, piping each output into the next",
                   compile_pipe, run_pipe)
