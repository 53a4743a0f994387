"""Response bodies (http/body.py): the value is `json.loads(response.text)`'s (else the text,
"" when empty) whether orjson or json parses it: compared on edge cases and generated bodies,
numbers bit for bit, key order and types (1 vs 1.0) included."""

from __future__ import annotations

import json
import math
import random
import struct
from typing import Any

import httpx
import pytest
from http_helpers import Harness, manifest

from manifest_runtime.http.body import parse_body
from manifest_runtime.http.types import HttpRequest


def reference(response: httpx.Response) -> Any:
    """What the runtime gave before orjson: the text through json.loads."""
    text = response.text
    if not text:
        return ""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def parsed(response: httpx.Response) -> Any:
    return parse_body(response.content, response.encoding, lambda: response.text)


def shape(value: Any) -> Any:
    """A comparable form that tells 1 from 1.0 and True, -0.0 from 0.0, and key orders apart
    (NaN equals NaN here)."""
    if isinstance(value, dict):
        return ("dict", [(k, shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [shape(v) for v in value])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    return (type(value).__name__, value)


def outcome(parse: Any, r: httpx.Response) -> Any:
    """The shape of what `parse` gives, or the exception it raises (e.g. a utf-16 charset
    without a byte-order mark makes httpx's `.text` raise, in both)."""
    try:
        return shape(parse(r))
    except UnicodeError as exc:
        return ("raises", type(exc).__name__)


def response(content: bytes, content_type: str | None = "application/json") -> httpx.Response:
    headers = {} if content_type is None else {"content-type": content_type}
    return httpx.Response(200, content=content, headers=headers)


EDGES = [
    b"", b" ", b"\n", b"null", b"true", b"0", b"-0", b"-0.0", b"0.0", b"1.0", b"1E2", b"1e-400",
    b"1e400", b"-1e400", b"1.7976931348623157e308", b"1.7976931348623157e309", b"5e-324",
    b"0.1", b"123456789.0", b"1e16", b"9007199254740993", b"-9007199254740993",
    b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
    b"-9223372036854775809", b"18446744073709551615", b"18446744073709551616",
    b"123456789012345678901234567890", b'"1234567890123456789"', b"[1e2, 100, 100.0]",
    b"NaN", b"[NaN]", b"Infinity", b"-Infinity", b'{"a": NaN}',
    b'{"a":1,"b":2,"a":3}', b'{"a":1,"b":2,"a":{"x":1},"b":[2]}', b'{"":0, "": 1}',
    b'"\\ud800"', b'"\\udc00x"', b'"\\ud83d\\ude00"', b'{"\\ud83d\\ude00": 1}', b'"\\u0000"',
    b'"a\\/b"', b'"\xff"', b'{"a": "\xc3\x28"}', b"\xef\xbb\xbf{}", b"\xef\xbb\xbf",
    b'"\x01"', b"[1,]", b"[1 2]", b"01", b".5", b"1.", b"-", b"[", b"{", b"}", b"\x00",
    b"[] x", b"[]\n\n", b" \t\r\n{} \t\r\n", b"\x0c{}", b'{"a":1}\x0b', b"\xe2\x80\xa8[]",
    b"[" * 2000 + b"]" * 2000, b"[" * 300 + b"]" * 300, b"not json", b"<html>hi</html>",
    '{"é": "☃ \u2028 ü"}'.encode(), '"\U0001F600"'.encode(),
]
CHARSETS = [None, "application/json", "application/json; charset=utf-8",
            "application/json; charset=UTF8", "text/plain; charset=latin-1",
            "application/json; charset=ascii", "application/json; charset=utf-16",
            "application/json; charset=no-such-codec"]


@pytest.mark.parametrize("content_type", CHARSETS)
def test_edge_cases_parse_as_json_loads_of_the_text(content_type: str | None) -> None:
    for content in EDGES:
        r, again = response(content, content_type), response(content, content_type)
        assert outcome(parsed, r) == outcome(reference, again), (content[:60], content_type)


def _number(rnd: random.Random) -> str:
    kind = rnd.randrange(7)
    if kind == 0:
        f = struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]
        return repr(f) if math.isfinite(f) else "1.5"
    if kind == 1:
        return str(rnd.randrange(-10**rnd.randrange(1, 24), 10**rnd.randrange(1, 24)))
    if kind == 2:
        digits = "".join(rnd.choice("0123456789") for _ in range(rnd.randrange(1, 30)))
        return f"{rnd.randrange(10**rnd.randrange(1, 20))}.{digits}e{rnd.randrange(-330, 330)}"
    if kind == 3:
        return f"{rnd.randrange(10**rnd.randrange(1, 17))}.{'0' * rnd.randrange(1, 4)}"
    if kind == 4:
        return f"-{rnd.randrange(10**rnd.randrange(1, 20))}E+{rnd.randrange(0, 25)}"
    if kind == 5:
        return rnd.choice(["0", "-0", "0.0", "-0.0", "1e400", "NaN", "2.5E-3"])
    return str(rnd.randrange(2**53 - 5, 2**53 + 5) * rnd.choice([1, -1]))


def _text(rnd: random.Random) -> str:
    pieces = ["a", "é", "☃", "\U0001F600", "\\n", "\\\"", "\\u00e9", "\\ud83d\\ude00",
              "1234567890123456789", "37.0", " ", "\\/"]
    return '"' + "".join(rnd.choice(pieces) for _ in range(rnd.randrange(0, 6))) + '"'


def _value(rnd: random.Random, depth: int) -> str:
    kind = rnd.randrange(8 if depth < 4 else 5)
    ws = rnd.choice(["", "", " ", "\n  ", "\t"])
    if kind <= 1:
        return _number(rnd)
    if kind == 2:
        return _text(rnd)
    if kind == 3:
        return rnd.choice(["true", "false", "null"])
    if kind == 4:
        return _number(rnd) if rnd.random() < 0.5 else _text(rnd)
    if kind <= 6:
        keys = [rnd.choice(["id", "a", "b", "é", "a"]) for _ in range(rnd.randrange(0, 5))]
        return "{" + ws + ("," + ws).join(f"{json.dumps(k)}:{ws}{_value(rnd, depth + 1)}"
                                          for k in keys) + ws + "}"
    return "[" + ws + ("," + ws).join(_value(rnd, depth + 1)
                                      for _ in range(rnd.randrange(0, 5))) + ws + "]"


def test_generated_bodies_parse_as_json_loads_of_the_text() -> None:
    rnd = random.Random(11)
    for _ in range(3000):
        content = _value(rnd, 0).encode()
        if rnd.random() < 0.1:  # damaged: invalid UTF-8, a cut, a stray byte
            at = rnd.randrange(len(content) + 1)
            content = content[:at] + rnd.choice([b"\xff", b"\xc3", b"", b",", b"\x00"]) \
                + content[at + rnd.choice([0, 1]):]
        r = response(content, rnd.choice(CHARSETS[:4]))
        assert shape(parsed(r)) == shape(reference(r)), content[:80]


def test_the_client_gives_the_parsed_body(harness: Harness) -> None:
    """Through HttpClient: exact big integers, floats kept as floats, text when not JSON."""
    bodies = {"/big": b'{"n": 123456789012345678901234, "f": 37.0, "i": 37}',
              "/page": b'{"data": [{"id": 1, "v": 0.1}], "meta": {"page": 1}}',
              "/text": b"plain \xff text"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[request.url.path])

    client = harness.client(manifest({"type": "token", "header_key": "K", "verify_url": "x"}),
                            handler)
    big = client.send(HttpRequest("GET", "https://api.example.test/big", "external")).body
    assert big == {"n": 123456789012345678901234, "f": 37.0, "i": 37}
    assert type(big["n"]) is int and type(big["f"]) is float
    page = client.send(HttpRequest("GET", "https://api.example.test/page", "external")).body
    assert page == {"data": [{"id": 1, "v": 0.1}], "meta": {"page": 1}}
    text = client.send(HttpRequest("GET", "https://api.example.test/text", "external")).body
    assert text == "plain \ufffd text"
