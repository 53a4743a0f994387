"""`!jq`: run a jq program on the input. Compiled once per manifest load (expansions become
jq variables, see jqtext.py), so a syntax error is found by `validate`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..errors import Span
from ..expressions.nodes import Expansion
from ..jqtext import rewrite, root_fields
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compiler import Compiler, Scope
    from ..paths import Path


@dataclass(frozen=True, slots=True)
class JqNode:
    source: str  # the program as written in the manifest
    program: Any = field(compare=False)  # the compiled jq program
    variables: tuple[Expansion, ...]  # bound in order as $__mr0, $__mr1, ... (input is .[0])
    path: Path
    reads: frozenset[str]  # root fields the program reads (chooses !http output shape)


@lru_cache(maxsize=4096)
def compile_jq_text(program: str) -> Any:
    """Compile a jq program (cached by text: identical programs compile once)."""
    import jq

    return jq.compile(program)


_JQ_POS = re.compile(r"line (\d+), column (\d+)")


def compile_program(raw: Any, path: Path, c: Compiler, scope: Scope, what: str = "!jq"
                    ) -> JqNode | None:
    """Compile a jq program string (with expansions) at `path`; report problems."""
    if not isinstance(raw, str):
        from ..compiler import describe

        c.report("invalid-argument", f"{what} takes a jq program (a string), got {describe(raw)}",
                 path, hint='e.g. {"!jq": ".body | {id: .id}"}')
        return None
    if not raw.strip():
        c.report("invalid-argument", f"{what} has an empty jq program", path,
                 hint="use '.' to pass the input through")
        return None
    template = c.template(raw, path, scope)
    if template is None:
        return None
    if template.expansions:
        rewritten = rewrite(template)
        text, variables = rewritten.program, rewritten.variables
        to_original = rewritten.original_offset
    else:
        text, variables = "".join(p for p in template.parts if isinstance(p, str)), ()

        def to_original(offset: int) -> int | None:
            return offset

    try:
        program = compile_jq_text(text)
    except ValueError as exc:
        message, span = _jq_error(str(exc), text, to_original, len(raw))
        c.report("jq-syntax", f"jq: {message}", path, span=span, text=raw,
                 hint="check the program at jqplay.org; jq strings use double quotes")
        return None
    plain = "".join(p if isinstance(p, str) else "$__v" for p in template.parts)
    return JqNode(raw, program, variables, path, root_fields(plain))


def _jq_error(message: str, program: str, to_original: Any, length: int
              ) -> tuple[str, Span | None]:
    first = message.split("\n", 1)[0].removeprefix("jq: error: ")
    first = re.sub(r" at <top-level>.*$", "", first)
    m = _JQ_POS.search(message)
    if not m:
        return first, Span(0, length)
    line, column = int(m.group(1)), int(m.group(2))
    lines = program.split("\n")
    offset = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
    original = to_original(offset)
    if original is None:
        return first, Span(0, length)
    original = min(original, max(length - 1, 0))
    return first, Span(original, original + 1)


def compile_jq(raw: Any, path: Path, c: Compiler, scope: Scope) -> JqNode | None:
    return compile_program(raw, path, c, scope)


SPEC = CommandSpec("!jq", "run a jq program on the input", compile_jq)
