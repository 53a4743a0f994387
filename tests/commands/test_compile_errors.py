"""Compile-time messages of single commands, driven by tests/commands/compile_errors.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from evalcase import compile_raw

CASES = yaml.safe_load((Path(__file__).parent / "compile_errors.yaml").read_text("utf-8"))


@pytest.mark.parametrize("case", [pytest.param(c, id=c["name"]) for c in CASES])
def test_compile_error(case: dict[str, Any]) -> None:
    _, errors = compile_raw(case["command"])
    assert len(errors) == 1, [d.message for d in errors]
    d = errors[0]
    assert d.code == case["code"], d.message
    for fragment in case.get("message", []):
        assert fragment in d.message
    for fragment in case.get("not_message", []):
        assert fragment not in d.message
    for fragment in case.get("hint", []):
        assert d.hint is not None and fragment in d.hint, d.hint
    for fragment in case.get("not_hint", []):
        assert d.hint is None or fragment not in d.hint, d.hint
    if "span" in case:
        assert d.span is not None and [d.span.start, d.span.end] == case["span"], d.span


def test_jq_error_only_in_the_compiled_form_says_so() -> None:
    # the reviewer's t41: 3,000 distinct expansions bound as jq variables exhaust jq's parser;
    # the program as written is fine, so the message must not blame it
    program = "[" + ",".join(f'"${{piped_content.0.a{i}}}"' for i in range(3000)) + "]"
    _, errors = compile_raw({"!jq": program})
    assert [d.code for d in errors] == ["jq-syntax"]
    assert "3000 distinct expansions bound as jq variables" in errors[0].message
