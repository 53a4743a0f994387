"""The compiled manifest: frozen nodes built once per load, evaluated many times.

A manifest value compiles to one of:

* `Const`   a subtree with no commands and no expansions (kept as plain data),
* `Tmpl`    a string holding `${...}` expansions (parsed once),
* `Obj`/`Arr` containers with at least one non-constant child,
* `Command` a `{"!name": argument}` object; `node` is the command's own compiled argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # "!jq", "!pipe", ...
    node: Any  # the command's compiled argument (JqNode, PipeNode, ...); None when invalid
    path: Path  # of the command object; the argument is at path + (name,)


Node = Const | Tmpl | Obj | Arr | Command

HttpOutput = Literal["wrapped", "body"]


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
        """The compiled node at a manifest path (a command's argument is under its name)."""
        node: Node | None = self.root
        for part in path:
            node = _child(node, part)
            if node is None:
                return None
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
