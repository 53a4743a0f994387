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


PASSTHROUGH = frozenset({"!print_c", "!save"})  # output their input unchanged


@dataclass(frozen=True, slots=True)
class PipeNode:
    steps: tuple[Command, ...]
    # root fields of the pipe's input read through ${piped_content.0.<field>} (and by whom)
    input_reads: tuple[tuple[str, str], ...] = ()


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
    input_reads = tuple(refs.get(0, ()))
    if len(valid) != len(steps):
        return PipeNode(valid, input_reads)
    return PipeNode(tuple(_decide_http_outputs(list(valid), refs, c)), input_reads)


def _decide_http_outputs(steps: list[Command], refs: dict[int, list[tuple[str, str]]],
                         c: Compiler) -> list[Command]:
    """Give each `!http` step (also one inside a `!switch` case, or last in a nested pipe)
    the output shape its consumers read."""
    for i, step in enumerate(steps):
        index = i + 1  # 1-based step number
        if _yields_http(step):
            reads, who = _consumer_reads(index, steps[i + 1 :], refs)
            steps[i] = _retarget(step, reads, who, c)
    return steps


def _yields_http(step: Command) -> bool:
    """Can this step's output be an `!http` response (itself, a case, a nested pipe's end)?"""
    from .http import HttpNode
    from .switch import SwitchNode

    node = step.node
    if isinstance(node, HttpNode):
        return True
    if isinstance(node, SwitchNode):
        return any(_yields_http(case) for case in node.cases)
    if isinstance(node, PipeNode) and node.steps:
        return _yields_http(node.steps[-1])
    return False


def _consumer_reads(index: int, later: list[Command], refs: dict[int, list[tuple[str, str]]]
                    ) -> tuple[frozenset[str], str]:
    """Root fields read from step `index`'s output, and who reads them (for the note): the
    first later step that is not a pass-through (`!print_c`, `!save`), and every
    `${piped_content.<index>.<field>}`."""
    reads: set[str] = set()
    who: list[str] = []
    for offset, step in enumerate(later):
        found = _input_reads(step)
        if found:
            reads |= found
            who.append(f"step {index + 1 + offset} ({step.name})")
        if step.name not in PASSTHROUGH:
            break
    for field_name, text in refs.get(index, ()):
        reads.add(field_name)
        who.append(text)
    return frozenset(reads), ", ".join(dict.fromkeys(who))


def _input_reads(step: Command) -> frozenset[str]:
    """Root fields `step` reads from its input: a `!jq` program, a `!switch`'s jq and its
    cases (they get the same input), a nested pipe's first reader and its
    ${piped_content.0.<field>} references."""
    from .jq import JqNode
    from .switch import SwitchNode

    node = step.node
    if isinstance(node, JqNode):
        return node.reads
    if isinstance(node, SwitchNode):
        reads = set(node.jq.reads)
        for case in node.cases:
            reads |= _input_reads(case)
        return frozenset(reads)
    if isinstance(node, PipeNode):
        reads = {name for name, _ in node.input_reads}
        for inner in node.steps:
            reads |= _input_reads(inner)
            if inner.name not in PASSTHROUGH:
                break
        return frozenset(reads)
    return frozenset()


def _retarget(step: Command, reads: frozenset[str], who: str, c: Compiler) -> Command:
    """Set the output shape of the `!http` this step yields (through cases and nested pipes:
    a nested pipe's last step has no consumer inside it, so the outer consumer decides)."""
    from .http import HttpNode
    from .switch import SwitchNode

    node = step.node
    if isinstance(node, HttpNode):
        return _with_mode(step, node, reads, who, c)
    if isinstance(node, SwitchNode):
        cases = tuple(_retarget(case, reads, who, c) for case in node.cases)
        return replace(step, node=replace(node, cases=cases))
    if isinstance(node, PipeNode) and node.steps:
        last = _retarget(node.steps[-1], reads, who, c)
        return replace(step, node=replace(node, steps=(*node.steps[:-1], last)))
    return step


def _with_mode(step: Command, http: HttpNode, reads: frozenset[str], who: str, c: Compiler
               ) -> Command:
    fields = ", ".join("." + r for r in sorted(reads))
    mode: HttpOutput
    if reads & WRAPPER_KEYS:
        mode, reason = "wrapped", f"{who} reads {fields}"
        if reads - WRAPPER_KEYS:
            c.report("http-output-conflict",
                     f"the consumers of this !http step read both wrapper fields and body "
                     f"fields ({fields}: {who}); it yields {{status, headers, body}}, so "
                     f"{', '.join('.' + r for r in sorted(reads - WRAPPER_KEYS))} will be "
                     "missing", step.path, severity="warning",
                     hint="read the body's fields as .body.<field> "
                     "(${piped_content.N.body.<field>})")
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
