"""One manifest per diagnostic code (tests/validate/invalid), expectations in expected.yaml;
manifests in tests/validate/valid must be valid with notes only.

An expectation gives `code`, `pointer` and `severity` of a diagnostic the case must report,
optionally its exact `hint`, optionally `absent`: diagnostics ({code, pointer}) the case
must not report, and optionally `errors`: how many errors it reports in all (one cause, one
error)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from manifest_runtime.compile import load_and_compile

HERE = Path(__file__).parent
EXPECTED = yaml.safe_load((HERE / "expected.yaml").read_text())


def test_every_case_file_has_an_expectation() -> None:
    files = {p.name for p in (HERE / "invalid").iterdir()}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_case_reports_its_code_at_its_pointer(name: str) -> None:
    want = EXPECTED[name]
    compiled = load_and_compile(str(HERE / "invalid" / name))
    found = [(d.code, d.pointer, d.severity) for d in compiled.diagnostics]
    assert (want["code"], want["pointer"], want["severity"]) in found, found
    hit = next(d for d in compiled.diagnostics
               if (d.code, d.pointer) == (want["code"], want["pointer"]))
    assert hit.line is not None and hit.line >= 1
    if "hint" in want:
        assert hit.hint == want["hint"]
    for absent in want.get("absent", []):
        assert (absent["code"], absent["pointer"]) not in [(c, p) for c, p, _ in found], found
    if "errors" in want:
        errors = [d for d in compiled.diagnostics if d.severity == "error"]
        assert len(errors) == want["errors"], errors
    assert hit.file is not None and hit.file.endswith(name)
    if want["severity"] == "error":
        assert not compiled.valid


VALID = sorted((HERE / "valid").iterdir())


@pytest.mark.parametrize("manifest", VALID, ids=lambda p: p.name)
def test_valid_manifest_is_valid_and_clean(manifest: Path) -> None:
    compiled = load_and_compile(str(manifest))
    assert compiled.valid, compiled.diagnostics
    assert [d for d in compiled.diagnostics if d.severity != "info"] == []


ALL = sorted(p for d in ("invalid", "valid", "golden") for p in (HERE / d).iterdir()
             if p.suffix in (".json", ".yaml", ".yml"))


@pytest.mark.parametrize("manifest", ALL, ids=lambda p: p.name)
def test_validate_without_keeping_nodes_reports_the_same(manifest: Path) -> None:
    """`validate` drops each workflow's nodes once compiled (keep=False): same diagnostics."""
    kept = load_and_compile(str(manifest))
    dropped = load_and_compile(str(manifest), keep=False)
    assert dropped.diagnostics == kept.diagnostics
