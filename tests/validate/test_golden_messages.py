"""The exact text users read: `validate -v` output (notes included) for a few broken manifests
(golden files).

Run `pytest --update-golden` to rewrite the .txt files, then review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from manifest_runtime.cli import main

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".json", ".yaml", ".yml"))


@pytest.mark.parametrize("manifest", CASES, ids=lambda p: p.name)
def test_rendered_messages_match_golden(
    manifest: Path, update_golden: bool, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(GOLDEN)
    code = main(["validate", "-v", manifest.name])
    out = capsys.readouterr().out
    expected = manifest.with_suffix(".txt")
    if update_golden:
        expected.write_text(out)
    assert code == 1
    assert out == expected.read_text()
