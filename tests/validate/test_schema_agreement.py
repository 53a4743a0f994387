"""The two schema validators agree: jsonschema-rs (the fast "valid?") and python-jsonschema
(which explains) give the same verdict on every manifest the tests hold, and on mutants of
the valid ones (keys deleted or retyped, values of the wrong type)."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

from manifest_runtime.compile.schema import _fast_validator, _validator
from manifest_runtime.errors import ManifestLoadError
from manifest_runtime.source import load_bytes, load_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

FILES = sorted(
    p for pattern in ("tests/validate/*/*", "examples/*/manifest.*", "tests/setup/manifests/*",
                      "tests/pipeline/*.yaml", "tests/intake/*.yaml")
    for p in ROOT.glob(pattern) if p.suffix in (".json", ".yaml", ".yml")
)


def _data(path: Path) -> Any:
    try:
        return load_file(str(path)).data
    except ManifestLoadError:
        return None


def _agree(data: Any) -> tuple[bool, bool]:
    fast = _fast_validator()
    assert fast is not None, "jsonschema-rs is a dependency"
    return bool(fast.is_valid(data)), not any(True for _ in _validator().iter_errors(data))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_validators_agree_on_a_case_file(path: Path) -> None:
    data = _data(path)
    if data is None:
        pytest.skip("does not load")
    fast, slow = _agree(data)
    assert fast == slow


def test_the_case_files_hold_both_verdicts() -> None:
    verdicts = {_agree(d)[1] for d in map(_data, FILES) if d is not None}
    assert verdicts == {True, False}


def test_both_validators_agree_on_mutants() -> None:
    from mutation import mutants

    rng = random.Random(9)
    checked = 0
    for path in FILES:
        if "invalid" in path.parts:
            continue
        for mutant in mutants(path.read_text(), rng, 6):
            try:
                data = load_bytes(mutant.text.encode(), "m.yaml").data
            except ManifestLoadError:
                continue
            fast, slow = _agree(data)
            assert fast == slow, (path.name, mutant.kind, mutant.where)
            checked += 1
    assert checked > 50
