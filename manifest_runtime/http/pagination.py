"""`"pagination": true` on `!http`: follow `api.pagination` and concatenate the pages.

Styles (reference §3.3): `page` (page_number, page_size), `limitoffset` (limit, offset) and
`cursor` (limit, ordering, and the token from the `next_result_token` parser sent as the
`cursor` param, or as `style.cursor.param` when given, whose `value`, if any, is the first
page's cursor; a token that is a URL is fetched as is). `extra` (an object or a list of
`{param, value}`) adds fixed query parameters.

Parsers run on each page's parsed body: `total_pages`, `next_page_url`, `total_items`,
`next_result_token`. A parser written without the leading dot (`page_count`) means the field
(`.page_count`), not a jq function call.

The combined response has the pages' shape: its item array holds every page's items, and
everything else (cursors, next links, page numbers, totals; the status and headers too) is
the **last** page's, so a merged result never claims more pages (a jq step reading
`.next_cursor` of the merged body sees the last page's, null when paging ended). The last page
is the last one fetched with a 2xx status: an empty final page counts (it usually says "no
more"). `content-length` / `content-encoding` are dropped (they described one page's bytes).

The item array is the body itself when it is a list, else its array-valued top-level key: the
only one, or, when there are several, the only non-empty one on the first page. Several
non-empty arrays are ambiguous: an error (`pagination-items`) when a parser says there are more
pages, else the first page is returned as is (as is a body with no array).

Paging stops at the parser's end (total pages or items reached, no next URL or token), on an
empty page, on a page repeating the previous one, or after MAX_PAGES pages; stopping at the cap
while another page seems to exist is reported through `notice`. A non-2xx page is returned as
is. A bare cursor token is always sent with the first page's parameters (limit, ordering,
extra), even after a token that was a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from ..commands.jq import BARE_PATH, JqNode, compile_jq_text
from ..errors import Diagnostic, EvaluationError
from ..expressions.evaluate import evaluate_expansion
from ..model import Command, CompiledManifest
from .config import api_value
from .types import HttpResponse

MAX_PAGES = 100
STYLES = ("page", "limitoffset", "cursor")
PARSER_PATH = ("api", "pagination", "parser")

Fetch = Callable[[str | None, dict[str, Any]], HttpResponse]  # (next URL or None, params)
Notice = Callable[[str], None]
# headers describing page 1's bytes, wrong for the combined (re-built, decoded) body
_BYTE_HEADERS = frozenset({"content-length", "content-encoding"})


@dataclass(frozen=True)
class Parser:
    name: str
    source: str
    program: Any = field(compare=False)
    node: JqNode | None = field(default=None, compare=False)

    def __call__(self, body: Any, roots: dict[str, Any]) -> Any:
        value: Any = body
        if self.node is not None and self.node.variables:
            value = [body, *(evaluate_expansion(v, roots, self.node.path)
                             for v in self.node.variables)]
        try:
            return self.program.input_value(value).first()
        except StopIteration:
            return None
        except ValueError as exc:
            raise EvaluationError(Diagnostic(
                "pagination-parser", f"api.pagination.parser.{self.name} ({self.source!r}) "
                f"failed: {str(exc).splitlines()[0]}", (*PARSER_PATH, self.name),
            )) from None


@dataclass(frozen=True)
class Param:
    param: str
    value: Any


@dataclass(frozen=True)
class PaginationSettings:
    style: str
    params: dict[str, Param]  # page_number, page_size, limit, offset, ordering, cursor
    extra: tuple[Param, ...] = ()
    parsers: dict[str, Parser] = field(default_factory=dict)
    max_pages: int = MAX_PAGES


def _param(raw: Any) -> Param | None:
    if isinstance(raw, dict) and isinstance(raw.get("param"), str) and raw["param"]:
        return Param(raw["param"], raw.get("value"))
    return None


def _extra(raw: Any) -> tuple[Param, ...]:
    entries = raw if isinstance(raw, list) else [raw]
    return tuple(p for p in (_param(e) for e in entries) if p is not None)


def _parser(compiled: CompiledManifest, name: str, raw: Any) -> Parser | None:
    text = raw.get("!jq") if isinstance(raw, dict) else raw
    if not isinstance(text, str) or not text.strip():
        return None
    if BARE_PATH.match(text):  # `page_count` is the field `.page_count`, not a function call
        return Parser(name, text, compile_jq_text("." + text.strip()))
    node = compiled.node_at((*PARSER_PATH, name))
    if isinstance(node, Command) and isinstance(node.node, JqNode):
        return Parser(name, text, node.node.program, node.node)
    try:
        return Parser(name, text, compile_jq_text(text))
    except ValueError as exc:
        raise EvaluationError(Diagnostic(
            "pagination-parser", f"api.pagination.parser.{name}: jq program {text!r} does not "
            f"compile: {str(exc).splitlines()[0]}", (*PARSER_PATH, name))) from None


def pagination_settings(compiled: CompiledManifest) -> PaginationSettings | None:
    """api.pagination, or None when absent or without a known style."""
    raw = api_value(compiled, "pagination")
    if not isinstance(raw, dict) or not isinstance(raw.get("style"), dict):
        return None
    style = raw["style"]
    kind = style.get("type")
    if kind not in STYLES:
        return None
    params = {k: p for k in ("page_number", "page_size", "limit", "offset", "ordering", "cursor")
              if (p := _param(style.get(k))) is not None}
    parsers_raw = raw.get("parser")
    parsers: dict[str, Parser] = {}
    for name, value in (parsers_raw.items() if isinstance(parsers_raw, dict) else ()):
        parser = _parser(compiled, str(name), value)
        if parser is not None:
            parsers[str(name)] = parser
    return PaginationSettings(str(kind), params, _extra(style.get("extra")), parsers)


def array_keys(body: Any) -> list[str]:
    """The array-valued top-level keys of an object body (none for other bodies)."""
    return [k for k, v in body.items() if isinstance(v, list)] if isinstance(body, dict) else []


def find_items(body: Any) -> tuple[str | None, list[Any]] | None:
    """(key, items): the body itself when a list (key None), else its one array-valued key, or
    among several the one that is non-empty. None when there is no such array, or when several
    arrays are non-empty (ambiguous) or all are empty."""
    if isinstance(body, list):
        return None, body
    keys = array_keys(body)
    if len(keys) > 1:
        keys = [k for k in keys if body[k]]
    if len(keys) == 1:
        return keys[0], body[keys[0]]
    return None


def _items(body: Any, key: str | None) -> list[Any] | None:
    if key is None:
        return body if isinstance(body, list) else None
    value = body.get(key) if isinstance(body, dict) else None
    return value if isinstance(value, list) else None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _ok(response: HttpResponse) -> bool:
    return 200 <= response.status < 300


class Paginator:
    """Walks the pages of one request. `fetch(url, params)` sends one page: url None means the
    original URL with `params` merged over the request's own; a URL is fetched as given."""

    def __init__(self, settings: PaginationSettings, fetch: Fetch, base_url: str,
                 roots: dict[str, Any], notice: Notice | None = None) -> None:
        self.s = settings
        self.fetch = fetch
        self.url = base_url
        self.roots = roots
        self.notice = notice
        self.base: dict[str, Any] = {}  # the first page's params, kept for bare cursor tokens

    def parse(self, name: str, body: Any) -> Any:
        parser = self.s.parsers.get(name)
        return parser(body, self.roots) if parser is not None else None

    def initial_params(self) -> dict[str, Any]:
        params = {p.param: p.value for p in self.s.extra}
        get = self.s.params.get
        names = {"page": ("page_number", "page_size"), "limitoffset": ("limit", "offset"),
                 "cursor": ("limit", "ordering", "cursor")}[self.s.style]
        for name in names:
            p = get(name)
            if p is not None and p.value is not None:
                params[p.param] = p.value
        page = get("page_number")
        if self.s.style == "page" and page is not None and page.value is None:
            params[page.param] = 1
        offset = get("offset")
        if self.s.style == "limitoffset" and offset is not None and offset.value is None:
            params[offset.param] = 0
        return params

    def run(self) -> HttpResponse:
        params = self.base = self.initial_params()
        first = self.fetch(None, params)
        if not _ok(first):
            return first
        found = find_items(first.body)
        if found is None:
            self.check_ambiguous(first.body, params)
            return first
        key, items = found
        collected = list(items)
        body, previous, pages, last = first.body, items, 1, first
        while items:
            step = self.next_step(body, params, len(collected), len(items), pages)
            if step is None:
                break
            if pages >= self.s.max_pages:
                if self.notice is not None:
                    self.notice(f"pagination stopped at {self.s.max_pages} pages "
                                f"({len(collected)} items); more pages may exist")
                break
            url, params = step
            response = self.fetch(url, params)
            if not _ok(response):
                return response
            page_items = _items(response.body, key)
            if page_items is not None:  # an empty or repeated page still has the last word
                last = response
            if not page_items or page_items == previous:
                break
            collected += page_items
            body, previous, items, pages = response.body, page_items, page_items, pages + 1
        combined = collected if key is None else {**last.body, key: collected}
        headers = {k: v for k, v in last.headers.items() if k.lower() not in _BYTE_HEADERS}
        return HttpResponse(last.status, headers, combined)

    def check_ambiguous(self, body: Any, params: dict[str, Any]) -> None:
        """Several non-empty arrays on the first page: fine when it is the only page; an error
        when a parser says another page exists (its items could not be put together)."""
        keys = [k for k in array_keys(body) if body[k]]
        if len(keys) < 2 or not self.more_pages_hinted(body, params, keys):
            return
        listing = ", ".join(repr(k) for k in keys)
        raise EvaluationError(Diagnostic(
            "pagination-items",
            f"cannot paginate: the first page has several non-empty arrays ({listing}) and "
            "the pagination parser says there are more pages; the items must be the only "
            "non-empty array-valued top-level key of each page",
            ("api", "pagination"),
            hint="ask the API for a response with one item array (e.g. a parameter that "
                 "leaves the others out), or drop \"pagination\": true and request the "
                 "pages one by one",
        ))

    def more_pages_hinted(self, body: Any, params: dict[str, Any], keys: list[str]) -> bool:
        """Does a parser (not the parser-less fallback) say there is another page?"""
        style, parsers = self.s.style, self.s.parsers
        if style == "limitoffset":  # more items than the shortest candidate array holds
            total = _as_int(self.parse("total_items", body))
            return total is not None and total > min(len(body[k]) for k in keys)
        name = "next_result_token" if style == "cursor" else "next_page_url"
        if name in parsers:
            return self._follow(self.parse(name, body), params, None) is not None
        total = _as_int(self.parse("total_pages", body)) if style == "page" else None
        return total is not None and total > 1

    def next_step(self, body: Any, params: dict[str, Any], collected: int, count: int,
                  pages: int) -> tuple[str | None, dict[str, Any]] | None:
        """(URL to fetch or None for the original, params) for the next page; None = done."""
        style, get = self.s.style, self.s.params.get
        if style == "page":
            if "next_page_url" in self.s.parsers:
                return self._follow(self.parse("next_page_url", body), params, None)
            total = _as_int(self.parse("total_pages", body))
            if total is not None and pages >= total:
                return None
            page = get("page_number")
            if page is None:
                return None
            current = _as_int(params.get(page.param))
            return None, {**params, page.param: (current if current is not None else 1) + 1}
        if style == "limitoffset":
            total = _as_int(self.parse("total_items", body))
            if total is not None and collected >= total:
                return None
            offset = get("offset")
            if offset is None:
                return None
            current = _as_int(params.get(offset.param)) or 0
            return None, {**params, offset.param: current + count}
        token = self.parse("next_result_token", body)
        cursor = get("cursor")
        return self._follow(token, params, cursor.param if cursor else "cursor")

    def _follow(self, nxt: Any, params: dict[str, Any], param: str | None
                ) -> tuple[str | None, dict[str, Any]] | None:
        """A URL is fetched as given; a bare token goes with the first page's parameters (not
        the previous page's, which are empty after a URL)."""
        if nxt is None or nxt == "" or nxt is False:
            return None
        text = str(nxt)
        if param is None or text.startswith(("http://", "https://", "/")):
            return urljoin(self.url, text), {}
        return None, {**self.base, param: text}


def paginate(settings: PaginationSettings, fetch: Fetch, url: str,
             roots: dict[str, Any] | None = None,
             notice: Notice | None = None) -> HttpResponse:
    """Every page of one request, combined. `notice(message)`, when given, hears about paging
    cut short by the page cap (MAX_PAGES)."""
    return Paginator(settings, fetch, url, roots or {}, notice).run()
