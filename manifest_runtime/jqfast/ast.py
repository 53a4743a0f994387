"""The syntax tree of the jq subset (frozen: built once per program, never changed)."""

from __future__ import annotations

from typing import Any

from ..frozen import Frozen


class Identity(Frozen):
    pass


class Literal(Frozen):
    value: Any


class Var(Frozen):
    name: str


class Index(Frozen):  # .a, .["a"], .[0], .[e]; opt: `.a?` (only this step's error is suppressed)
    target: Node
    key: Node
    opt: bool = False


class Slice(Frozen):  # .[a:b]
    target: Node
    lo: Node | None
    hi: Node | None
    opt: bool = False


class Iterate(Frozen):  # .[]
    target: Node
    opt: bool = False


class Try(Frozen):  # (e)?, f? for a term that is not an access step
    body: Node


class Text(Frozen):  # "a\(e)b": str parts and interpolated nodes
    parts: tuple[str | Node, ...]


class Array(Frozen):
    body: Node | None


class Object(Frozen):
    entries: tuple[tuple[Node, Node], ...]


class Pipe(Frozen):
    left: Node
    right: Node


class Comma(Frozen):
    left: Node
    right: Node


class Neg(Frozen):
    body: Node


class Binop(Frozen):  # + - * / % == != < <= > >=
    op: str
    left: Node
    right: Node


class And(Frozen):
    left: Node
    right: Node


class Or(Frozen):
    left: Node
    right: Node


class Alt(Frozen):  # a // b
    left: Node
    right: Node


class If(Frozen):
    cond: Node
    then: Node
    otherwise: Node  # Identity when `else` is left out


class Bind(Frozen):  # source as $name | body
    source: Node
    name: str
    body: Node


class Call(Frozen):
    name: str
    args: tuple[Node, ...]


Node = (Identity | Literal | Var | Index | Slice | Iterate | Try | Text | Array | Object | Pipe
        | Comma | Neg | Binop | And | Or | Alt | If | Bind | Call)
