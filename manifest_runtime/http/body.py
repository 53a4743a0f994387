"""A response body as the runtime sees it: the JSON value when the text parses, else the text
("" when empty). The value is the one `json.loads(response.text)` gives; orjson computes it
(about twice as fast on API pages) whenever it is sure to give the same:

* the text is UTF-8 (the response's charset, or none: httpx's default) and valid, so the
  bytes orjson reads decode to exactly that text (invalid bytes become U+FFFD in `.text`:
  orjson refuses them, and the text is parsed as before);
* orjson refuses everything `json.loads` refuses (it is stricter), and what it refuses but
  `json.loads` takes (NaN, Infinity, numbers beyond a double such as 1e400, lone surrogate
  escapes, a byte-order mark) goes to `json.loads` as before;
* where both parse, the values are equal, floats bit for bit (both round correctly), with
  one exception: an integer beyond 64 bits, which orjson turns into a float. A body with a run
  of 19 digits or more anywhere (in a number or a string alike) is parsed by `json.loads`.
  Duplicate keys: the last value, at the first key's place, in both.

Nested deeper than `json.loads` can go (~1,000 levels; orjson stops at 1,024) the body is
kept as text, as any other text that does not parse.

A body parsed by orjson without a run of 16 digits is noted for the jq fast path's output
check (jqfast/parsed.py). `tests/http/test_body.py` compares both parsers on a corpus of edge
cases and generated bodies."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable
from typing import Any

from ..jqfast.parsed import note_parsed

_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19  # a 19-digit integer may not fit 64 bits (orjson: a float)
_SAFE_RUN = b"0" * 16  # none: every integer is below 2**53 (jqfast/parsed.py)
_UTF8: dict[str, bool] = {}


def parse_body(content: bytes, encoding: str | None, text: Callable[[], str]) -> Any:
    """The body of a response: `content` its bytes, `encoding` the charset its text is decoded
    with (None: UTF-8), `text` that text (decoded only when needed)."""
    if content and _is_utf8(encoding):
        try:
            value = _orjson_loads(content)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            pass
        else:
            digits = content.translate(_TO_ZERO)
            if _SAFE_RUN not in digits:  # no integer beyond 2**53: canon's C check applies
                note_parsed(value)
                return value
            if _LONG_RUN not in digits:
                return value
    return parse_text(text())


def parse_text(text: str) -> Any:
    if not text:
        return ""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # nested too deep for json: kept as text, no crash
        return text


def _is_utf8(encoding: str | None) -> bool:
    if encoding is None:
        return True
    known = _UTF8.get(encoding)
    if known is None:
        try:
            known = codecs.lookup(encoding).name == "utf-8"
        except LookupError:
            known = False
        _UTF8[encoding] = known
    return known


def _orjson_loads(content: bytes) -> Any:
    if not _LOADS:  # imported on the first response: a run without HTTP never loads it
        import orjson

        _LOADS.append(orjson.loads)
    return _LOADS[0](content)


_LOADS: list[Callable[[bytes], Any]] = []
