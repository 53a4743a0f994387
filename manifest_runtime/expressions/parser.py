"""Parse strings into Templates: literal text plus `${...}` expansions (Lark LALR grammar).

`$${` is a literal `${`. Each expansion runs from `${` to the first `}`; its inside is parsed by
`grammar.lark`. Errors carry the 0-based span inside the whole string, so the caret and the
file column line up. Results are cached per distinct string: a manifest repeats many strings.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import Span, choices_hint
from .filters import FILTERS
from .nodes import ROOTS, Expansion, FilterCall, Missing, Segment, Template

_TERMINAL_NAMES = {
    "ROOT": "a root name (custom_data, piped_content, ...)",
    "KEY": "a name or index",
    "NAME": "a filter name",
    "INDEX": "an index",
    "ARG": "an argument",
    "DOT": "'.'",
    "__ANON_0": "'::'",
    "LSQB": "'['",
    "RSQB": "']'",
    "VBAR": "'|'",
    "COLON": "':'",
    "_WS": "a space",
    "$END": "'}'",
}


@dataclass(frozen=True)
class TemplateSyntaxError(Exception):
    """A malformed `${...}`; `span` is 0-based inside the whole string."""

    code: str
    message: str
    span: Span
    hint: str | None = None

    def __str__(self) -> str:
        return self.message


def parse_template(text: str) -> Template:
    """Split `text` into literal parts and parsed expansions. Raises TemplateSyntaxError."""
    if "${" not in text:
        return Template(text, (text,) if text else ())
    return _parse_cached(text)


@cache
def _parse_cached(text: str) -> Template:
    parts: list[str | Expansion] = []
    literal: list[str] = []
    i = 0
    while True:
        j = text.find("${", i)
        if j < 0:
            literal.append(text[i:])
            break
        if j > 0 and text[j - 1] == "$":  # `$${` is an escaped, literal `${`
            literal.append(text[i : j - 1] + "${")
            i = j + 2
            continue
        literal.append(text[i:j])
        end = text.find("}", j + 2)
        if end < 0:
            raise TemplateSyntaxError(
                "unclosed-expansion",
                "'${' is not closed by '}'",
                Span(j, len(text)),
                "close the expansion with '}', or write '$${' for a literal '${'",
            )
        if "".join(literal):
            parts.append("".join(literal))
        literal = []
        parts.append(_parse_expansion(text, j, end))
        i = end + 1
    if "".join(literal):
        parts.append("".join(literal))
    return Template(text, tuple(parts))


def _parse_expansion(text: str, start: int, end: int) -> Expansion:
    inner = text[start + 2 : end]
    offset = start + 2
    if not inner.strip():
        raise TemplateSyntaxError(
            "empty-expansion",
            "empty expansion '${}'",
            Span(start, end + 1),
            f"write a reference such as ${{custom_data.<field id>.value}} (roots: "
            f"{', '.join(ROOTS)})",
        )
    tree = _parse_inner(inner, offset)
    root_tok = tree["root"]
    if root_tok[0] not in ROOTS:
        raise TemplateSyntaxError(
            "unknown-root",
            f"unknown root {root_tok[0]!r}",
            Span(offset + root_tok[1], offset + root_tok[1] + len(root_tok[0])),
            choices_hint(root_tok[0], ROOTS, "roots"),
        )
    filters = []
    for name, arg, fstart, fend in tree["filters"]:
        if name not in FILTERS:
            raise TemplateSyntaxError(
                "unknown-filter",
                f"unknown filter {name!r}",
                Span(offset + fstart, offset + fstart + len(name)),
                choices_hint(name, FILTERS, "filters"),
            )
        filters.append(FilterCall(name, arg, Span(offset + fstart, offset + fend)))
    return Expansion(
        root=root_tok[0],
        path=tuple(tree["path"]),
        filters=tuple(filters),
        span=Span(start, end + 1),
        text=text[start : end + 1],
    )


# The grammar's common forms, read without Lark (importing and building it costs ~20 ms of
# every start-up): `ROOT(.KEY|::KEY|[INDEX])*` with spaces around, then `| NAME` filters, the
# last one maybe with `:ARG` (everything up to the end, as the grammar's ARG). Anything else,
# every error included, goes to Lark; tests/expressions/test_fast_parse.py checks both agree.
_FAST_REF = re.compile(r"[ \t]*([A-Za-z_][A-Za-z0-9_]*)")
_FAST_SEGMENT = re.compile(r"(?:\.|::)([A-Za-z0-9_\-]+)|\[([0-9]+)\]")
_FAST_FILTER = re.compile(r"\|[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::([^}]*))?")
_FAST_SPACE = re.compile(r"[ \t]*")


def _parse_fast(inner: str) -> dict[str, Any] | None:
    """`_parse_inner`'s result for the common forms, else None."""
    m = _FAST_REF.match(inner)
    if m is None:
        return None
    root = (m.group(1), m.start(1))
    path: list[Segment] = []
    pos = m.end()
    while (seg := _FAST_SEGMENT.match(inner, pos)) is not None:
        key, index = seg.group(1), seg.group(2)
        path.append(str(key) if key is not None else int(index))
        pos = seg.end()
    pos = _FAST_SPACE.match(inner, pos).end()  # type: ignore[union-attr]
    filters = []
    while pos < len(inner):
        f = _FAST_FILTER.match(inner, pos)
        if f is None:
            return None
        raw = f.group(2)
        if raw:  # the argument runs to the end: no filter after it
            filters.append((f.group(1), _typed_arg(raw), f.start(1), f.end(2)))
        else:
            filters.append((f.group(1), Missing, f.start(1), f.end(1)))
        pos = f.end()
    return {"root": root, "path": path, "filters": filters}


def _parse_inner(inner: str, offset: int) -> dict[str, Any]:
    fast = _parse_fast(inner)
    if fast is not None:
        return fast
    from lark.exceptions import (
        UnexpectedCharacters,
        UnexpectedEOF,
        UnexpectedInput,
        UnexpectedToken,
    )

    try:
        tree = _lark().parse(inner)
    except UnexpectedInput as exc:
        pos = getattr(exc, "pos_in_stream", None)
        if (isinstance(exc, UnexpectedToken) and exc.token.type == "$END") or isinstance(
            exc, UnexpectedEOF
        ):
            pos = len(inner)
        if pos is None:
            pos = 0
        expected: set[str] = set()
        if isinstance(exc, UnexpectedToken | UnexpectedEOF):
            expected = set(exc.expected)
        elif isinstance(exc, UnexpectedCharacters):
            expected = set(exc.allowed or ())
        found = repr(inner[pos]) if pos < len(inner) else "'}'"
        names = sorted({_TERMINAL_NAMES.get(e, e) for e in expected if e != "_WS"})
        raise TemplateSyntaxError(
            "expression-syntax",
            f"unexpected {found} in expansion",
            Span(offset + pos, offset + pos + 1),
            _syntax_hint(inner, pos, names),
        ) from None
    return _to_dict(tree)


def _syntax_hint(inner: str, pos: int, expected: list[str]) -> str:
    if pos < len(inner) and inner[pos] == " ":
        return "spaces are allowed around the reference and around '|', not inside a path"
    if expected:
        return "expected " + " or ".join(expected)
    return "an expansion looks like ${custom_data.<id>.value | default:<text>}"


def _to_dict(tree: Any) -> dict[str, Any]:
    reference = tree.children[0]
    root = reference.children[0]
    path: list[Segment] = []
    for seg in reference.children[1:]:
        token = seg.children[0]
        path.append(int(token) if seg.data == "index" else str(token))
    filters = []
    for f in tree.children[1:]:
        name = f.children[0]
        arg_tok = f.children[1] if len(f.children) > 1 else None
        arg = _typed_arg(str(arg_tok)) if arg_tok is not None else Missing
        fend = (arg_tok.end_pos if arg_tok is not None else name.end_pos)
        filters.append((str(name), arg, name.start_pos, fend))
    return {"root": (str(root), root.start_pos), "path": path, "filters": filters}


def _typed_arg(raw: str) -> object:
    """`default:1` is 1, `default:true` is True, `default:"x"` is "x", else the stripped text.

    Only a JSON scalar is typed: Python's json also reads `NaN`, `Infinity` and `1e400` (as
    inf), which are not JSON numbers, so those stay text."""
    text = raw.strip()
    try:
        value = json.loads(text, parse_constant=_not_json)
    except ValueError:
        return text
    if isinstance(value, dict | list):
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not a JSON value")


@cache
def _lark() -> Any:
    from importlib import resources  # with Lark only (start-up)

    from lark import Lark

    grammar = resources.files(__package__).joinpath("grammar.lark").read_text("utf-8")
    # cache=True keeps the analysed LALR tables in the temp dir: start-up drops by ~40 ms
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, cache=True,
                keep_all_tokens=False, maybe_placeholders=False)
