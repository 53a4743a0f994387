"""What a command is: a name, a compile step (argument -> frozen node) and a run step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..model import RunFn

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path

CompileFn = Callable[[Any, "Path", "Compiler", "Scope"], Any]


@dataclass(frozen=True)
class CommandSpec:
    """One entry of a command registry (`COMMANDS` in commands/__init__.py is the default one).
    The compiler binds `run` into each compiled `Command`, so evaluation needs no registry."""

    name: str
    summary: str
    compile: CompileFn
    run: RunFn | None = None


__all__ = ["CommandSpec", "CompileFn", "RunFn"]
