"""`json_line` writes exactly what `json.dumps(value, ensure_ascii=False)` writes (the dry
runs' output lines), and refuses what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from manifest_runtime.cli.json_lines import json_line

VALUES: list[Any] = [
    None, True, False, 0, -1, 2**60, 1.0, 0.1, 1e300, -0.0, float("nan"), float("inf"), "",
    "é ☃ \"q\" \\ \n \t \u2028 \ud800", [], {}, [1, [2, [3]]], {"b": 1, "a": {"c": [None]}},
    {"email": "ada@example.com", "_tags": ["x", "y"], "n": 3.5, "ok": True},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_the_same_text_as_json_dumps(value: Any) -> None:
    assert json_line(value) == json.dumps(value, ensure_ascii=False)


def test_what_json_cannot_write_is_refused() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_line({"a": {1, 2}})
