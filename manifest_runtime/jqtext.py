"""Lexical work on jq program text: where expansions stand, and which root fields a program reads.

A `!jq` program may contain `${...}` expansions. So that a program compiles once per manifest
and never per record, each distinct expansion becomes a jq variable `$__mrN`, bound from the
input array the runtime passes in (`[input, value0, value1, ...]`):

    . + ${piped_content.2}          ->  .[1] as $__mr0 | .[0] | (. + $__mr0)
    "record${polling_state.n}@x"    ->  ... | ("record\\($__mr0 | <as text>)@x")

Outside a jq string literal an expansion stands for its JSON value; inside one it is spliced
as text (strings raw, null empty, everything else as JSON), per DESIGN §3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .expressions.nodes import Expansion, Template

VAR_PREFIX = "$__mr"
AS_TEXT = 'if type == "string" then . elif . == null then "" else tojson end'


@dataclass(frozen=True, slots=True)
class Rewritten:
    """A jq program with expansions turned into variables.

    `segments` maps rewritten offsets back to the original: (rewritten_start, original_start,
    length) for every stretch of literal program text.
    """

    program: str
    variables: tuple[Expansion, ...]  # variable i is bound to the value of variables[i]
    segments: tuple[tuple[int, int, int], ...]

    def original_offset(self, offset: int) -> int | None:
        for rstart, ostart, length in self.segments:
            if rstart <= offset <= rstart + length:
                return ostart + (offset - rstart)
        return None


def rewrite(template: Template) -> Rewritten:
    """Turn a jq program template into a plain jq program plus the variables it reads."""
    variables: list[Expansion] = []
    index_of: dict[str, int] = {}
    for exp in template.expansions:
        if exp.text not in index_of:
            index_of[exp.text] = len(variables)
            variables.append(exp)
    prefix = "".join(f".[{i + 1}] as {VAR_PREFIX}{i} | " for i in range(len(variables)))
    prefix += ".[0] | (\n"
    body: list[str] = []
    segments: list[tuple[int, int, int]] = []
    lexer = _StringTracker()
    rpos = len(prefix)
    opos = 0
    for part in template.parts:
        if isinstance(part, str):
            segments.append((rpos, _orig_start(template, opos, part), len(part)))
            lexer.feed(part)
            body.append(part)
            rpos += len(part)
            opos += len(part)
            continue
        var = f"{VAR_PREFIX}{index_of[part.text]}"
        text = f"\\({var} | {AS_TEXT})" if lexer.in_string else var
        body.append(text)
        rpos += len(text)
        opos = part.span.end
    program = prefix + "".join(body) + "\n)"
    return Rewritten(program, tuple(variables), tuple(segments))


def _orig_start(template: Template, opos: int, part: str) -> int:
    # Literal parts appear in order; `$${` escapes make lengths differ, so search forward.
    found = template.source.find(part, opos)
    return found if found >= 0 else opos


class _StringTracker:
    """Follows jq's lexical state across chunks: are we inside a string literal?"""

    def __init__(self) -> None:
        self.stack: list[int] = []  # paren depth of each open `\(` interpolation
        self.in_string = False
        self.escape = False
        self.comment = False

    def feed(self, text: str) -> None:
        for ch in text:
            self._step(ch)

    def _step(self, ch: str) -> None:
        if self.comment:
            self.comment = ch != "\n"
            return
        if self.in_string:
            if self.escape:
                self.escape = False
                if ch == "(":
                    self.in_string = False
                    self.stack.append(1)
            elif ch == "\\":
                self.escape = True
            elif ch == '"':
                self.in_string = False
            return
        if ch == '"':
            self.in_string = True
        elif ch == "#":
            self.comment = True
        elif ch == "(" and self.stack:
            self.stack[-1] += 1
        elif ch == ")" and self.stack:
            self.stack[-1] -= 1
            if self.stack[-1] == 0:
                self.stack.pop()
                self.in_string = True


_JQ_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"'  # string literal (interpolations ignored)
    r"|#[^\n]*"  # comment
    r"|\.[A-Za-z_][A-Za-z0-9_]*"  # field access
    r"|\$?[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*"  # identifier, keyword, variable
    r"|\?\/\/|\/\/=?|\|=|[|()\[\]{},:;]|\.\.|\."
    r"|[0-9.]+|\S",
    re.S,
)
_CONTINUES = re.compile(r'^(?:\.[A-Za-z_]\w*|[)\]}?]|\$\w+|"|\.)')


@lru_cache(maxsize=4096)
def root_fields(program: str) -> frozenset[str]:
    """Field names a jq program reads from its input before piping it anywhere.

    `.body | {x: .y}` reads {"body"}; `[.accounts[] | {d: .name}]` reads {"accounts"};
    `{account_id: .user_id, description: .full_name}` reads {"user_id", "full_name"};
    `{id, items}` (shorthand) reads {"id", "items"}; `.["items"]` reads {"items"};
    `reduce .items[] as $x (0; . + $x)` reads {"items"}.
    A heuristic over tokens, used only to choose the `!http` output shape (DESIGN §4).
    """
    tokens = [t for t in (m.group() for m in _JQ_TOKEN.finditer(program))
              if not t.startswith("#")]
    fields: set[str] = set()
    piped: list[bool] = [False]  # one flag per open bracket group: has a `|` been seen there
    brackets: list[str] = []  # the open brackets, innermost last
    prev = ""
    for i, tok in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        if tok in ("(", "[", "{"):
            # the arguments of `map(...)`, `select(...)` see elements, not the input
            call = tok == "(" and bool(prev) and (prev[0].isalpha() or prev[0] == "_") \
                and prev not in _KEYWORDS
            piped.append(call)
            brackets.append(tok)
        elif tok in (")", "]", "}"):
            if len(piped) > 1:
                piped.pop()
                brackets.pop()
        elif tok in ("|", "as", "def"):
            piped[-1] = True
        elif any(piped):
            pass
        elif tok.startswith(".") and len(tok) > 1 and tok[1] != ".":
            if not _is_suffix(prev):
                fields.add(tok[1:])
        elif tok == "." and following == "[" and not _is_suffix(prev):
            name = tokens[i + 2] if i + 2 < len(tokens) else ""
            if name.startswith('"') and tokens[i + 3:i + 4] == ["]"]:
                fields.add(name[1:-1])  # .["name"]
        elif brackets and brackets[-1] == "{" and prev in ("{", ",") and \
                following in (",", "}") and (tok[0].isalpha() or tok[0] == "_"):
            fields.add(tok)  # {name} is {name: .name}
        prev = tok
    return frozenset(fields)


def _is_suffix(prev: str) -> bool:
    """Does a `.name` after `prev` index prev's value (`.a.b`, `$x.y`, `f.z`)?"""
    return bool(prev) and (bool(_CONTINUES.match(prev)) or (
        (prev[0].isalnum() or prev[0] == "_") and prev not in _KEYWORDS))


_KEYWORDS = frozenset(
    {"if", "then", "elif", "else", "end", "and", "or", "not", "try", "catch", "label", "import",
     "include", "reduce", "foreach", "def", "as"}
)
