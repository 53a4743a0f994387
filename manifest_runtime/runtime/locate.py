"""The pointers a compiled manifest has, and the "nothing here" error naming the nearest ones.

`CompiledManifest.node_at` finds the node a pointer names (descending into commands)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, EvaluationError
from ..model import Arr, Command, Obj, iter_commands
from ..paths import Path, to_pointer

if TYPE_CHECKING:
    from ..model import CompiledManifest


def known_pointers(compiled: CompiledManifest) -> list[str]:
    out: list[str] = []
    _walk(compiled.root, out)
    return out


def _walk(node: Any, out: list[str]) -> None:
    if isinstance(node, Command):
        out.append(to_pointer(node.path))
        for inner in iter_commands(node.node):
            out.append(to_pointer(inner.path))
    elif isinstance(node, Obj):
        out.append(to_pointer(node.path))
        for child in node.items.values():
            _walk(child, out)
    elif isinstance(node, Arr):
        out.append(to_pointer(node.path))
        for child in node.items:
            _walk(child, out)


def nearest_pointers(compiled: CompiledManifest, path: Path, n: int = 5) -> list[str]:
    """Existing pointers closest to `path`: the deepest existing ancestor's children first."""
    pointers = list(dict.fromkeys(known_pointers(compiled)))
    wanted = to_pointer(path)
    depth = 0
    for i in range(len(path), 0, -1):
        prefix = to_pointer(path[:i])
        if prefix in pointers:
            depth = i
            break
    prefix = to_pointer(path[:depth])
    under = [p for p in pointers if p.startswith(prefix + "/") and p.count("/") <= depth + 2]
    import difflib  # on an error only (start-up)

    close = difflib.get_close_matches(wanted, pointers, n=n, cutoff=0.5)
    return list(dict.fromkeys(close + under))[:n]


ROOT_SHOWN = "'' (the whole manifest)"  # RFC 6901: "/" is the key "", not the root


def not_found(compiled: CompiledManifest, path: Path) -> EvaluationError:
    near = nearest_pointers(compiled, path)
    return EvaluationError(Diagnostic(
        code="no-such-node",
        message=f"nothing to evaluate at {to_pointer(path) or ROOT_SHOWN}",
        file=compiled.file,
        hint=("nearest: " + ", ".join(near)) if near else "the manifest has no commands",
    ))
