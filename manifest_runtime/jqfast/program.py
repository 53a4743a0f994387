"""A compiled jq program that runs on the fast path and falls back to libjq exactly.

`FastProgram` has the binding's interface (`input_value(v).all()` / `.first()`), so the
runtime swaps it in for a libjq program without other changes. A record runs on the closures;
when they meet a jq error or a value they do not model exactly (values.JqError, Fallback), the
same record runs on libjq instead, so the outputs, or the error and its message, are libjq's.
jq programs have no side effects, so running one twice is only slower, never different."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import values as V
from .compile import Fn, compile_node
from .lexer import Unsupported
from .parser import parse


class FastProgram:
    __slots__ = ("_emit", "_one", "libjq", "program_string", "stats")

    def __init__(self, text: str, fn: Fn, libjq: Any) -> None:
        self.program_string = text
        self._emit = fn.emit
        self._one = fn.one
        self.libjq = libjq
        self.stats = [0, 0]  # [records on the fast path, records rerun on libjq]

    def outputs(self, value: Any) -> list[Any]:
        """The fast path alone: outputs in binding form, or JqError / Fallback."""
        canon = V.canon
        if self._one is not None:
            return [canon(self._one(value, {}))]
        out: list[Any] = []
        self._emit(value, {}, out)
        return [canon(x) for x in out]

    def all(self, value: Any) -> list[Any]:
        try:  # `outputs`, inlined: once per record
            one = self._one
            if one is not None:
                result = [V.canon(one(value, {}))]
            else:
                out: list[Any] = []
                self._emit(value, {}, out)
                canon = V.canon
                result = [canon(x) for x in out]
        except Exception:
            # JqError, Fallback, RecursionError; and were the closures ever to fail otherwise,
            # libjq still decides. Rerun below, outside this handler (its error stands alone).
            pass
        else:
            self.stats[0] += 1
            return result
        self.stats[1] += 1
        return list(self.libjq.input_value(value).all())

    def specialize(self, values: list[Any]) -> FastProgram | None:
        """This program for inputs `[x, *values]` (a `!jq` with expansions, whose values
        stay the same from record to record): the plain values in place and what they decide
        folded (fold.py); run on the same array, with libjq behind it as here. None when
        nothing changes. Its records count in this program's `stats`."""
        from .fold import specialize

        try:
            tree = specialize(parse(self.program_string), values)
            fn = None if tree is None else compile_node(tree)
        except (Unsupported, RecursionError):
            return None
        if fn is None:
            return None
        program = FastProgram(self.program_string, fn, self.libjq)
        program.stats = self.stats
        return program

    def input_value(self, value: Any) -> _Bound:
        return _Bound(self, value)


class _Bound:
    """`program.input_value(v)`: `.all()` on the fast path, `.first()` on libjq (it stops at
    the first output, before errors that later outputs would raise)."""

    __slots__ = ("_program", "_value")

    def __init__(self, program: FastProgram, value: Any) -> None:
        self._program = program
        self._value = value

    def all(self) -> list[Any]:
        return self._program.all(self._value)

    def first(self) -> Any:
        return self._program.libjq.input_value(self._value).first()


def compile_fast(text: str, libjq: Any) -> FastProgram | None:
    """The program on the fast path, or None when it uses anything outside the subset."""
    fn = compile_closures(text)
    return None if fn is None else FastProgram(text, fn, libjq)


def compile_closures(text: str) -> Fn | None:
    try:
        return compile_node(parse(text))
    except (Unsupported, RecursionError):
        return None


Runner = Callable[[Any], list[Any]]
