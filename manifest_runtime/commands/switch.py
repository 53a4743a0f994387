"""`!switch`: a jq program picks a 0-based case; only that case runs, on the same input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model import Command
from .base import CommandSpec
from .jq import JqNode, compile_program

if TYPE_CHECKING:
    from ..compiler import Compiler, Scope
    from ..paths import Path


@dataclass(frozen=True, slots=True)
class SwitchNode:
    jq: JqNode
    cases: tuple[Command, ...]


def compile_switch(raw: Any, path: Path, c: Compiler, scope: Scope) -> SwitchNode | None:
    args = c.object_arg(raw, path, "!switch", {"jq": True, "cases": True})
    if args is None:
        return None
    program = compile_program(args["jq"], (*path, "jq"), c, scope, "!switch jq") \
        if "jq" in args else None
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


SPEC = CommandSpec("!switch", "run the case whose 0-based index a jq program outputs",
                   compile_switch)
