"""Parse the jq subset into a tree, with jq's precedence (lowest first): `|` (right), `,`,
`//` (right), `or`, `and`, comparisons, `+ -`, `* / %`, unary `-`, postfix terms.
Anything else (reduce, def, try/catch, assignment, formats, `..`, destructuring) raises
Unsupported so the program runs on libjq. Programs reach this parser only after libjq compiled
them, so syntax errors are libjq's to report."""

from __future__ import annotations

from ..frozen import replaced
from . import ast
from .lexer import Token, Unsupported, tokenize

_KEYWORDS = frozenset({"if", "then", "elif", "else", "end", "as", "def", "reduce", "foreach",
                       "try", "catch", "label", "import", "include", "and", "or", "__loc__"})
_COMPARE = frozenset({"==", "!=", "<", "<=", ">", ">="})


def parse(text: str) -> ast.Node:
    return _Parser(tokenize(text)).whole()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.terms: dict[int, tuple[ast.Node, int]] = {}  # postfix terms parsed, by position

    # -------------------------------------------------------------- helpers

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.peek()
        return tok.kind == kind and (text is None or tok.text == text)

    def expect(self, kind: str, text: str) -> None:
        if not self.at(kind, text):
            raise Unsupported(f"expected {text!r}, got {self.peek().text!r}")
        self.pos += 1

    def whole(self) -> ast.Node:
        node = self.pipe()
        if not self.at("eof"):
            raise Unsupported(f"unexpected {self.peek().text!r}")
        return node

    # -------------------------------------------------------------- levels

    def pipe(self, comma: bool = True) -> ast.Node:
        start = self.pos
        if comma and self._starts_term():
            term = self.postfix()
            if self.at("ident", "as"):
                self.take()
                var = self.take()
                if var.kind != "var" or var.text in ("$__loc__", "$ENV"):
                    raise Unsupported("destructuring")
                self.expect("op", "|")
                return ast.Bind(term, var.text[1:], self.pipe())
            self.pos = start
        left = self.comma() if comma else self.alternative()
        if self.at("op", "|"):
            self.take()
            return ast.Pipe(left, self.pipe(comma))
        return left

    def _starts_term(self) -> bool:
        tok = self.peek()
        return tok.kind in ("num", "str", "field", "var") or (
            tok.kind == "op" and tok.text in (".", "[", "{", "(")) or (
            tok.kind == "ident" and tok.text not in _KEYWORDS - {"if"})

    def comma(self) -> ast.Node:
        left = self.alternative()
        while self.at("op", ","):
            self.take()
            left = ast.Comma(left, self.alternative())
        return left

    def alternative(self) -> ast.Node:
        left = self.disjunction()
        if self.at("op", "//"):
            self.take()
            return ast.Alt(left, self.alternative())
        if self.peek().kind == "op" and self.peek().text in (
                "=", "|=", "+=", "-=", "*=", "/=", "%=", "//=", "?//"):
            raise Unsupported("assignment")
        return left

    def disjunction(self) -> ast.Node:
        left = self.conjunction()
        while self.at("ident", "or"):
            self.take()
            left = ast.Or(left, self.conjunction())
        return left

    def conjunction(self) -> ast.Node:
        left = self.comparison()
        while self.at("ident", "and"):
            self.take()
            left = ast.And(left, self.comparison())
        return left

    def comparison(self) -> ast.Node:
        left = self.additive()
        if self.peek().kind == "op" and self.peek().text in _COMPARE:
            op = self.take().text
            return ast.Binop(op, left, self.additive())
        return left

    def additive(self) -> ast.Node:
        left = self.multiplicative()
        while self.peek().kind == "op" and self.peek().text in ("+", "-"):
            op = self.take().text
            left = ast.Binop(op, left, self.multiplicative())
        return left

    def multiplicative(self) -> ast.Node:
        left = self.unary()
        while self.peek().kind == "op" and self.peek().text in ("*", "/", "%"):
            op = self.take().text
            left = ast.Binop(op, left, self.unary())
        return left

    def unary(self) -> ast.Node:
        if self.at("op", "-"):
            self.take()
            return ast.Neg(self.multiplicative())
        return self.postfix()

    # -------------------------------------------------------------- terms

    def postfix(self) -> ast.Node:
        start = self.pos
        if start in self.terms:  # parsed once before, when `pipe` looked for `as`
            node, self.pos = self.terms[start]
            return node
        node = self._postfix()
        self.terms[start] = (node, self.pos)
        return node

    def _postfix(self) -> ast.Node:
        first = self.peek()
        node = self.primary()
        # `?` right after an access step (`.a?`, `.[0]?`, `.[]?`) makes that step optional;
        # after any other term (`(e)?`, `f?`) it is `try`.
        access = first.kind == "field" or (first.kind == "op" and first.text == "." and
                                           isinstance(node, ast.Index))
        while True:
            tok = self.peek()
            if tok.kind == "field":
                self.take()
                node, access = ast.Index(node, ast.Literal(tok.text[1:])), True
            elif tok.kind == "op" and tok.text == "." and self.peek(1).kind == "str":
                self.take()
                node, access = ast.Index(node, self.string(self.take())), True
            elif tok.kind == "op" and tok.text == "." and self.peek(1).text == "[" \
                    and self.peek(1).kind == "op":
                self.take()
            elif tok.kind == "op" and tok.text == "[":
                node, access = self.bracket(node), True
            elif tok.kind == "op" and tok.text == "?":
                self.take()
                if access and isinstance(node, (ast.Index, ast.Slice, ast.Iterate)) \
                        and not node.opt:
                    node = replaced(node, opt=True)
                else:
                    node = ast.Try(node)
                access = False
            else:
                return node

    def bracket(self, target: ast.Node) -> ast.Node:
        self.expect("op", "[")
        if self.at("op", "]"):
            self.take()
            return ast.Iterate(target)
        if self.at("op", ":"):
            self.take()
            hi = self.pipe()
            self.expect("op", "]")
            return ast.Slice(target, None, hi)
        key = self.pipe()
        if self.at("op", ":"):
            self.take()
            hi2 = None if self.at("op", "]") else self.pipe()
            self.expect("op", "]")
            return ast.Slice(target, key, hi2)
        self.expect("op", "]")
        if isinstance(key, ast.Comma):
            raise Unsupported("several indexes")
        return ast.Index(target, key)

    def primary(self) -> ast.Node:
        tok = self.take()
        if tok.kind == "num":
            return ast.Literal(tok.value)
        if tok.kind == "str":
            return self.string(tok)
        if tok.kind == "field":
            return ast.Index(ast.Identity(), ast.Literal(tok.text[1:]))
        if tok.kind == "var":
            if tok.text in ("$__loc__", "$ENV") or "::" in tok.text:
                raise Unsupported(tok.text)
            return ast.Var(tok.text[1:])
        if tok.kind == "op":
            if tok.text == ".":
                nxt = self.peek()
                if nxt.kind == "str":
                    return ast.Index(ast.Identity(), self.string(self.take()))
                return ast.Identity()
            if tok.text == "(":
                node = self.pipe()
                self.expect("op", ")")
                return node
            if tok.text == "[":
                if self.at("op", "]"):
                    self.take()
                    return ast.Array(None)
                body = self.pipe()
                self.expect("op", "]")
                return ast.Array(body)
            if tok.text == "{":
                return self.object()
            raise Unsupported(tok.text)
        if tok.kind == "ident":
            if tok.text == "if":
                return self.conditional()
            if tok.text in _KEYWORDS or "::" in tok.text:
                raise Unsupported(tok.text)
            if tok.text in ("null", "true", "false"):
                return ast.Literal({"null": None, "true": True, "false": False}[tok.text])
            args: list[ast.Node] = []
            if self.at("op", "("):
                self.take()
                args.append(self.pipe())
                while self.at("op", ";"):
                    self.take()
                    args.append(self.pipe())
                self.expect("op", ")")
            return ast.Call(tok.text, tuple(args))
        raise Unsupported(tok.text or "end of program")

    def conditional(self) -> ast.Node:
        cond = self.pipe()
        self.expect("ident", "then")
        then = self.pipe()
        if self.at("ident", "elif"):
            self.take()
            return ast.If(cond, then, self.conditional())
        otherwise: ast.Node = ast.Identity()
        if self.at("ident", "else"):
            self.take()
            otherwise = self.pipe()
        self.expect("ident", "end")
        return ast.If(cond, then, otherwise)

    def string(self, tok: Token) -> ast.Node:
        parts: list[str | ast.Node] = []
        for part in tok.value:  # type: ignore[attr-defined]
            if isinstance(part, str):
                parts.append(part)
            else:
                parts.append(_Parser(part).whole())
        if len(parts) == 1 and isinstance(parts[0], str):
            return ast.Literal(parts[0])
        return ast.Text(tuple(parts))

    def object(self) -> ast.Node:
        entries: list[tuple[ast.Node, ast.Node]] = []
        while not self.at("op", "}"):
            tok = self.take()
            key: ast.Node
            value: ast.Node | None = None
            if tok.kind == "ident" and "::" not in tok.text and tok.text != "__loc__":
                key = ast.Literal(tok.text)
                value = ast.Index(ast.Identity(), key)
            elif tok.kind == "var" and tok.text not in ("$__loc__", "$ENV") \
                    and "::" not in tok.text:
                if self.at("op", ":"):
                    raise Unsupported("variable key")
                key = ast.Literal(tok.text[1:])
                value = ast.Var(tok.text[1:])
            elif tok.kind == "str":
                key = self.string(tok)
                value = ast.Index(ast.Identity(), key)
            elif tok.kind == "op" and tok.text == "(":
                key = self.pipe()
                self.expect("op", ")")
                value = None
            else:
                raise Unsupported(f"object key {tok.text!r}")
            if self.at("op", ":"):
                self.take()
                value = self.pipe(comma=False)
            elif value is None:
                raise Unsupported("computed key without value")
            entries.append((key, value))
            if not self.at("op", "}"):
                self.expect("op", ",")
        self.take()
        return ast.Object(tuple(entries))
