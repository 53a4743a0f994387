"""A program specialized to the values of the runtime's variables.

A `!jq` with `${...}` expansions runs as `.[1] as $__mr0 | ... | .[0] | (program)` on
`[input, value0, ...]` (jqtext.rewrite). Within a run those values rarely change (custom_data,
the webhook's url), so the runtime asks once for the program with them in place:

* each `$__mrN` bound that way whose value is plain (text, boolean, null, an integer jq holds
  exactly) becomes that literal (its binding is dropped: `.[N+1]` of the array always has
  one output);
* every part that then reads neither the input nor another variable is evaluated once, here
  (constant folding), when it has exactly one plain output; an error or anything else is
  left to run per record as before;
* an `if` whose condition became a literal is its branch.

The result is an ordinary tree of the subset, compiled as usual and run on the same array,
with libjq behind it on the same array: the outputs, or the error, are what the unspecialized
program gives. Nothing here is kept between calls."""

from __future__ import annotations

from typing import Any

from ..frozen import fields_of, replaced
from . import ast
from . import values as V

PREFIX = "__mr"  # jqtext's variable names, without jq's `$`


def plain(value: Any) -> bool:
    """A value a literal holds exactly as the variable would."""
    t = type(value)
    return t is str or value is None or t is bool or (t is int and -V.SAFE <= value <= V.SAFE)


def specialize(tree: ast.Node, values: list[Any]) -> ast.Node | None:
    """The tree with the plain ones of `values` (the array's items after the input) in place
    and folded; None when there is nothing to put in place."""
    known: dict[str, Any] = {}
    kept: list[ast.Bind] = []
    node = tree
    while isinstance(node, ast.Bind) and node.name.startswith(PREFIX):
        index = _data_index(node.source)
        if index is None or not 1 <= index <= len(values):
            break
        value = values[index - 1]
        if plain(value) and node.name not in known:
            known[node.name] = value
        else:
            kept.append(node)
        node = node.body
    if not known:
        return None
    body = fold(node, known)
    for bind in reversed(kept):
        body = ast.Bind(bind.source, bind.name, body)
    return body


def _data_index(node: ast.Node) -> int | None:
    """N for `.[N]` (an integer literal index of the input, not optional)."""
    if isinstance(node, ast.Index) and isinstance(node.target, ast.Identity) \
            and not node.opt and isinstance(node.key, ast.Literal) \
            and type(node.key.value) is int:
        return node.key.value
    return None


def fold(node: ast.Node, known: dict[str, Any]) -> ast.Node:
    """`node` with the known variables in place and its constant parts folded."""
    if isinstance(node, ast.Var):
        return ast.Literal(known[node.name]) if node.name in known else node
    if isinstance(node, ast.Bind):
        inner = {k: v for k, v in known.items() if k != node.name}  # shadowed below
        node = ast.Bind(fold(node.source, known), node.name, fold(node.body, inner))
    else:
        node = _rebuild(node, known)
    if isinstance(node, ast.If) and isinstance(node.cond, ast.Literal):
        return node.then if V.truthy(node.cond.value) else node.otherwise
    if not isinstance(node, ast.Literal) and closed(node, False):
        return _constant(node)
    return node


def _rebuild(node: ast.Node, known: dict[str, Any]) -> ast.Node:
    changes: dict[str, Any] = {}
    for name in fields_of(node):
        value = getattr(node, name)
        new = _fold_part(value, known)
        if new is not value:
            changes[name] = new
    if not changes:
        return node
    return replaced(node, **changes)


def _fold_part(value: Any, known: dict[str, Any]) -> Any:
    if isinstance(value, tuple):
        parts = tuple(_fold_part(v, known) for v in value)
        return value if all(a is b for a, b in zip(parts, value, strict=True)) else parts
    if isinstance(value, str | int | float | bool) or value is None:
        return value  # a field that is not a node (op, name, opt, a text part)
    return fold(value, known)


def closed(node: ast.Node, input_known: bool) -> bool:
    """Does the node's output depend on nothing given at run time? (`input_known`: its input
    is itself a constant, e.g. the right side of a pipe whose left side is.)"""
    if isinstance(node, ast.Literal):
        return True
    if isinstance(node, ast.Identity):
        return input_known
    if isinstance(node, ast.Var | ast.Bind):
        return False  # a variable of the record, or bound from it
    if isinstance(node, ast.Pipe):
        return closed(node.left, input_known) and closed(node.right, True)
    if isinstance(node, ast.Call):  # a function reads its input
        return input_known and all(closed(a, True) for a in node.args)
    return all(closed(part, input_known) for part in _children(node))


def _children(node: ast.Node) -> list[ast.Node]:
    out: list[ast.Node] = []
    for name in fields_of(node):
        _collect(getattr(node, name), out)
    return out


def _collect(value: Any, out: list[ast.Node]) -> None:
    if isinstance(value, tuple):
        for v in value:
            _collect(v, out)
    elif not (isinstance(value, str | int | float | bool) or value is None):
        out.append(value)


def _constant(node: ast.Node) -> ast.Node:
    """A literal of the node's one plain output; the node itself otherwise (several outputs,
    none, a container, an error: left to run per record)."""
    from .compile import compile_node
    from .lexer import Unsupported

    out: list[Any] = []
    try:
        compile_node(node).emit(None, {}, out)
    except (V.JqError, V.Fallback, Unsupported, RecursionError):
        return node
    if len(out) == 1 and plain(out[0]):
        return ast.Literal(out[0])
    return node
