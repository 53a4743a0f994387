"""The syntax tree of the jq subset (frozen: built once per program, never changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Identity:
    pass


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class Var:
    name: str


@dataclass(frozen=True, slots=True)
class Index:  # .a, .["a"], .[0], .[e]
    target: Node
    key: Node


@dataclass(frozen=True, slots=True)
class Slice:  # .[a:b]
    target: Node
    lo: Node | None
    hi: Node | None


@dataclass(frozen=True, slots=True)
class Iterate:  # .[]
    target: Node


@dataclass(frozen=True, slots=True)
class Try:  # e?
    body: Node


@dataclass(frozen=True, slots=True)
class Text:  # "a\(e)b": str parts and interpolated nodes
    parts: tuple[str | Node, ...]


@dataclass(frozen=True, slots=True)
class Array:
    body: Node | None


@dataclass(frozen=True, slots=True)
class Object:
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Pipe:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Comma:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Neg:
    body: Node


@dataclass(frozen=True, slots=True)
class Binop:  # + - * / % == != < <= > >=
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Alt:  # a // b
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class If:
    cond: Node
    then: Node
    otherwise: Node  # Identity when `else` is left out


@dataclass(frozen=True, slots=True)
class Bind:  # source as $name | body
    source: Node
    name: str
    body: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = (Identity | Literal | Var | Index | Slice | Iterate | Try | Text | Array | Object | Pipe
        | Comma | Neg | Binop | And | Or | Alt | If | Bind | Call)
