"""The compiled manifest: frozen nodes built once per load, evaluated many times.

A manifest value compiles to one of:

* `Const`   a subtree with no commands and no expansions (kept as plain data),
* `Tmpl`    a string holding `${...}` expansions (parsed once),
* `Obj`/`Arr` containers with at least one non-constant child,
* `Command` a `{"!name": argument}` object; `node` is the command's own compiled argument.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal

from .errors import Diagnostic
from .expressions.nodes import Template
from .paths import Path
from .source import SourceMap


@dataclass(frozen=True, slots=True)
class Const:
    value: Any
    path: Path


@dataclass(frozen=True, slots=True)
class Tmpl:
    template: Template
    path: Path


@dataclass(frozen=True, slots=True)
class Obj:
    items: dict[str, Node]
    path: Path


@dataclass(frozen=True, slots=True)
class Arr:
    items: tuple[Node, ...]
    path: Path


# a command's run step: (its compiled node, the input value, the evaluation context) -> output
RunFn = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # "!jq", "!pipe", ...
    node: Any  # the command's compiled argument (JqNode, PipeNode, ...); None when invalid
    path: Path  # of the command object; the argument is at path + (name,)
    # the run step of the registry the manifest was compiled with, bound at compile time
    run: RunFn | None = field(default=None, compare=False, repr=False)


Node = Const | Tmpl | Obj | Arr | Command

HttpOutput = Literal["wrapped", "body"]


@dataclass(frozen=True, slots=True)
class HttpDecision:
    """The output shape of one `!http` step and why (compile/passes/http_output.py)."""

    output: HttpOutput = "wrapped"  # {status, headers, body}; "body": the parsed body
    reason: str = "no later step reads fields of the response"


@dataclass(frozen=True)
class CompiledManifest:
    """Everything `validate` found and everything the runtime needs, from one load."""

    file: str
    data: Any
    root: Node
    source: SourceMap
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def node_at(self, path: Path) -> Node | None:
        """The compiled node at a manifest path, descending into commands.

        A command is found by its object path or by its argument path (`.../!name`; both
        give the `Command`). Below the argument path are the compiled values the command
        keeps: pipe steps (`.../!pipe/1`), switch cases (`.../!switch/cases/0`), `!http`
        `body`/`params`/..., and anything nested in them. Parts of an argument that compile
        to no node (a `!jq` program, a `!switch` jq, `.../!switch/cases` itself) give None.
        """
        node: Node | None = self.root
        depth = 0
        while node is not None and depth < len(path):
            if isinstance(node, Command):
                if path[depth] != node.name:
                    return None
                child = _argument_child(node, path)
                if child is None:
                    return node if depth + 1 == len(path) else None
                node, depth = child, len(child.path)
            else:
                node, depth = _child(node, path[depth]), depth + 1
        return node


def _child(node: Node | None, part: str | int) -> Node | None:
    if isinstance(node, Obj):
        return node.items.get(str(part))
    if isinstance(node, Arr):
        return node.items[part] if isinstance(part, int) and 0 <= part < len(node.items) else None
    if isinstance(node, Const):
        value = node.value
        if isinstance(value, dict) and str(part) in value:
            return Const(value[str(part)], (*node.path, part))
        if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            return Const(value[part], (*node.path, part))
    return None


def _argument_child(command: Command, path: Path) -> Node | None:
    """The deepest node kept in `command`'s compiled argument whose path lies strictly
    below the argument path and is a prefix of `path` (None when there is none)."""
    floor = len(command.path) + 1  # the argument path's length
    best: Node | None = None
    for node in _argument_nodes(command.node):
        size = len(node.path)
        if floor < size <= len(path) and node.path == path[:size] and (
            best is None or size > len(best.path)
        ):
            best = node
    return best


def _argument_nodes(value: Any) -> Iterator[Node]:
    """The compiled nodes a command's argument holds (its fields, tuples of steps or cases,
    nested argument dataclasses such as a switch's jq), not looking inside the nodes."""
    if isinstance(value, Const | Tmpl | Obj | Arr | Command):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _argument_nodes(item)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _argument_nodes(getattr(value, f.name))


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
    elif is_dataclass(node) and not isinstance(node, type) and \
            not isinstance(node, Const | Tmpl):
        for f in fields(node):
            yield from iter_commands(getattr(node, f.name))
