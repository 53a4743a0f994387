"""Every subcommand's --help ends with examples and its exit codes; a usage error prints the
subcommand's usage; under --format json a usage error is a JSON object too."""

from __future__ import annotations

import argparse
import json

import pytest

from manifest_runtime.cli import build_parser, main


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_help_has_examples_and_exit_codes(name: str, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([name, "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    examples = out.split("examples:\n", 1)[1].split("\n\n", 1)[0]
    assert f"manifest-runtime {name}" in examples
    codes = out.split("exit codes:\n", 1)[1]
    assert "  0 " in codes and "  2 " in codes


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_unknown_option_prints_the_subcommands_usage(name: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([name, "--no-such-option"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: manifest-runtime {name}")
    assert "unrecognized arguments: --no-such-option" in err or "invalid choice" in err \
        or "required" in err


def test_usage_error_under_format_json_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "m.yaml", "--format", "json", "--frobnicate"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report == {"ok": False, "command": "validate", "error": {
        "code": "usage", "message": "unrecognized arguments: --frobnicate", "exit_code": 2}}
    assert captured.err.startswith("usage: manifest-runtime validate")


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_has_a_json_output(name: str) -> None:
    """`--format json` everywhere (init: its --format is the manifest's, --json the
    summary's)."""
    parser = _subcommands()[name]
    if name == "state":
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = next(iter(sub.choices.values()))
    options = {s: a for a in parser._actions for s in a.option_strings}
    if name == "init":
        assert "--json" in options and options["--format"].choices == ("yaml", "json")
        return
    assert "json" in (options["--format"].choices or ())
