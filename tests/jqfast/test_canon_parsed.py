"""`canon` of a response's array checked in C (jqfast/parsed.py): the same result as the
Python walk (values, types, key order, which items are shared) and as libjq, the same
Fallback, on generated pages; and the claim it rests on, orjson's text of floats."""

from __future__ import annotations

import json
import math
import random
import struct
from typing import Any

import jq
import orjson
import pytest

from manifest_runtime.http.body import parse_body
from manifest_runtime.jqfast import compile_program, is_fast
from manifest_runtime.jqfast import parsed as P
from manifest_runtime.jqfast.values import Fallback, canon


def shape(value: Any) -> Any:
    if isinstance(value, dict):
        return ("dict", [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [shape(v) for v in value])
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, value)


def test_orjson_writes_a_float_with_dot_zero_or_e_plus_exactly_when_it_is_integral() -> None:
    rnd = random.Random(3)
    for _ in range(200_000):
        kind = rnd.randrange(3)
        if kind == 0:
            f = float(rnd.randrange(-10**rnd.randrange(1, 25), 10**rnd.randrange(1, 25)))
        elif kind == 1:
            f = struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]
        else:
            f = rnd.choice([-1.0, 1.0]) * 2.0 ** rnd.randrange(-60, 1023) * rnd.choice([1, 3])
        if not math.isfinite(f):
            continue
        text = orjson.dumps(f)
        assert (text.endswith(b".0") or b"e+" in text) == f.is_integer(), (f, text)
    assert orjson.dumps(-0.0) == b"-0.0"


NUMBERS = ["37.0", "37", "12.05", "0.1", "0.0", "2.5e-3", "7", "100.00", "1E2",
           "123456789012345", "-5"] * 20 + ["-0.0", "1e16", "1.5e300"]  # Fallback (rarely)
TEXTS = ['"a.0,b"', '"e+1"', '"x.0]"', '"ok"', '"1.0"', '"\\n.0"', '"é"', "null", "true"]


def _value(rnd: random.Random, depth: int) -> str:
    kind = rnd.randrange(6 if depth < 3 else 4)
    if kind <= 1:
        return rnd.choice(NUMBERS)
    if kind <= 3:
        return rnd.choice(TEXTS)
    if kind == 4:
        keys = rnd.sample(["id", "v", "w", "tags", "n"], rnd.randrange(0, 5))
        return "{" + ",".join(f'"{k}": {_value(rnd, depth + 1)}' for k in keys) + "}"
    return "[" + ", ".join(_value(rnd, depth + 1) for _ in range(rnd.randrange(0, 4))) + "]"


def _page(rnd: random.Random, clean: float) -> bytes:
    items = []
    for _ in range(rnd.randrange(0, 60)):
        items.append('{"id": 1, "ok": "x"}' if rnd.random() < clean else _value(rnd, 1))
    return ('{"data": [' + ", ".join(items) + '], "meta": {"page": 1, "list": ['
            + ", ".join(_value(rnd, 2) for _ in range(20)) + "]}}").encode()


def _canon(value: Any) -> Any:
    try:
        return canon(value)
    except Fallback:
        return Fallback


@pytest.mark.parametrize("clean", [0.0, 0.97])
def test_a_noted_page_gives_what_the_python_walk_gives(clean: float) -> None:
    rnd = random.Random(int(clean * 10) + 7)
    seen = {"fallback": 0, "changed": 0, "same": 0}
    for _ in range(400):
        content = _page(rnd, clean)
        body = parse_body(content, None, content.decode)
        for array in (body["data"], body["meta"]["list"]):
            assert P.PARSED.get(id(array)) is array  # noted by parse_body
            copy = json.loads(content)  # the same values, not noted: the Python walk
            other = copy["data"] if array is body["data"] else copy["meta"]["list"]
            fast, walked = _canon(array), _canon(other)
            if walked is Fallback:
                assert fast is Fallback
                seen["fallback"] += len(array) >= P.MIN_ITEMS
                continue
            assert fast is not Fallback and shape(fast) == shape(walked)
            # the same items shared with the input, the same ones new
            assert (fast is array) == (walked is other)
            assert [a is b for a, b in zip(fast, array, strict=True)] == \
                [a is b for a, b in zip(walked, other, strict=True)]
            if len(array) >= P.MIN_ITEMS:
                seen["same" if fast is array else "changed"] += 1
    assert min(seen.values()) >= 5, seen


def test_the_polling_request_on_the_fast_path_equals_libjq_on_noted_pages() -> None:
    program = "{results: .body.data, iterate: (.body.meta.page < 3), " \
        "polling_state: {page: (.body.meta.page + 1)}}"
    fast = compile_program(program, "fast")
    assert is_fast(fast)
    libjq = jq.compile(program)
    rnd = random.Random(5)
    for _ in range(200):
        content = _page(rnd, 0.5)
        value = {"status": 200, "headers": {}, "body": parse_body(content, None, content.decode)}
        got = fast.input_value(value).all()
        want = libjq.input_value(json.loads(json.dumps({**value, "body": json.loads(content)}))
                                 ).all()
        assert json.dumps(got) == json.dumps(want)


def test_only_the_last_bodies_are_noted_and_a_long_digit_run_is_never() -> None:
    bodies = [parse_body(b'{"data": [1.0, 2]}', None, str) for _ in range(P.KEEP + 1)]
    assert all(P.PARSED.get(id(b["data"])) is b["data"] for b in bodies[1:])
    assert P.PARSED.get(id(bodies[0]["data"])) is not bodies[0]["data"]
    big = parse_body(b'{"data": [1.0, 1234567890123456]}', None, str)
    assert P.PARSED.get(id(big["data"])) is not big["data"]
    assert canon(big["data"]) == [1, 1234567890123456]
