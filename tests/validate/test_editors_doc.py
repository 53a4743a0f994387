"""docs/editors.md: the YAML command tags it lists are exactly the commands, its settings are
valid JSON, and its commands run."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from manifest_runtime.cli import main
from manifest_runtime.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/editors.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.S)


def test_the_custom_tags_are_exactly_the_commands() -> None:
    settings = next(json.loads(b) for b in _blocks("json") if "yaml.customTags" in b)
    tags = {entry.split()[0] for entry in settings["yaml.customTags"]}
    kinds = {entry.split()[1] for entry in settings["yaml.customTags"]}
    assert tags == set(COMMANDS)
    assert kinds <= {"scalar", "sequence", "mapping"}


def test_the_settings_blocks_are_json() -> None:
    for block in _blocks("json"):
        if '"...": "..."' not in block:  # the elided manifest sketch
            json.loads(block)


def test_the_commands_run(monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    commands = [shlex.split(line) for b in _blocks("sh") for line in b.splitlines() if line]
    assert commands
    for command in commands:
        assert command[0] == "manifest-runtime"
        assert main(command[1:]) == 0, command
    assert "valid (0 errors, 0 warnings)" in capsys.readouterr().out
