"""What a command is: a name, a compile step (argument -> frozen node) and a run step."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..expressions.nodes import Expansion
from ..model import Arr, Command, Const, Obj, Tmpl

if TYPE_CHECKING:
    from ..compile.compiler import Compiler, Scope
    from ..paths import Path

CompileFn = Callable[[Any, "Path", "Compiler", "Scope"], Any]
RunFn = Callable[[Any, Any, Any], Any]  # (node, input value, evaluation context) -> output


@dataclass(frozen=True)
class CommandSpec:
    """One entry of the command registry (`COMMANDS` in commands/__init__.py)."""

    name: str
    summary: str
    compile: CompileFn
    run: RunFn | None = None


def iter_expansions(node: Any, *, into_pipes: bool = False) -> Iterator[Expansion]:
    """Every expansion inside a compiled node, not descending into nested !pipe steps
    (their piped_content refers to their own steps) unless `into_pipes`."""
    from .pipe import PipeNode

    if isinstance(node, Tmpl):
        yield from node.template.expansions
    elif isinstance(node, Const) or node is None:
        return
    elif isinstance(node, Obj):
        for child in node.items.values():
            yield from iter_expansions(child, into_pipes=into_pipes)
    elif isinstance(node, Arr | tuple | list):
        items = node.items if isinstance(node, Arr) else node
        for child in items:
            yield from iter_expansions(child, into_pipes=into_pipes)
    elif isinstance(node, Command):
        if isinstance(node.node, PipeNode) and not into_pipes:
            return
        yield from iter_expansions(node.node, into_pipes=into_pipes)
    elif isinstance(node, Expansion):
        yield node
    elif dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            yield from iter_expansions(getattr(node, f.name), into_pipes=into_pipes)


def iter_commands(node: Any) -> Iterator[Command]:
    """Every command inside a compiled node, depth first, the node itself included."""
    if isinstance(node, Command):
        yield node
        yield from iter_commands(node.node)
    elif isinstance(node, Obj):
        for child in node.items.values():
            yield from iter_commands(child)
    elif isinstance(node, Arr | tuple | list):
        items = node.items if isinstance(node, Arr) else node
        for child in items:
            yield from iter_commands(child)
    elif dataclasses.is_dataclass(node) and not isinstance(node, type) and \
            not isinstance(node, Const | Tmpl):
        for f in dataclasses.fields(node):
            yield from iter_commands(getattr(node, f.name))
