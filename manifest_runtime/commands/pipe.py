"""`!pipe`: run commands in order, each step's output the next one's input.

`${piped_content.0}` is the pipe's input, `${piped_content.N}` the output of step N (1-based);
the innermost pipe wins. Compiling a pipe also decides each `!http` step's output shape from
what consumes it (DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..compiler import describe, in_pipe
from ..errors import EvaluationError
from ..model import Command
from ..runtime.errors import PipeStepError, excerpt
from ..runtime.evaluate import run_command
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compiler import Compiler, Scope
    from ..model import HttpOutput
    from ..paths import Path
    from ..runtime.context import EvalContext
    from .http import HttpNode

WRAPPER_KEYS = frozenset({"body", "status", "headers"})


@dataclass(frozen=True, slots=True)
class PipeNode:
    steps: tuple[Command, ...]


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
    if len(valid) != len(steps):
        return PipeNode(valid)
    return PipeNode(tuple(_decide_http_outputs(list(valid), refs, c)))


def _decide_http_outputs(steps: list[Command], refs: dict[int, list[tuple[str, str]]],
                         c: Compiler) -> list[Command]:
    from .http import HttpNode

    for i, step in enumerate(steps):
        index = i + 1  # 1-based step number
        later = steps[i + 1 :]
        if isinstance(step.node, HttpNode):
            steps[i] = _with_mode(step, *_consumer_reads(index, later, refs), c)
        elif step.name == "!switch" and step.node is not None:
            reads, why = _consumer_reads(index, later, refs)
            cases = tuple(
                _with_mode(case, reads, why, c) if isinstance(case.node, HttpNode) else case
                for case in step.node.cases
            )
            steps[i] = replace(step, node=replace(step.node, cases=cases))
    return steps


def _consumer_reads(index: int, later: list[Command], refs: dict[int, list[tuple[str, str]]]
                    ) -> tuple[frozenset[str], str]:
    """Root fields read from step `index`'s output, and who reads them (for the note)."""
    from .jq import JqNode

    reads: set[str] = set()
    who: list[str] = []
    if later:
        nxt = later[0]
        program = nxt.node if isinstance(nxt.node, JqNode) else None
        if nxt.name == "!switch" and nxt.node is not None:
            program = nxt.node.jq
        if program is not None and program.reads:
            reads |= program.reads
            who.append(f"step {index + 1} ({nxt.name})")
    for field_name, text in refs.get(index, ()):
        reads.add(field_name)
        who.append(text)
    return frozenset(reads), ", ".join(dict.fromkeys(who))


def _with_mode(step: Command, reads: frozenset[str], who: str, c: Compiler) -> Command:
    http: HttpNode = step.node
    fields = ", ".join("." + r for r in sorted(reads))
    mode: HttpOutput
    if reads & WRAPPER_KEYS:
        mode, reason = "wrapped", f"{who} reads {fields}"
    elif reads:
        mode, reason = "body", f"{who} reads {fields} at the root of the response body"
    else:
        mode, reason = "wrapped", "no later step reads fields of the response"
    node = replace(http, output=mode, output_reason=reason)
    c.http_nodes[step.path] = node
    return replace(step, node=node)


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
