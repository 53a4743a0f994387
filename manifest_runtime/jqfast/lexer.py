"""Tokens of the jq subset the fast path compiles. Anything the lexer does not know raises
Unsupported: the program then runs on libjq (the fast path never guesses)."""

from __future__ import annotations

import re
from dataclasses import dataclass


class Unsupported(Exception):
    """The program uses something outside the fast subset: compile it with libjq instead."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # "num", "str", "field", "var", "ident", "op", "format", "eof"
    text: str
    value: object = None  # num: the number; str: list of parts (str or nested token list)


_SIMPLE = re.compile(
    r"(?P<ws>\s+|\#[^\n]*)"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<field>\.[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<var>\$[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<format>@[A-Za-z0-9_]+)"
    r"|(?P<op>\?//=?|//=?|\|=|\+=|-=|\*=|/=|%=|==|!=|<=|>=|\.\.|[.\[\]{}(),:;|+\-*/%<>=?])"
)

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
            "t": "\t"}


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos] == '"':
            parts, pos = _string(text, pos + 1)
            tokens.append(Token("str", '"', parts))
            continue
        m = _SIMPLE.match(text, pos)
        if m is None:
            raise Unsupported(f"character {text[pos]!r}")
        kind = m.lastgroup or ""
        pos = m.end()
        if kind == "ws":
            continue
        word = m.group()
        if kind == "num":
            tokens.append(Token("num", word, _number(word)))
        else:
            tokens.append(Token(kind, word))
    tokens.append(Token("eof", ""))
    return tokens


def _number(word: str) -> int | float:
    if word.isdigit():
        return int(word)
    return float(word)


def _string(text: str, pos: int) -> tuple[list[object], int]:
    """A string literal from after its opening quote: literal text and `\\(...)` token lists."""
    parts: list[object] = []
    buf: list[str] = []
    while True:
        if pos >= len(text):
            raise Unsupported("unterminated string")
        ch = text[pos]
        if ch == '"':
            break
        if ch != "\\":
            buf.append(ch)
            pos += 1
            continue
        esc = text[pos + 1:pos + 2]
        if esc in _ESCAPES:
            buf.append(_ESCAPES[esc])
            pos += 2
        elif esc == "u":
            code = _hex4(text, pos + 2)
            pos += 6
            if 0xD800 <= code < 0xDC00:
                if text[pos:pos + 2] != "\\u":
                    raise Unsupported("lone surrogate")
                low = _hex4(text, pos + 2)
                if not 0xDC00 <= low < 0xE000:
                    raise Unsupported("lone surrogate")
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                pos += 6
            elif 0xDC00 <= code < 0xE000:
                raise Unsupported("lone surrogate")
            buf.append(chr(code))
        elif esc == "(":
            end = _interpolation_end(text, pos + 2)
            if buf:
                parts.append("".join(buf))
                buf = []
            parts.append(tokenize(text[pos + 2:end]))
            pos = end + 1
        else:
            raise Unsupported("escape")
    if buf or not parts:
        parts.append("".join(buf))
    return parts, pos + 1


def _hex4(text: str, pos: int) -> int:
    digits = text[pos:pos + 4]
    if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
        raise Unsupported("bad \\u escape")
    return int(digits, 16)


def _interpolation_end(text: str, pos: int) -> int:
    """Index of the `)` closing an interpolation that starts at pos (strings nest)."""
    depth = 1
    while pos < len(text):
        ch = text[pos]
        if ch == '"':
            _, pos = _string(text, pos + 1)
            continue
        if ch == "#":
            raise Unsupported("comment in interpolation")
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise Unsupported("unterminated interpolation")
