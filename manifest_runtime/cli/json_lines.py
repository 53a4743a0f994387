"""One JSON value as one line of text, as `json.dumps(value, ensure_ascii=False)` writes it,
for the records `run --dry-run` and `poll --dry-run` print (one call per record).

The C encoder behind `json.dumps` is made once here instead of once per call (what
`JSONEncoder.encode` does), and without the circular-reference check: records are trees
parsed from JSON. Where the C encoder is missing, `json.dumps` itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _encoder
from typing import Any


def _default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make() -> Callable[[Any], str]:
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython has it
        return json.JSONEncoder(ensure_ascii=False).encode
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys,
    #  skipkeys, allow_nan): json.dumps' defaults with ensure_ascii=False
    chunks = make(None, _default, _encoder.encode_basestring, None, ": ", ", ", False, False,
                  True)
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))
    return encode


json_line: Callable[[Any], str] = _make()
