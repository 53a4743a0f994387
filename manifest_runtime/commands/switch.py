"""`!switch`: a jq program picks a 0-based case; only that case runs, on the same input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError, describe
from ..model import Command
from ..runtime.errors import excerpt
from ..runtime.evaluate import run_command
from .base import CommandSpec
from .jq import JqNode, compile_program, run_program

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


@dataclass(frozen=True, slots=True)
class SwitchNode:
    jq: JqNode
    cases: tuple[Command, ...]


def compile_switch(raw: Any, path: Path, c: Compiler, scope: Scope) -> SwitchNode | None:
    args = c.object_arg(raw, path, "!switch", {"jq": True, "cases": True})
    if args is None:
        return None
    program = None
    jq_raw = args.get("jq")
    if "jq" in args and (not isinstance(jq_raw, str) or not jq_raw.strip()):
        got = describe(jq_raw) if not isinstance(jq_raw, str) else "an empty program"
        c.report("invalid-argument", "!switch jq takes a jq program (a string) that outputs "
                 f"the index of the case to run, got {got}", (*path, "jq"),
                 hint='e.g. "jq": "if .body.meta.total > 0 then 1 else 0 end" (0 runs the '
                 "first case)")
    elif "jq" in args:
        program = compile_program(args["jq"], (*path, "jq"), c, scope, "!switch jq")
    cases_raw = args.get("cases")
    if "cases" in args and (not isinstance(cases_raw, list) or not cases_raw):
        c.report("invalid-argument", "!switch cases must be a non-empty array of commands",
                 (*path, "cases"), hint="the jq program's result (0, 1, ...) picks a case")
        return None
    cases = [
        c.step(case, (*path, "cases", i), scope, f"!switch case {i}")
        for i, case in enumerate(cases_raw or [])
    ]
    if program is None or any(case is None for case in cases) or not cases:
        return None
    return SwitchNode(program, tuple(case for case in cases if case is not None))


# ---------------------------------------------------------------------- run


def run_switch(node: SwitchNode, value: Any, ctx: EvalContext) -> Any:
    """Run the case the jq program picks (0-based) on the same input; the case's output is
    the switch's output. A non-integer or out-of-range index is an error."""
    index = run_program(node.jq, value, ctx)
    count = len(node.cases)
    if isinstance(index, float) and index.is_integer():
        index = int(index)
    if isinstance(index, bool) or not isinstance(index, int):
        raise EvaluationError(Diagnostic(
            code="switch-index",
            message=f"!switch jq must output a case index (0..{count - 1}), got "
            f"{excerpt(index, 80)}",
            path=node.jq.path, hint="e.g. `if .body.meta.total >= 1 then 1 else 0 end`"))
    if not 0 <= index < count:
        raise EvaluationError(Diagnostic(
            code="switch-index",
            message=f"!switch jq output {index}, but the cases are 0..{count - 1}",
            path=node.jq.path, hint="cases are numbered from 0"))
    ctx.note("case", index)
    return run_command(node.cases[index], value, ctx)


SPEC = CommandSpec("!switch", "run the case whose 0-based index a jq program outputs",
                   compile_switch, run_switch)
