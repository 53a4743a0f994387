"""`!jq`: run a jq program on the input. Compiled once per manifest load (expansions become
jq variables, see jqtext.py), so a syntax error is found by `validate`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .. import jqfast
from ..errors import Diagnostic, EvaluationError, Span
from ..expressions.evaluate import evaluate_expansion
from ..expressions.nodes import Expansion, Missing, Template
from ..jqtext import _StringTracker, rewrite, root_fields
from ..jqverdicts import COMPILES, VERDICTS, verdict_of
from .base import CommandSpec

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path
    from ..runtime.context import EvalContext


# roots whose value is the same object for every record of a run and never changed in place
# (`data` is: `!save` updates it; `piped_content` and `polling_state` change as they go)
STABLE_ROOTS = frozenset({"custom_data", "webhook", "subdomain", "resource"})


@dataclass(frozen=True, slots=True)
class JqNode:
    source: str  # the program as written in the manifest
    text: str  # the program jq compiles (expansions bound as variables)
    variables: tuple[Expansion, ...]  # bound in order as $__mr0, $__mr1, ... (input is .[0])
    path: Path
    reads: frozenset[str]  # root fields the program reads (chooses !http output shape)
    # the compiled program, made on first use: `validate` only needs libjq's verdict, which
    # jqverdicts.py may already know
    _compiled: list[Any] = field(default_factory=list, compare=False, repr=False)
    # the variables' values last bound, and the root objects they were read from (see
    # `bound_variables`); one entry, replaced whole
    _bound: list[Any] = field(default_factory=lambda: [None], compare=False, repr=False)
    # the distinct roots the expansions read when all of them are STABLE_ROOTS, else None
    stable_roots: tuple[str, ...] | None = field(default=None, init=False, compare=False,
                                                 repr=False)

    def __post_init__(self) -> None:
        roots = tuple(dict.fromkeys(exp.root for exp in self.variables))
        object.__setattr__(self, "stable_roots", roots if all(
            r in STABLE_ROOTS for r in roots) else None)

    @property
    def program(self) -> Any:
        """The compiled jq program (compiled on first use, once per distinct text)."""
        compiled = self._compiled
        if not compiled:
            compiled.append(compile_jq_text(self.text))
        return compiled[0]

    @property
    def run_all(self) -> Any:
        """`program.input_value(v).all()` as one call (the fast path's own `all`)."""
        compiled = self._compiled
        if len(compiled) < 2:
            program = self.program
            compiled.append(program.all if jqfast.is_fast(program)
                            else lambda value: program.input_value(value).all())
        return compiled[1]


def compile_jq_text(program: str) -> Any:
    """Compile a jq program (cached by text: identical programs compile once) on the engine
    chosen (`--jq-engine`, default the fast path with libjq behind it; see jqfast/)."""
    return _compile_cached(program, jqfast.engine())


@lru_cache(maxsize=4096)
def _compile_cached(program: str, engine: str) -> Any:
    return jqfast.compile_program(program, engine)


def forget_compiled() -> None:
    """Forget every compiled program and known verdict of this process (tests, benchmarks)."""
    _compile_cached.cache_clear()
    VERDICTS.forget()


_JQ_POS = re.compile(r"line (\d+), column (\d+)")
# `page_count`, `meta.total`: in jq a bare name is a function call; where Scope.bare_paths is set
# (pagination parsers, written both ways in the published docs) it means the field path.
BARE_PATH = re.compile(r"^\s*[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\s*$")


def compile_program(raw: Any, path: Path, c: Compiler, scope: Scope, what: str = "!jq"
                    ) -> JqNode | None:
    """Compile a jq program string (with expansions) at `path`; report problems."""
    if not isinstance(raw, str):
        from ..errors import describe

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
        if scope.bare_paths and BARE_PATH.match(text):
            text = "." + text.strip()

        def to_original(offset: int) -> int | None:
            return offset

    verdict = verdict_of(text)
    if verdict != COMPILES:
        message, span = _jq_error(verdict, text, to_original, len(raw), template)
        c.report("jq-syntax", f"jq: {message}", path, span=span, text=raw,
                 hint="check the program at jqplay.org; jq strings use double quotes")
        return None
    plain = "".join(p if isinstance(p, str) else "$__v" for p in template.parts)
    return JqNode(raw, text, variables, path, root_fields(plain))


def _jq_error(message: str, program: str, to_original: Any, length: int,
              template: Template | None = None) -> tuple[str, Span | None]:
    """jq's first error line and where it points in the program as written.

    With expansions, `program` is the rewritten form (variables bound around the user's text),
    where jq's position may fall in our wrapper (an unclosed `foo(` reads as `foo()` against
    the closing paren). So the user's own text is compiled once more, each expansion replaced
    by a stand-in of the same length, and that error is reported when there is one."""
    if template is not None and template.expansions:
        own = _error_in_own_text(template, length)
        if own is not None:
            return own
    first, span = _locate_jq_error(message, program, to_original, length)
    if template is not None and template.expansions:
        count = len({exp.text for exp in template.expansions})
        first += (f" (with its {count} distinct expansion{'s' if count != 1 else ''} bound "
                  "as jq variables; with plain values in their place the program compiles)")
    return first, span


def _locate_jq_error(message: str, program: str, to_original: Any, length: int
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


_STAND_IN = "$__v"  # an expansion outside a jq string literal (a value)
_STAND_IN_BINDING = f"null as {_STAND_IN} |\n"  # a line of its own: the user's columns stay


def _error_in_own_text(template: Template, length: int) -> tuple[str, Span | None] | None:
    """jq's error for the program as written, expansions replaced by same-length stand-ins
    (`$__v` padded outside string literals, `x...` inside them); None when that compiles."""
    import jq

    tracker = _StringTracker()
    pieces = [_STAND_IN_BINDING]
    segments: list[tuple[int, int, int]] = []  # (offset here, offset in the original, length)
    here, there = len(_STAND_IN_BINDING), 0
    for part in template.parts:
        if isinstance(part, str):
            found = template.source.find(part, there)
            start = found if found >= 0 else there
            segments.append((here, start, len(part)))
            tracker.feed(part)
            piece, there = part, start + len(part)
        else:
            size = part.span.end - part.span.start
            piece = "x" * size if tracker.in_string else _STAND_IN.ljust(size)
            segments.append((here, part.span.start, len(piece)))
            there = part.span.end
        pieces.append(piece)
        here += len(piece)
    program = "".join(pieces)

    def to_original(offset: int) -> int | None:
        for at, start, size in segments:
            if at <= offset <= at + size:
                return start + min(offset - at, size)
        return None

    try:
        jq.compile(program)  # the error path only: never cached, never kept
    except ValueError as exc:
        return _locate_jq_error(str(exc), program, to_original, length)
    return None


def compile_jq(raw: Any, path: Path, c: Compiler, scope: Scope) -> JqNode | None:
    return compile_program(raw, path, c, scope)


# ---------------------------------------------------------------------- run


def bound_variables(node: JqNode, roots: Mapping[str, Any]) -> tuple[list[Any], Any]:
    """The values of the program's expansions, in order, and what runs the program on
    `[input, *values]`. When every expansion reads a stable root, the values are kept with
    the root objects they came from, and read again only when one of those objects is not the
    same (expansions are pure: same objects, same values; the kept references keep the
    objects alive, so `is` cannot be fooled by a reused id). From the second record with the
    same values on, the program runs specialized to them (jqfast/fold.py)."""
    names = node.stable_roots
    if names is None:
        return [evaluate_expansion(exp, roots, node.path, node.source)
                for exp in node.variables], node.run_all
    kept = node._bound[0]
    if kept is not None:
        for name, obj in zip(names, kept[0], strict=False):
            if roots.get(name, Missing) is not obj:
                break
        else:
            if kept[3]:
                return kept[1], kept[2]
            kept[3] = True  # the values repeat: run the program specialized to them
            kept[2] = _specialized(node, kept[1])
            return kept[1], kept[2]
    objects = tuple(roots.get(name, Missing) for name in names)
    values = [evaluate_expansion(exp, roots, node.path, node.source) for exp in node.variables]
    node._bound[0] = [objects, values, node.run_all, False]
    return values, node.run_all


def _specialized(node: JqNode, values: list[Any]) -> Any:
    """The program specialized to `values` (its `all`), or the program itself when it is
    libjq's, nothing changes, or specializing failed (never a record's failure)."""
    program = node.program
    if jqfast.is_fast(program):
        try:
            special = program.specialize(values)
        except Exception:  # a bug of the specializer: the program as it is still runs
            special = None
        if special is not None:
            return special.all
    return node.run_all


def run_program(node: JqNode, value: Any, ctx: EvalContext) -> Any:
    """Run a compiled program: one output is the value, none is null, several are a list."""
    if node.variables:
        values, run = bound_variables(node, ctx.roots())
        data = [value, *values]
        if ctx.env.trace is not None:
            ctx.note("variables", {exp.text: v for exp, v in zip(node.variables, values,
                                                                  strict=True)})
    else:
        data, run = value, node.run_all
    try:
        outputs = run(data)
    except ValueError as exc:
        raise _runtime_error(node, value, exc) from None
    count = len(outputs)
    if count == 1:
        return outputs[0]
    return None if count == 0 else outputs


def _runtime_error(node: JqNode, value: Any, exc: Exception) -> EvaluationError:
    from ..runtime.errors import excerpt

    message = str(exc).split("\n", 1)[0].removeprefix("jq: error: ")
    program = node.source if len(node.source) <= 120 else node.source[:117] + "..."
    return EvaluationError(Diagnostic(
        code="jq-runtime",
        message=f"jq: {message} (program: {program}; input: {excerpt(value, 160)})",
        path=node.path,
        hint="try the program and input at jqplay.org; `?` or `// default` guard optional "
        "values",
    ))


def run_jq(node: JqNode, value: Any, ctx: EvalContext) -> Any:
    return run_program(node, value, ctx)


SPEC = CommandSpec("!jq", "run a jq program on the input", compile_jq, run_jq)
