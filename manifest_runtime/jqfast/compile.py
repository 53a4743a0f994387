"""Compile the tree into Python closures over Python values.

Every node becomes `emit(v, env, out)`, appending its outputs to `out` in jq's order (so a
`?` keeps the outputs produced before an error, as jq does); nodes that always produce exactly
one output also get `one(v, env)`, which the common paths (`.a.b`, `{...}`, `+`) use directly.
`env` maps `$name` to its value."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import ast
from . import values as V
from .lexer import Unsupported

Env = dict[str, Any]
One = Callable[[Any, Env], Any]
Emit = Callable[[Any, Env, list[Any]], None]


@dataclass(frozen=True, slots=True)
class Fn:
    emit: Emit
    one: One | None = None  # set when the node always has exactly one output


def single(one: One) -> Fn:
    def emit(v: Any, env: Env, out: list[Any]) -> None:
        out.append(one(v, env))

    return Fn(emit, one)


def many(fn: Fn) -> Callable[[Any, Env], list[Any]]:
    """All outputs of fn on v, as a list."""
    if fn.one is not None:
        one = fn.one
        return lambda v, env: [one(v, env)]
    emit = fn.emit

    def run(v: Any, env: Env) -> list[Any]:
        out: list[Any] = []
        emit(v, env, out)
        return out

    return run


def compile_node(node: ast.Node) -> Fn:
    handler = _HANDLERS.get(type(node))
    if handler is None:
        raise Unsupported(type(node).__name__)
    return handler(node)


# ------------------------------------------------------------------ terms


def _identity(node: ast.Node) -> Fn:
    return single(lambda v, env: v)


def _literal(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Literal)
    value = node.value
    if isinstance(value, (dict, list)):
        raise Unsupported("container literal")
    return single(lambda v, env: value)


def _var(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Var)
    name = node.name
    return single(lambda v, env: env[name])


def _index(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Index)
    target = compile_node(node.target)
    key = compile_node(node.key)
    index = V.index
    if node.opt:
        return _optional_step(target, key, index)
    if isinstance(node.key, ast.Literal) and type(node.key.value) is str:
        name = node.key.value
        if isinstance(node.target, ast.Identity):
            def field(v: Any, env: Env) -> Any:
                if type(v) is dict:
                    return v.get(name)
                if v is None:
                    return None
                raise V.JqError
            return single(field)
        if target.one is not None:
            t_one = target.one

            def path(v: Any, env: Env) -> Any:
                t = t_one(v, env)
                if type(t) is dict:
                    return t.get(name)
                if t is None:
                    return None
                raise V.JqError
            return single(path)
    if target.one is not None and key.one is not None:
        t1, k1 = target.one, key.one
        return single(lambda v, env: index(t1(v, env), k1(v, env)))
    t_all, k_all = many(target), many(key)

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        for t in t_all(v, env):
            for k in k_all(v, env):
                out.append(index(t, k))
    return Fn(emit)


def _optional_step(target: Fn, key: Fn, step: Callable[[Any, Any], Any]) -> Fn:
    """`t[k]?`: t and k evaluated as usual (their errors propagate); an error of the step
    itself gives no output."""
    t_all, k_all = many(target), many(key)

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        for t in t_all(v, env):
            for k in k_all(v, env):
                with contextlib.suppress(V.JqError):
                    out.append(step(t, k))
    return Fn(emit)


def _slice(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Slice)
    target = compile_node(node.target)
    lo = compile_node(node.lo) if node.lo is not None else None
    hi = compile_node(node.hi) if node.hi is not None else None
    if target.one is None or (lo is not None and lo.one is None) or \
            (hi is not None and hi.one is None):
        raise Unsupported("slice with several outputs")
    t1 = target.one
    lo1 = lo.one if lo is not None else None
    hi1 = hi.one if hi is not None else None
    if node.opt:
        bounds = single(lambda v, env: (lo1(v, env) if lo1 else None,
                                        hi1(v, env) if hi1 else None))
        return _optional_step(target, bounds, lambda t, b: V.slice_(t, b[0], b[1]))

    def run(v: Any, env: Env) -> Any:
        return V.slice_(t1(v, env), lo1(v, env) if lo1 else None, hi1(v, env) if hi1 else None)
    return single(run)


def _iterate(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Iterate)
    target = compile_node(node.target)
    iterate = V.iterate
    if node.opt:
        t_all = many(target)

        def emit_opt(v: Any, env: Env, out: list[Any]) -> None:
            for t in t_all(v, env):
                if type(t) is list or type(t) is dict:
                    out.extend(iterate(t))
        return Fn(emit_opt)
    if target.one is not None:
        t1 = target.one

        def emit(v: Any, env: Env, out: list[Any]) -> None:
            out.extend(iterate(t1(v, env)))
        return Fn(emit)
    t_emit = target.emit

    def emit_all(v: Any, env: Env, out: list[Any]) -> None:
        targets: list[Any] = []
        try:
            t_emit(v, env, targets)
        finally:
            for t in targets:
                out.extend(iterate(t))
    return Fn(emit_all)


def _try(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Try)
    if not _streams_exactly(node.body):
        raise Unsupported("`?` around outputs the fast path collects before an error")
    body = compile_node(node.body).emit

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        part: list[Any] = []
        with contextlib.suppress(V.JqError):
            body(v, env, part)
        out.extend(part)
    return Fn(emit)


def _streams_exactly(node: ast.Node) -> bool:
    """Does the node append its outputs in the order jq streams them, each before any later
    error? Then a `?` around it keeps exactly jq's outputs. Nodes with one output always do
    (all or nothing); some combinators do when their parts do."""
    if compile_node(node).one is not None:
        return True
    if isinstance(node, (ast.Pipe, ast.Comma)):
        return _streams_exactly(node.left) and _streams_exactly(node.right)
    if isinstance(node, ast.Iterate):
        return compile_node(node.target).one is not None
    if isinstance(node, (ast.Index, ast.Slice)) and node.opt:
        return compile_node(node.target).one is not None
    if isinstance(node, ast.Try):
        return True
    if isinstance(node, ast.If):
        return compile_node(node.cond).one is not None and _streams_exactly(node.then) \
            and _streams_exactly(node.otherwise)
    if isinstance(node, ast.Bind):
        return compile_node(node.source).one is not None and _streams_exactly(node.body)
    if isinstance(node, ast.Call):
        if node.name in ("select", "error") and node.args:
            return compile_node(node.args[0]).one is not None
        if node.name == "error":
            return True
        return node.name in ("empty", "values", *_TYPE_FILTERS) and not node.args
    return False


def _text(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Text)
    pieces: list[tuple[str, One | None]] = []
    for part in node.parts:
        if isinstance(part, str):
            pieces.append((part, None))
            continue
        fn = compile_node(part)
        if fn.one is None:
            raise Unsupported("interpolation with several outputs")
        pieces.append(("", fn.one))
    tostring = V.tostring
    if len(pieces) == 1 and pieces[0][1] is not None:  # "\(x)": x as text
        whole = pieces[0][1]
        return single(lambda v, env: tostring(whole(v, env)))

    def run(v: Any, env: Env) -> str:
        return "".join([text if f is None else tostring(f(v, env)) for text, f in pieces])
    return single(run)


def _array(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Array)
    if node.body is None:
        return single(lambda v, env: [])
    body = compile_node(node.body)
    if body.one is not None:
        b1 = body.one
        return single(lambda v, env: [b1(v, env)])
    return single(many(body))


def _object(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Object)
    entries: list[tuple[One, Fn]] = []
    for key_node, value_node in node.entries:
        key = compile_node(key_node)
        if key.one is None:
            raise Unsupported("object key with several outputs")
        entries.append((key.one, compile_node(value_node)))
    if all(value.one is not None for _, value in entries):
        pairs = tuple((k, value.one) for k, value in entries)
        constant_keys = all(isinstance(k, ast.Literal) and type(k.value) is str
                            for k, _ in node.entries)
        if constant_keys:
            names = tuple(k.value for k, _ in node.entries  # type: ignore[union-attr]
                          )
            fns = tuple(value.one for _, value in entries)
            items = tuple(zip(names, fns, strict=True))

            def build(v: Any, env: Env) -> dict[str, Any]:
                return {name: f(v, env) for name, f in items}  # type: ignore[misc]
            return single(build)

        def build_keys(v: Any, env: Env) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for k, f in pairs:
                name = k(v, env)
                if type(name) is not str:
                    raise V.JqError
                out[name] = f(v, env)  # type: ignore[misc]
            return out
        return single(build_keys)
    alls = [(k, many(value)) for k, value in entries]

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        partial: list[dict[str, Any]] = [{}]
        for k, f in alls:
            if not partial:
                return  # jq evaluates the later entries once per output of the earlier ones
            name = k(v, env)
            if type(name) is not str:
                raise V.JqError
            outputs = f(v, env)
            partial = [{**p, name: x} for p in partial for x in outputs]
        out.extend(partial)
    return Fn(emit)


def _constant_keys(node: ast.Object) -> bool:
    return all(isinstance(k, ast.Literal) and type(k.value) is str for k, _ in node.entries)


# ------------------------------------------------------------------ combinators


def _pipe(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Pipe)
    left, right = compile_node(node.left), compile_node(node.right)
    if left.one is not None and right.one is not None:
        l1, r1 = left.one, right.one
        return single(lambda v, env: r1(l1(v, env), env))
    r_emit = right.emit
    if left.one is not None:
        l1 = left.one
        return Fn(lambda v, env, out: r_emit(l1(v, env), env, out))
    return Fn(_lazy_left(left.emit, r_emit))


def _lazy_left(l_emit: Emit, r_emit: Emit) -> Emit:
    """`a | b` where a may fail after some outputs: b runs on those first (jq's order)."""
    def emit(v: Any, env: Env, out: list[Any]) -> None:
        mids: list[Any] = []
        try:
            l_emit(v, env, mids)
        except (V.JqError, V.Fallback):
            for m in mids:
                r_emit(m, env, out)
            raise
        for m in mids:
            r_emit(m, env, out)
    return emit


def _comma(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Comma)
    left, right = compile_node(node.left).emit, compile_node(node.right).emit

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        left(v, env, out)
        right(v, env, out)
    return Fn(emit)


def _neg(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Neg)
    body = compile_node(node.body)
    if body.one is None:
        raise Unsupported("negation of several outputs")
    b1 = body.one
    return single(lambda v, env: V.negate(b1(v, env)))


def _compare_op(op: str) -> Callable[[Any, Any], Any]:
    if op == "==":
        return V.equal
    if op == "!=":
        return lambda a, b: not V.equal(a, b)
    if op == "<":
        return lambda a, b: V.compare(a, b) < 0
    if op == "<=":
        return lambda a, b: V.compare(a, b) <= 0
    if op == ">":
        return lambda a, b: V.compare(a, b) > 0
    return lambda a, b: V.compare(a, b) >= 0


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": V.add, "-": V.subtract, "*": V.multiply, "/": V.divide, "%": V.modulo}


def _binop(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Binop)
    if node.op == "+" and isinstance(node.left, ast.Object) and _constant_keys(node.left) \
            and isinstance(node.right, ast.Object) and _constant_keys(node.right):
        merged = _object(ast.Object(node.left.entries + node.right.entries))
        if merged.one is not None:
            # `{a, b} + {c: x}`: one object built with both sides' entries (a key on both
            # sides: the right one's value, in the left one's place, as jq's `+` gives)
            return merged
    op = _ARITH.get(node.op) or _compare_op(node.op)
    left, right = compile_node(node.left), compile_node(node.right)
    if left.one is not None and right.one is not None:
        l1, r1 = left.one, right.one
        if node.op == "+" and isinstance(node.right, ast.Literal) \
                and type(node.right.value) is str:
            suffix = node.right.value

            def concat(v: Any, env: Env) -> Any:
                a = l1(v, env)
                return a + suffix if type(a) is str else V.add(a, suffix)
            return single(concat)
        return single(lambda v, env: op(l1(v, env), r1(v, env)))
    l_all, r_all = many(left), many(right)

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        for b in r_all(v, env):  # jq: the right side is the outer loop
            for a in l_all(v, env):
                out.append(op(a, b))
    return Fn(emit)


def _and(node: ast.Node) -> Fn:
    assert isinstance(node, (ast.And, ast.Or))
    is_and = isinstance(node, ast.And)
    left, right = compile_node(node.left), compile_node(node.right)
    truthy = V.truthy
    if left.one is not None and right.one is not None:
        l1, r1 = left.one, right.one
        if is_and:
            return single(lambda v, env: truthy(l1(v, env)) and truthy(r1(v, env)))
        return single(lambda v, env: truthy(l1(v, env)) or truthy(r1(v, env)))
    l_all, r_all = many(left), many(right)

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        for a in l_all(v, env):
            if truthy(a) != is_and:
                out.append(not is_and)
            else:
                out.extend(truthy(b) for b in r_all(v, env))
    return Fn(emit)


def _alt(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Alt)
    left, right = compile_node(node.left), compile_node(node.right)
    truthy = V.truthy
    if left.one is not None and right.one is not None:
        l1, r1 = left.one, right.one

        def alt(v: Any, env: Env) -> Any:
            a = l1(v, env)
            return a if a is not None and a is not False else r1(v, env)
        return single(alt)
    l_all, r_emit = many(left), right.emit

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        found = [a for a in l_all(v, env) if truthy(a)]
        if found:
            out.extend(found)
        else:
            r_emit(v, env, out)
    return Fn(emit)


def _if(node: ast.Node) -> Fn:
    assert isinstance(node, ast.If)
    cond, then, other = (compile_node(node.cond), compile_node(node.then),
                         compile_node(node.otherwise))
    truthy = V.truthy
    if cond.one is not None and then.one is not None and other.one is not None:
        c1, t1, o1 = cond.one, then.one, other.one
        return single(lambda v, env: t1(v, env) if truthy(c1(v, env)) else o1(v, env))
    c_all, t_emit, o_emit = many(cond), then.emit, other.emit

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        for c in c_all(v, env):
            (t_emit if truthy(c) else o_emit)(v, env, out)
    return Fn(emit)


def _bind(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Bind)
    source, body = compile_node(node.source), compile_node(node.body)
    name = node.name
    if source.one is not None and body.one is not None:
        s1, b1 = source.one, body.one
        return single(lambda v, env: b1(v, {**env, name: s1(v, env)}))
    s_all, b_emit = many(source), body.emit

    def emit(v: Any, env: Env, out: list[Any]) -> None:
        for x in s_all(v, env):
            b_emit(v, {**env, name: x}, out)
    return Fn(emit)


# ------------------------------------------------------------------ calls

_PLAIN: dict[str, Callable[[Any], Any]] = {
    "length": V.length, "keys": V.keys, "keys_unsorted": V.keys_unsorted,
    "tostring": V.tostring, "tojson": V.dump, "tonumber": V.tonumber, "type": V.typename,
    "ascii_downcase": V.ascii_downcase, "ascii_upcase": V.ascii_upcase,
    "not": lambda v: not V.truthy(v), "to_entries": V.to_entries, "add": V.add_all,
    "sort": V.sort, "unique": V.unique, "min": V.minimum, "max": V.maximum,
}
_WITH_ARG: dict[str, Callable[[Any, Any], Any]] = {
    "has": V.has, "split": V.split, "join": V.join, "startswith": V.starts,
    "endswith": V.ends, "ltrimstr": V.ltrimstr, "rtrimstr": V.rtrimstr,
}
_TYPE_FILTERS = {"arrays": "array", "objects": "object", "strings": "string",
                 "numbers": "number", "booleans": "boolean", "nulls": "null"}


def _call(node: ast.Node) -> Fn:
    assert isinstance(node, ast.Call)
    name, args = node.name, node.args
    if not args and name in _PLAIN:
        f = _PLAIN[name]
        return single(lambda v, env: f(v))
    if len(args) == 1 and name in _WITH_ARG:
        g = _WITH_ARG[name]
        arg = compile_node(args[0])
        if arg.one is None:
            raise Unsupported(f"{name} with several outputs")
        a1 = arg.one
        return single(lambda v, env: g(v, a1(v, env)))
    if name == "empty" and not args:
        return Fn(lambda v, env, out: None)
    if name == "error" and len(args) <= 1:
        arg_emit = compile_node(args[0]).emit if args else None

        def fail(v: Any, env: Env, out: list[Any]) -> None:
            if arg_emit is not None:
                msgs: list[Any] = []
                arg_emit(v, env, msgs)
                if not msgs:
                    return
            raise V.JqError
        return Fn(fail)
    if name == "map" and len(args) == 1:
        return _map(compile_node(args[0]))
    if name == "select" and len(args) == 1:
        return _select(compile_node(args[0]))
    if name == "values" and not args:
        return Fn(lambda v, env, out: out.append(v) if v is not None else None)
    if name in _TYPE_FILTERS and not args:
        wanted = _TYPE_FILTERS[name]
        return Fn(lambda v, env, out: out.append(v) if V.typename(v) == wanted else None)
    raise Unsupported(f"{name}/{len(args)}")


def _map(body: Fn) -> Fn:
    iterate = V.iterate
    if body.one is not None:
        b1 = body.one
        return single(lambda v, env: [b1(x, env) for x in iterate(v)])
    b_emit = body.emit

    def run(v: Any, env: Env) -> list[Any]:
        out: list[Any] = []
        for x in iterate(v):
            b_emit(x, env, out)
        return out
    return single(run)


def _select(cond: Fn) -> Fn:
    truthy = V.truthy
    if cond.one is not None:
        c1 = cond.one

        def pick(v: Any, env: Env, out: list[Any]) -> None:
            if truthy(c1(v, env)):
                out.append(v)
        return Fn(pick)
    c_all = many(cond)

    def pick_all(v: Any, env: Env, out: list[Any]) -> None:
        for c in c_all(v, env):
            if truthy(c):
                out.append(v)
    return Fn(pick_all)


_HANDLERS: dict[type, Callable[[Any], Fn]] = {
    ast.Identity: _identity, ast.Literal: _literal, ast.Var: _var, ast.Index: _index,
    ast.Slice: _slice, ast.Iterate: _iterate, ast.Try: _try, ast.Text: _text,
    ast.Array: _array, ast.Object: _object, ast.Pipe: _pipe, ast.Comma: _comma,
    ast.Neg: _neg, ast.Binop: _binop, ast.And: _and, ast.Or: _and, ast.Alt: _alt,
    ast.If: _if, ast.Bind: _bind, ast.Call: _call,
}
