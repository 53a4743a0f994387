"""The syntax tree of the jq subset (frozen: built once per program, never changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Identity:
    pass


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Index:  # .a, .["a"], .[0], .[e]; opt: `.a?` (only this step's error is suppressed)
    target: Node
    key: Node
    opt: bool = False


@dataclass(frozen=True)
class Slice:  # .[a:b]
    target: Node
    lo: Node | None
    hi: Node | None
    opt: bool = False


@dataclass(frozen=True)
class Iterate:  # .[]
    target: Node
    opt: bool = False


@dataclass(frozen=True)
class Try:  # (e)?, f? for a term that is not an access step
    body: Node


@dataclass(frozen=True)
class Text:  # "a\(e)b": str parts and interpolated nodes
    parts: tuple[str | Node, ...]


@dataclass(frozen=True)
class Array:
    body: Node | None


@dataclass(frozen=True)
class Object:
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True)
class Pipe:
    left: Node
    right: Node


@dataclass(frozen=True)
class Comma:
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    body: Node


@dataclass(frozen=True)
class Binop:  # + - * / % == != < <= > >=
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True)
class Alt:  # a // b
    left: Node
    right: Node


@dataclass(frozen=True)
class If:
    cond: Node
    then: Node
    otherwise: Node  # Identity when `else` is left out


@dataclass(frozen=True)
class Bind:  # source as $name | body
    source: Node
    name: str
    body: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = (Identity | Literal | Var | Index | Slice | Iterate | Try | Text | Array | Object | Pipe
        | Comma | Neg | Binop | And | Or | Alt | If | Bind | Call)
