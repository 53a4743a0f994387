"""Pointers by name: `/workflows/acme-leads/setup/select/form_fields/group/options` is
`/workflows/0/setup/select/form_fields/0/options` of a manifest whose first workflow is named
`acme-leads` and whose first form field has the id `group`.

A segment that is not an index, met at an array, names the element whose `name` (workflows,
data_intake) or, failing that, `id` (form_fields, map options) equals it. Everything else is
plain RFC 6901. `evaluable` lists every command of a compiled manifest by both pointers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .paths import Path, to_pointer

if TYPE_CHECKING:
    from .model import CompiledManifest

KEYS = ("name", "id")  # what names an element of an array, in this order


def resolve(data: Any, path: Path) -> Path:
    """`path` with each name at an array replaced by the index of the element it names.
    A segment that names nothing is kept as it is (the caller reports `no-such-node` with
    the nearest pointers); so is everything below it."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(path):
        if isinstance(node, list) and isinstance(part, str):
            index = _named(node, part)
            if index is None:
                return (*out, *path[i:])
            part = index
        out.append(part)
        node = _step(node, part)
    return tuple(out)


def _named(items: list[Any], name: str) -> int | None:
    for key in KEYS:
        for index, item in enumerate(items):
            if isinstance(item, dict) and str(item.get(key)) == name and key in item:
                return index
    return None


def _step(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(str(part))
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def named(data: Any, path: Path) -> Path:
    """The reverse: each index into an array of named elements replaced by that name (when
    the name is unique there and not itself a number)."""
    out: list[str | int] = []
    node = data
    for part in path:
        shown: str | int = part
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            item = node[part]
            for key in KEYS:
                value = item.get(key) if isinstance(item, dict) else None
                if isinstance(value, str) and value and not value.isdigit() \
                        and "/" not in value and _named(node, value) == part:
                    shown = value
                    break
        out.append(shown)
        node = _step(node, part)
    return tuple(out)


@dataclass(frozen=True)
class Evaluable:
    """One command `eval` can run: its pointer, the same by names, its command, and how many
    commands hold it (0: an outer command such as a whole `options` pipe)."""

    pointer: str
    by_name: str
    command: str
    depth: int

    def as_json(self) -> dict[str, Any]:
        return {"pointer": self.pointer, "by_name": self.by_name, "command": self.command,
                "depth": self.depth}


def evaluable(compiled: CompiledManifest) -> list[Evaluable]:
    """Every command of the manifest, in document order, inner steps after their command."""
    from .model import Arr, Command, Obj, iter_commands

    out: list[Evaluable] = []

    def visit(node: Any) -> None:
        if isinstance(node, Command):
            outer = len(node.path)
            for cmd in iter_commands(node):
                depth = sum(1 for part in cmd.path[outer:] if str(part).startswith("!"))
                out.append(Evaluable(to_pointer(cmd.path),
                                     to_pointer(named(compiled.data, cmd.path)),
                                     cmd.name, depth))
        elif isinstance(node, Obj):
            for child in node.items.values():
                visit(child)
        elif isinstance(node, Arr):
            for child in node.items:
                visit(child)

    visit(compiled.root)
    return out
