"""Expansion evaluation, driven by tests/expressions/cases/evaluate.yaml."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from manifest_runtime.errors import EvaluationError
from manifest_runtime.expressions.evaluate import evaluate_template
from manifest_runtime.expressions.parser import parse_template

DATA = yaml.safe_load((Path(__file__).parent / "cases" / "evaluate.yaml").read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: c["text"])
def test_expansion_evaluates_to(case: dict[str, Any]) -> None:
    template = parse_template(case["text"])
    if "error" in case:
        with pytest.raises(EvaluationError) as info:
            evaluate_template(template, DATA["roots"], ("at",))
        assert info.value.diagnostic.code == case["error"]
        assert info.value.diagnostic.span is not None
        assert info.value.diagnostic.hint
    else:
        result = evaluate_template(template, DATA["roots"], ("at",))
        assert result == case["value"]
        assert type(result) is type(case["value"])


def test_missing_reference_names_what_exists() -> None:
    with pytest.raises(EvaluationError) as info:
        evaluate_template(parse_template("${custom_data.absent.value}"), DATA["roots"])
    message = info.value.diagnostic.message
    assert "absent" in message and "folder" in message


def test_missing_subdomain_says_where_to_set_it() -> None:
    roots = {k: v for k, v in DATA["roots"].items() if k != "subdomain"}
    with pytest.raises(EvaluationError) as info:
        evaluate_template(parse_template("https://${subdomain}.example.com"), roots)
    diagnostic = info.value.diagnostic
    assert diagnostic.code == "missing-reference"
    assert diagnostic.hint is not None
    for where in ("credentials file", "MANIFEST_RUNTIME_SUBDOMAIN", "--subdomain"):
        assert where in diagnostic.hint
    assert "default" not in diagnostic.hint


def test_evaluation_never_mutates_roots() -> None:
    before = yaml.safe_dump(DATA["roots"])
    for case in DATA["cases"]:
        with contextlib.suppress(EvaluationError):
            evaluate_template(parse_template(case["text"]), DATA["roots"])
    assert yaml.safe_dump(DATA["roots"]) == before
