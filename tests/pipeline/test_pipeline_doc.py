"""The commands of docs/pipeline.md's resume example run as written (the state file moved to
the test's own directory) and print what the page says."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_resume_example_runs_as_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    doc = (ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")
    block = doc.split("### Resume", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    commands = [shlex.split(line)[1:] for line in block.splitlines()]
    assert [c[0] for c in commands] == ["setup", "run", "run"]
    monkeypatch.chdir(ROOT)
    state = str(tmp_path / "state.db")
    for command in commands:
        command = [state if a == "pipeline-doc-state.db" else a for a in command]
        assert main(command) == 0, command
    out = capsys.readouterr().out
    assert "read 3, delivered 3, failed 0" in out
    assert "read 3, delivered 0, failed 0; 3 of them skipped, done in an earlier run" in out
    assert "3 of them skipped, done in an earlier\nrun" in doc or \
        "3 of them skipped, done in an earlier run" in doc
