"""Programs and inputs for the differential test of the jq fast path against libjq.

* `repo_programs()`: every `!jq` and `!switch` jq program in the tests, examples and docs
  (every .yaml/.yml/.json file, and the yaml/json code blocks of the markdown), found by
  walking the loaded documents; `${...}` expansions rewritten as the compiler does.
* `generated_programs(n, seed)`: a deterministic random corpus over the fast subset's grammar.
* `INPUTS`: JSON values of every type and the shapes manifests see (payloads, pages, nulls).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from manifest_runtime.expressions.parser import TemplateSyntaxError, parse_template
from manifest_runtime.jqtext import rewrite

ROOT = Path(__file__).resolve().parents[2]


class _AnyTagLoader(yaml.SafeLoader):
    pass


def _tagged(loader: yaml.Loader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {"!" + suffix: value}


_AnyTagLoader.add_multi_constructor("!", _tagged)  # type: ignore[no-untyped-call]


def _documents() -> Iterator[Any]:
    for base in ("tests", "examples", "docs"):
        for path in sorted((ROOT / base).rglob("*")):
            if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
                yield from _load(path.read_text(encoding="utf-8", errors="replace"),
                                 path.suffix)
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for lang, block in re.findall(r"```(yaml|json)\n(.*?)```", text, re.S):
            yield from _load(block, "." + lang)


def _load(text: str, suffix: str) -> Iterator[Any]:
    try:
        if suffix == ".json":
            yield json.loads(text)
        else:
            yield from yaml.load_all(text, Loader=_AnyTagLoader)
    except Exception:
        return


def _walk(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 60:  # the loader's depth-limit tests nest far deeper than any manifest
        return
    if isinstance(value, dict):
        jq = value.get("!jq")
        if isinstance(jq, (str, int, float)) and not isinstance(jq, bool):
            yield str(jq)
        switch = value.get("!switch")
        if isinstance(switch, dict) and isinstance(switch.get("jq"), str):
            yield switch["jq"]
        for item in value.values():
            yield from _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, depth + 1)


def to_jq(program: str) -> tuple[str, int] | None:
    """The jq text the compiler hands libjq, and how many expansion variables it binds."""
    try:
        template = parse_template(program)
    except TemplateSyntaxError:
        return None
    if not template.expansions:
        return "".join(p for p in template.parts if isinstance(p, str)), 0
    rewritten = rewrite(template)
    return rewritten.program, len(rewritten.variables)


def repo_programs() -> list[tuple[str, int]]:
    found: dict[str, int] = {}
    for doc in _documents():
        for program in _walk(doc):
            converted = to_jq(program)
            if converted is not None and program.strip():
                found.setdefault(*converted)
    return sorted(found.items())


INPUTS: list[Any] = [
    None, True, False, 0, 1, -3, 2.5, 1.0, 1e17, 2**53 + 1, "", "abc", "A,b,,C", "12",
    "3.5", "nan", "Héllo wörld", "\x7f\u0001", [], [1, 2, 3], [3, "a", None, True],
    ["x", "y"], [[1], [2, 3]], [{"a": 1}, {"a": 2, "b": "x"}, {"a": None}],
    {}, {"a": 1}, {"a": {"b": [1, 2]}, "c": "d"}, {"a": None, "b": False},
    {"id": 7, "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace",
     "tags": ["vip", "new"], "address": {"city": "London", "zip": "N1"}, "active": True},
    {"body": {"data": [{"id": 1, "name": "x"}, {"id": 2, "name": "y"}], "meta": {"total": 2,
                                                                               "page": 1}},
     "status": 200, "headers": {"content-type": "application/json"}},
    {"contacts": [{"email": "a@x.test", "firstName": "A", "fieldValues": [
        {"field": "1", "value": "Acme"}]}], "total": "1"},
    {"data": {"items": [], "next": None}, "page": 3, "count": 0},
    {"x": 1.5, "y": -0.0, "z": 1e300, "s": "10", "n": None, "l": [None, 1.25]},
]


# ---------------------------------------------------------------- generated programs

_FIELDS = ["a", "b", "id", "email", "tags", "body", "data", "x", "s", "l", "first_name"]
_STRINGS = ['"a"', '"x"', '""', '","', '"@"', '"A b"']


class _Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def path(self) -> str:
        steps = []
        for _ in range(self.r.randint(1, 3)):
            kind = self.r.random()
            if kind < 0.55:
                steps.append("." + self.r.choice(_FIELDS))
            elif kind < 0.7:
                steps.append(f".[{self.r.randint(-2, 3)}]")
            elif kind < 0.85:
                steps.append(".[]")
            else:
                steps.append(f'.["{self.r.choice(_FIELDS)}"]')
            if self.r.random() < 0.15:
                steps.append("?")
        text = "".join(steps)
        return text

    def atom(self, depth: int) -> str:
        r = self.r.random()
        if depth <= 0 or r < 0.3:
            return self.r.choice([self.path(), ".", "null", "true", "false", "1", "0", "-2",
                                  "2.5", self.r.choice(_STRINGS), "$v", "[]", "{}"])
        choices = [
            lambda: f"[{self.expr(depth - 1)}]",
            lambda: "{" + ", ".join(self.entry(depth - 1)
                                    for _ in range(self.r.randint(1, 3))) + "}",
            lambda: f"({self.expr(depth - 1)})",
            lambda: f'"<\\({self.expr(depth - 1)})>"',
            lambda: f"map({self.expr(depth - 1)})",
            lambda: f"select({self.expr(depth - 1)})",
            lambda: self.r.choice(["length", "keys", "keys_unsorted", "tostring", "tojson",
                                   "tonumber", "ascii_downcase", "ascii_upcase", "type",
                                   "not", "add", "to_entries", "empty", "values", "strings",
                                   "numbers", "arrays", "objects", "error", "sort",
                                   "unique", "min", "max"]),
            lambda: f"{self.r.choice(['has', 'split', 'join', 'startswith', 'endswith'])}"
                    f"({self.r.choice([*_STRINGS, '0', '1'])})",
            lambda: f"if {self.expr(depth - 1)} then {self.expr(depth - 1)} "
                    + self.r.choice(["", f"elif {self.expr(depth - 1)} then . "])
                    + self.r.choice(["end", f"else {self.expr(depth - 1)} end"]),
            lambda: f"({self.expr(depth - 1)})?",
            lambda: f"{self.path()} as $w | {self.expr(depth - 1)}",
            lambda: f"error({self.r.choice(_STRINGS)})",
            lambda: f".[{self.r.choice(['1', '-1', ''])}:{self.r.choice(['2', '-1', ''])}]",
        ]
        return self.r.choice(choices)()

    def entry(self, depth: int) -> str:
        kind = self.r.random()
        if kind < 0.25:
            return self.r.choice(_FIELDS)
        if kind < 0.35:
            return "$v"
        if kind < 0.45:
            return f'"k\\({self.r.choice(["1", ".a", "$v"])})": {self.atom(depth)}'
        if kind < 0.5:
            return f"({self.r.choice(_STRINGS)}): {self.atom(depth)}"
        return f"{self.r.choice(_FIELDS)}: {self.expr(depth, comma=False)}"

    def expr(self, depth: int, comma: bool = True) -> str:
        left = self.atom(depth)
        r = self.r.random()
        ops = ["|", "+", "-", "*", "/", "%", "//", "==", "!=", "<", "<=", ">", ">=", "and",
               "or"] + ([","] if comma else [])
        if depth > 0 and r < 0.6:
            op = self.r.choice(ops)
            return f"{left} {op} {self.atom(depth - 1)}"
        return left


def generated_programs(count: int, seed: int = 11) -> list[str]:
    gen = _Gen(seed)
    programs: list[str] = []
    seen: set[str] = set()
    while len(programs) < count:
        program = "null as $v | " + gen.expr(3) if gen.r.random() < 0.3 else \
            ". as $v | " + gen.expr(3)
        if program not in seen:
            seen.add(program)
            programs.append(program)
    return programs
