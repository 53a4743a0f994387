"""Expansion parsing, driven by tests/expressions/cases/parse.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from manifest_runtime.expressions.nodes import Expansion, Missing
from manifest_runtime.expressions.parser import TemplateSyntaxError, parse_template

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "parse.yaml").read_text())


def _plain(part: str | Expansion) -> Any:
    if isinstance(part, str):
        return part
    out: dict[str, Any] = {"root": part.root, "path": list(part.path)}
    if part.filters:
        out["filters"] = [[f.name, None if f.arg is Missing else f.arg] for f in part.filters]
    return out


@pytest.mark.parametrize("case", CASES["valid"], ids=lambda c: c["text"])
def test_valid_expansion_parses_to(case: dict[str, Any]) -> None:
    template = parse_template(case["text"])
    assert [_plain(p) for p in template.parts] == case["parts"]


@pytest.mark.parametrize("case", CASES["invalid"], ids=lambda c: c["text"])
def test_invalid_expansion_reports_code_and_column(case: dict[str, Any]) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        parse_template(case["text"])
    assert info.value.code == case["code"]
    assert info.value.span.start + 1 == case["column"]
    assert info.value.hint


def test_single_expansion_is_marked_for_native_typing() -> None:
    assert parse_template("${piped_content.1}").single is not None
    assert parse_template("x ${piped_content.1}").single is None
