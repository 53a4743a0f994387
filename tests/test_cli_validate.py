"""`manifest-runtime validate`: exit codes, JSON output, --strict, and no tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from manifest_runtime.cli import main
from manifest_runtime.errors import Diagnostic, Span
from manifest_runtime.report import render_one

ROOT = Path(__file__).resolve().parent.parent
TWILIO = str(ROOT / "examples/twilio-sms/manifest.json")
INVALID = str(ROOT / "tests/validate/invalid/unknown-key-workflow.yaml")


def test_valid_manifest_exits_0_with_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", TWILIO]) == 0
    assert "valid (0 errors, 2 warnings" in capsys.readouterr().out


def test_strict_makes_warnings_fail(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--strict", TWILIO]) == 1


def test_invalid_manifest_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", INVALID]) == 1
    assert "error[unknown-key]" in capsys.readouterr().out


def test_json_format_is_one_object_per_design(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", TWILIO, INVALID]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    keys = {"code", "severity", "message", "pointer", "file", "line", "column", "end_line",
            "end_column", "hint"}
    assert all(set(d) == keys for d in report["diagnostics"])
    assert {d["file"] for d in report["diagnostics"]} == {TWILIO, INVALID}
    bad = next(d for d in report["diagnostics"] if d["code"] == "unknown-key")
    assert bad["pointer"] == "/workflows/0/labl" and bad["line"] > 0


def test_missing_file_is_a_load_diagnostic(capsys: pytest.CaptureFixture[str]) -> None:
    # like a directory or a wrong extension: exit 1, and the other files are still validated
    assert main(["validate", "no/such/manifest.json", TWILIO]) == 1
    out = capsys.readouterr().out
    assert "no/such/manifest.json: error[load]: no such file: no/such/manifest.json" in out
    assert "no/such/manifest.json: invalid (1 error" in out
    assert f"{TWILIO}: valid (0 errors, 2 warnings" in out


@pytest.mark.parametrize(("make", "says"), [
    (lambda p: p.mkdir(), "is a directory, not a manifest file"),
    (lambda p: p.write_text("{}"), "unsupported file type '.txt'"),
])
def test_unreadable_file_is_a_load_diagnostic(tmp_path: Path, make: Any, says: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "manifest.txt"
    make(target)
    assert main(["validate", str(target), TWILIO]) == 1
    out = capsys.readouterr().out
    assert f"{target}: error[load]: " in out and says in out
    assert f"{TWILIO}: valid" in out


def test_missing_file_is_in_the_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "json", "no/such/manifest.json", INVALID]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False
    missing = [d for d in report["diagnostics"] if d["file"] == "no/such/manifest.json"]
    assert [(d["code"], d["severity"], d["message"]) for d in missing] == [
        ("load", "error", "no such file: no/such/manifest.json")]
    assert any(d["file"] == INVALID and d["code"] == "unknown-key"
               for d in report["diagnostics"])


@pytest.mark.parametrize("value", ["abc", "-1"])
def test_bad_max_bytes_variable_is_a_usage_error(value: str) -> None:
    env = {**os.environ, "MANIFEST_RUNTIME_MAX_BYTES": value}
    proc = subprocess.run([sys.executable, "-m", "manifest_runtime", "validate", TWILIO],
                          capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "MANIFEST_RUNTIME_MAX_BYTES" in proc.stderr and repr(value) in proc.stderr


def test_bad_flag_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", "--format", "xml", TWILIO])
    assert info.value.code == 2


@pytest.mark.parametrize("content", [b"", b"\xff\xfe", b"[1,", b"{\"a\": 1, \"a\": 2}", b"null",
                                     b"[]", b"{\"workflows\": 5}", b"\"just a string\""])
def test_junk_never_gives_a_traceback(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "junk.json"
    f.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "manifest_runtime", "validate", str(f)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "junk.json" in proc.stdout


def test_lone_surrogate_is_a_located_load_error(tmp_path: Path) -> None:
    # the reviewer's t49: it used to load, then crash printing (UnicodeEncodeError)
    f = tmp_path / "m.json"
    f.write_text('{"$version": "2",\n "workflows": [{"bad\\ud800key": 1}]}')
    proc = subprocess.run([sys.executable, "-m", "manifest_runtime", "validate", str(f)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert ("m.json:2:21: error[encoding]: invalid unicode escape \\ud800 (a lone surrogate)"
            in proc.stdout)


def test_root_is_not_shown_as_slash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # RFC 6901: '/' is the key "", so a load error located by line/column has no "at" line
    f = tmp_path / "m.json"
    f.write_text('{"a": 1,}')
    assert main(["validate", str(f)]) == 1
    out = capsys.readouterr().out
    assert "error[syntax]: trailing comma" in out
    assert "  at /\n" not in out


def test_caret_under_a_long_line_stays_within_the_excerpt() -> None:
    # the reviewer's t41: a span over an 80,000-character program drew 80,000 carets
    text = "x" * 200 + "ERR" + "y" * 79_700
    for span, (col, width) in {
        Span(0, len(text)): (0, 100),  # the whole program: as wide as what is shown
        Span(200, 203): (53, 3),  # in the middle: "..." + 50 characters before it
        Span(200, 50_000): (53, 100 + 3 - 53),  # runs past the excerpt: clamped
        Span(len(text) - 1, len(text)): (102, 1),  # the last character
        Span(len(text), len(text)): (103, 1),  # the end of the program
    }.items():
        rendered = render_one(Diagnostic("jq-syntax", "jq: x", ("a",), span=span,
                                         source_text=text))
        excerpt, carets = rendered.split("\n")[2:4]
        assert len(excerpt) <= len("    | ") + 3 + 100 + 3
        marks = carets.removeprefix("    | ")
        assert (len(marks) - len(marks.lstrip(" ")), marks.count("^")) == (col, width), span
        assert set(marks.strip()) == {"^"}


def test_readme_sample_output_is_the_real_output(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """README "What `validate` tells you": each line shown is real output, in order (`...`
    stands for lines left out)."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```text\n$ manifest-runtime validate ", 1)[1].split("```", 1)[0]
    command, *shown = block.splitlines()
    monkeypatch.chdir(ROOT)
    main(["validate", *command.split()])
    real = capsys.readouterr().out.splitlines()
    position, skipping = 0, False
    for line in shown:
        if line == "...":
            skipping = True
            continue
        if skipping:
            assert line in real[position:], line
            position = real.index(line, position)
        assert real[position] == line
        position, skipping = position + 1, False


def test_notes_are_shown_only_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", TWILIO]) == 0
    quiet = capsys.readouterr().out
    assert "note[" not in quiet and "valid (0 errors, 2 warnings)" in quiet
    assert main(["validate", "-v", TWILIO]) == 0
    verbose = capsys.readouterr().out
    assert "note[http-output]" in verbose and "2 warnings, " in verbose
    assert main(["validate", "--format", "json", TWILIO]) == 0
    assert {d["severity"] for d in json.loads(capsys.readouterr().out)["diagnostics"]} == {
        "warning"}


def test_json_gives_the_range_of_the_offending_part(capsys: pytest.CaptureFixture[str]
                                                    ) -> None:
    golden = str(ROOT / "tests/validate/golden/jq-and-filter-errors.yaml")
    assert main(["validate", "--format", "json", golden]) == 1
    found = {d["code"]: d for d in json.loads(capsys.readouterr().out)["diagnostics"]}
    ranges = {code: (d["line"], d["column"], d["end_line"], d["end_column"])
              for code, d in found.items()}
    assert ranges["unknown-key"] == (11, 5, 11, 9)  # labl
    assert ranges["unknown-filter"] == (23, 70, 23, 77)  # defualt
    assert ranges["unknown-command"] == (25, 11, 25, 15)  # !htp


def test_every_diagnostic_shows_its_source_line(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted((ROOT / "tests/validate/invalid").iterdir())
    assert main(["validate", *map(str, files)]) == 1
    blocks = capsys.readouterr().out.split("\n" + str(ROOT))
    located = [b for b in blocks if "error[" in b.split("\n", 1)[0]]
    assert located and all(" | " in b for b in located)


def test_colour_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from manifest_runtime.report import use_color

    class Tty:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty(True)) and not use_color(Tty(False))  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty(True))  # type: ignore[arg-type]
    d = Diagnostic("unknown-key", "unknown key 'labl'", ("labl",), file="m.yaml", line=1,
                   column=1, end_line=1, end_column=5, snippet="labl: x", hint="h")
    coloured = render_one(d, color=True)
    assert "\x1b[" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_one(d)


def test_a_mistyped_command_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vaildate", TWILIO]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'vaildate'" in err and "did you mean 'validate'?" in err


def test_a_tag_on_a_key_is_a_located_error_with_a_hint(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`!jq resource_id: '...'` puts the tag on the key (YAML allows it); the manifest meant
    the value. The tag is not dropped silently: an error at the key, with the fix."""
    text = (ROOT / "examples/email-api-polling/manifest.yaml").read_text()
    good = "          resource_id: !jq '\"${custom_data.location.value}\"'\n"
    assert text.count(good) == 1
    line = text[:text.index(good)].count("\n") + 1
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(text.replace(good, good.replace("resource_id: !jq", "!jq resource_id:")))
    assert main(["validate", str(manifest)]) == 1
    out = capsys.readouterr().out
    assert f"manifest.yaml:{line}:11: error[tagged-key]: the tag !jq is on the key " \
        "'resource_id', not on its value" in out
    assert "at /workflows/0/setup/select/describe_selection/resource_id" in out
    assert "hint: put the tag after the colon: `resource_id: !jq ...`" in out
    assert "(1 error, 0 warnings)" in out  # the rest of the manifest is judged as written
    manifest.write_text(text)
    assert main(["validate", str(manifest)]) == 0
