"""Mutations of a valid manifest, for the no-traceback property test (tests/test_mutation.py).

A manifest is composed into YAML nodes (`yaml.compose`: tags such as `!jq` and `!http` are
kept), one node is changed, and the tree is written back as YAML text (`yaml.serialize`), or
the text is cut short. The kinds, each at a position chosen by a seeded `random.Random`:

    delete        a key and its value removed from a mapping
    duplicate     a key written twice in its mapping
    retype-key    a key replaced by a number, null, a boolean, a list or a mapping
    retype-value  a value (at any depth, now and then the whole document) replaced by a
                  scalar of another type, an empty or one-item list or mapping, or a command
                  tag on the wrong kind of node
    truncate      the text cut at a random character
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

STR, INT, FLOAT, BOOL, NULL = (f"tag:yaml.org,2002:{t}" for t in
                               ("str", "int", "float", "bool", "null"))
SEQ, MAP = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when there: 10x faster
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
KINDS = ("delete", "duplicate", "retype-key", "retype-value", "truncate")


@dataclass(frozen=True)
class Mutant:
    kind: str
    where: str  # a JSON-pointer-like path of the node changed (or the cut offset)
    text: str


def _scalar(tag: str, value: str) -> ScalarNode:
    return ScalarNode(tag, value)


def _replacements(rng: random.Random) -> Node:
    choices: list[Node] = [
        _scalar(STR, "mutated"), _scalar(INT, "42"), _scalar(FLOAT, "1.5"),
        _scalar(BOOL, "true"), _scalar(NULL, "null"), _scalar(STR, ""),
        SequenceNode(SEQ, []), SequenceNode(SEQ, [_scalar(INT, "1")]),
        SequenceNode(SEQ, [MappingNode(MAP, [])]),
        MappingNode(MAP, []), MappingNode(MAP, [(_scalar(STR, "x"), _scalar(INT, "1"))]),
        MappingNode(MAP, [(SequenceNode(SEQ, []), _scalar(INT, "1"))]),
        _scalar("!jq", "."), _scalar("!jq", "{"), _scalar("!http", "GET"),
        SequenceNode("!pipe", []), MappingNode("!jq", []), SequenceNode("!switch", []),
        MappingNode("!http", [(_scalar(STR, "method"), SequenceNode(SEQ, []))]),
        _scalar(STR, "${"), _scalar(STR, "${data.}"), _scalar(STR, "${custom_data.x.y}"),
    ]
    return copy.deepcopy(rng.choice(choices))


def _key_replacements(rng: random.Random) -> Node:
    return copy.deepcopy(rng.choice([
        _scalar(INT, "7"), _scalar(NULL, "null"), _scalar(BOOL, "false"),
        _scalar(FLOAT, "0.5"), SequenceNode(SEQ, [_scalar(STR, "a")]),
        MappingNode(MAP, [(_scalar(STR, "a"), _scalar(STR, "b"))]), _scalar(STR, ""),
        _scalar("!jq", "name")]))


def _copy(node: Node) -> Node:
    """The tree's nodes copied (copy.deepcopy would copy every mark, 10x slower)."""
    if isinstance(node, MappingNode):
        return MappingNode(node.tag, [(_copy(k), _copy(v)) for k, v in node.value],
                           flow_style=node.flow_style)
    if isinstance(node, SequenceNode):
        return SequenceNode(node.tag, [_copy(v) for v in node.value], flow_style=node.flow_style)
    return ScalarNode(node.tag, node.value, style=node.style)


def _walk(node: Node, path: str) -> Iterator[tuple[Node, str]]:
    yield node, path
    if isinstance(node, MappingNode):
        for key, value in node.value:
            yield from _walk(value, f"{path}/{getattr(key, 'value', '?')}")
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, f"{path}/{i}")


def _parents(root: Node) -> list[tuple[Node, str]]:
    return [(n, p) for n, p in _walk(root, "") if isinstance(n, MappingNode | SequenceNode)
            and n.value]


def mutate(text: str, rng: random.Random, kind: str, tree: Node | None = None) -> Mutant:
    """One mutant of `text` (`tree`: its composed nodes, when at hand; not changed)."""
    if kind == "truncate":
        cut = rng.randrange(len(text))
        return Mutant(kind, f"@{cut}", text[:cut])
    root = _copy(tree) if tree is not None else yaml.compose(text, Loader=LOADER)
    assert root is not None
    if kind in ("delete", "duplicate", "retype-key"):
        maps = [(n, p) for n, p in _parents(root) if isinstance(n, MappingNode)]
        node, path = rng.choice(maps)
        i = rng.randrange(len(node.value))
        key, value = node.value[i]
        where = f"{path}/{getattr(key, 'value', '?')}"
        if kind == "delete":
            del node.value[i]
        elif kind == "duplicate":
            node.value.insert(i + 1, copy.deepcopy((key, value)))
        else:
            node.value[i] = (_key_replacements(rng), value)
    elif rng.random() < 0.05:  # the whole document of another type
        root, where = _replacements(rng), ""
    else:
        parents = _parents(root)
        node, path = rng.choice(parents)
        if isinstance(node, MappingNode):
            i = rng.randrange(len(node.value))
            key, _ = node.value[i]
            node.value[i] = (key, _replacements(rng))
            where = f"{path}/{getattr(key, 'value', '?')}"
        else:
            i = rng.randrange(len(node.value))
            node.value[i] = _replacements(rng)
            where = f"{path}/{i}"
    return Mutant(kind, where, yaml.serialize(root, Dumper=DUMPER, allow_unicode=True))


def mutants(text: str, rng: random.Random, count: int) -> list[Mutant]:
    """`count` mutants, the kinds in turn (so every kind is tried however small `count`)."""
    start = rng.randrange(len(KINDS))
    tree = yaml.compose(text, Loader=LOADER)
    return [mutate(text, rng, KINDS[(start + n) % len(KINDS)], tree) for n in range(count)]
