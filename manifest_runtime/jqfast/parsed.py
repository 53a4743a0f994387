"""Arrays straight from a JSON parser, checked for `canon` in C rather than value by value.

`canon` (values.py) walks every output of the fast path in Python. A polling request's output
is mostly a response's page (`{results: .body.data, ...}`): ~35 values per contact, ~2 ms per
1,000. http/body.py notes each body orjson parsed whose text has no run of 16 digits: such a
body holds only JSON types with string keys, no NaN or infinity (orjson refuses them) and no
integer beyond 2**53. In it, `canon` can only change integral floats into ints (and refuse
-0.0), so an item needs the Python walk only when it holds an integral float, and orjson's
text of an item shows them all: orjson writes a float ending in ".0" exactly when it is
integral below 1e16, and with "e+" exactly when it is 1e16 or more (tests/jqfast/
test_canon_parsed.py checks both claims). So for a noted array: each item serialized by
orjson (C), the texts searched by two regular expressions (C), and only the items with a hit
walked by `canon` (a hit inside a string only costs that walk). The result is `canon`'s: the
same items shared, the same ones replaced, the same Fallback.

Noted are a body and the arrays and objects one or two keys below it (`.body.data`,
`.body.result.items`), for the last few bodies: the table holds them (so an id stays theirs)
and forgets the oldest. Nothing changes a value in place in the runtime, so a noted array
stays as it was parsed."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import deque
from collections.abc import Callable
from itertools import accumulate
from typing import Any

KEEP = 2  # bodies remembered (the page in hand and the one before)
MIN_ITEMS = 16  # below this the Python walk is as fast

# id -> the container itself (the id stays its own while it is here)
PARSED: dict[int, Any] = {}
_bodies: deque[list[Any]] = deque()
# in orjson's text of one item, joined by "\n" (orjson escapes newlines inside strings)
_INTEGRAL = re.compile(rb"\.0(?=[\n,\]}]|\Z)")  # e.g. 37.0, -0.0 (shortest form: one 0)
_EXPONENT = re.compile(rb"\+(?<=e\+)")  # 1e+16, 1.5e+300: integral


def note_parsed(body: Any) -> None:
    """`body` came from orjson out of a text with no run of 16 digits (see the module doc)."""
    if type(body) is not dict and type(body) is not list:
        return
    noted = [body]
    if type(body) is dict:
        for value in body.values():
            if type(value) is dict:
                noted.append(value)
                noted.extend(v for v in value.values() if type(v) is dict or type(v) is list)
            elif type(value) is list:
                noted.append(value)
    for container in noted:
        PARSED[id(container)] = container
    _bodies.append(noted)
    while len(_bodies) > KEEP:
        for container in _bodies.popleft():
            if PARSED.get(id(container)) is container:
                del PARSED[id(container)]


def canon_list(items: list[Any], walk: Callable[[Any], Any]) -> list[Any] | None:
    """`walk(items)` (canon) for a noted array, from orjson's text of its items; None when
    that text cannot be had (the caller walks)."""
    if len(items) < MIN_ITEMS:
        return None
    try:
        texts = list(map(_dumps(), items))
    except Exception:  # e.g. nested deeper than orjson writes (254 levels)
        return None
    blob = b"\n".join(texts)
    hits = [m.start() for m in _INTEGRAL.finditer(blob)]
    hits += [m.start() for m in _EXPONENT.finditer(blob)]
    if not hits:
        return items
    ends = list(accumulate(len(text) + 1 for text in texts))  # item i ends before ends[i]
    changed: list[Any] | None = None
    for i in sorted({bisect_right(ends, at) for at in hits}):
        item = items[i]
        value = walk(item)  # raises Fallback as canon of the whole array would
        if value is not item:
            if changed is None:
                changed = list(items)
            changed[i] = value
    return items if changed is None else changed


def _dumps() -> Callable[[Any], bytes]:
    if not _DUMPS:
        import orjson

        _DUMPS.append(orjson.dumps)
    return _DUMPS[0]


_DUMPS: list[Callable[[Any], bytes]] = []
