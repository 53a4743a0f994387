"""Every command's run semantics, driven by tests/commands/cases/<command>.yaml.

A case: `command` (the raw command as in a manifest, JSON form), `input`, `context` (roots,
`data` for the store, `contact`, `responses` for HTTP fakes, ...), then `output` or `error`
(a diagnostic code, optionally `message` fragments and the exact `notes`), and optional
`expect`: `saved`, `logged`, `requests` (subset-compared with what the HTTP handler saw),
`contacts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from evalcase import compile_raw, make_context, request_view

from manifest_runtime.errors import EvaluationError
from manifest_runtime.runtime import evaluate

CASES_DIR = Path(__file__).parent / "cases"


def _load() -> list[Any]:
    out = []
    for file in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(file.read_text(encoding="utf-8")):
            out.append(pytest.param(case, id=f"{file.stem}: {case['name']}"))
    return out


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(
            _subset(e, a) for e, a in zip(expected, actual, strict=True))
    return bool(expected == actual)


@pytest.mark.parametrize("case", _load())
def test_case(case: dict[str, Any]) -> None:
    node, errors = compile_raw(case["command"])
    assert not errors, [d.message for d in errors]
    h = make_context(case.get("context"))
    if "error" in case:
        with pytest.raises(EvaluationError) as info:
            evaluate(node, case.get("input"), h.ctx)
        d = info.value.diagnostic
        assert d.code == case["error"], d.message
        for fragment in case.get("message", []):
            assert fragment in d.message
        if "notes" in case:
            assert list(d.notes) == case["notes"]
        assert d.path, "an evaluation error is located"
    else:
        assert "output" in case, "a case states its output or its error"
        assert evaluate(node, case.get("input"), h.ctx) == case["output"]
    expect = case.get("expect") or {}
    if "saved" in expect:
        assert h.store.scopes == expect["saved"]
    if "logged" in expect:
        assert h.logged == expect["logged"]
    if "requests" in expect:
        seen = [request_view(r) for r in h.requests]
        assert _subset(expect["requests"], seen), seen
    if "contacts" in expect:
        assert _subset(expect["contacts"], h.account.contacts), h.account.contacts
