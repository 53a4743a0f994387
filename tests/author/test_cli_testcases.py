"""`manifest-runtime test`: case files run through eval's engine; the bundled examples' cases
pass; failures show a diff; --update writes the actual outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from manifest_runtime.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(ROOT.glob("examples/*/tests.yaml"))


@pytest.mark.parametrize("cases", EXAMPLES, ids=lambda p: p.parent.name)
def test_bundled_example_cases_pass(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest = next(cases.parent.glob("manifest.*"))
    assert main(["test", str(manifest)]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "FAILED" not in out and " passed in " in out


def test_every_example_ships_cases() -> None:
    assert {p.parent for p in EXAMPLES} == {p.parent for p in ROOT.glob("examples/*/manifest.*")}


def _copy(tmp_path: Path) -> Path:
    src = ROOT / "examples/activetrail-contacts"
    for name in ("manifest.yaml", "cassette.yaml", "tests.yaml"):
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def test_a_wrong_expectation_fails_with_a_diff_then_update_fixes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(tmp_path)
    cases = folder / "tests.yaml"
    cases.write_text(cases.read_text().replace("last_name: Lovelace, sms: \"+15550100\", _tags",
                                               "last_name: Byron, sms: \"+15550100\", _tags"))
    assert main(["test", str(folder / "manifest.yaml")]) == 1
    out = capsys.readouterr().out
    assert "tests.yaml::source flattens a member and tags it FAILED" in out
    assert '-  "last_name": "Byron",' in out and '+  "last_name": "Lovelace",' in out
    assert "--- expect" in out and "+++ actual" in out
    assert "1 failed" in out and "4 passed" in out
    assert main(["test", str(folder / "manifest.yaml"), "--update"]) == 0
    capsys.readouterr()
    text = cases.read_text()
    assert text.startswith("# Test cases of manifest.yaml")  # the opening comment is kept
    assert "Byron" not in text
    assert main(["test", str(folder / "manifest.yaml")]) == 0


def test_expect_error_mismatch_and_unexpected_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(tmp_path)
    (folder / "more.yaml").write_text(
        "- name: wrong code\n  pointer: /workflows/0/data_pipeline/source\n"
        "  input: {member: x}\n  expect_error: http-status\n"
        "- name: no cassette\n  pointer: /workflows/0/setup/connect/describe_connection\n"
        "  expect: {}\n")
    assert main(["test", str(folder / "manifest.yaml"), str(folder / "more.yaml"),
                 "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["passed"], report["failed"], report["error"]) == (0, 1, 1)
    wrong, offline = report["cases"]
    assert wrong["reason"].startswith("expected error http-status, got jq-runtime")
    assert wrong["error"]["line"] is not None  # located in the manifest
    assert offline["outcome"] == "error" and "cassette" in offline["error"]["hint"]


@pytest.mark.parametrize(("text", "message"), [
    ("- {pointer: /x, expect: 1}", "'name' is required"),
    ("- {name: a, expect: 1}", "'pointer' is required"),
    ("- {name: a, pointer: /x}", "exactly one of 'expect' or 'expect_error'"),
    ("- {name: a, pointer: /x, expect: 1, expcet: 2}", "unknown key 'expcet'"),
    ("- {name: a, pointer: /x, expect: 1, roots: {polling: 1}}", "roots: unknown 'polling'"),
    ("{name: a}", "expected a list of cases"),
    ("- {name: a, pointer: /x, expect: 1}\n- {name: a, pointer: /x, expect: 1}",
     "a second case named 'a'"),
])
def test_malformed_case_files_are_usage_errors(tmp_path: Path, text: str, message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(tmp_path)
    (folder / "bad.yaml").write_text(text + "\n")
    assert main(["test", str(folder / "manifest.yaml"), str(folder / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.yaml" in err


def test_no_case_file_says_where_it_looked(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(ROOT / "examples/activetrail-contacts/manifest.yaml", tmp_path / "m.yaml")
    assert main(["test", str(tmp_path / "m.yaml")]) == 2
    assert "no tests.yaml beside" in capsys.readouterr().err


def test_cases_seed_saved_data_and_polling_state(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    manifest = ROOT / "tests/pipeline/polling.yaml"
    (tmp_path / "c.yaml").write_text(
        "- name: pre_poll counts cycles\n  pointer: /data_intake/new_leads/pre_poll\n"
        "  roots: {polling_state: {page: 3, cycles: 1}}\n"
        "  expect: {polling_state: {page: 3, cycles: 2}}\n")
    assert main(["test", str(manifest), str(tmp_path / "c.yaml")]) == 0, \
        capsys.readouterr().out


def test_trace_shows_each_step_of_a_case(capsys: pytest.CaptureFixture[str]) -> None:
    manifest = ROOT / "examples/twilio-sms/manifest.json"
    assert main(["test", str(manifest), "-k", "sender", "--trace"]) == 0
    captured = capsys.readouterr()
    assert "trace: /workflows/0/data_pipeline/target/!pipe/0 !jq" in captured.err
    assert '"+12025550173"' in captured.err and "1 passed" in captured.out


def test_a_case_whose_custom_data_is_not_an_object_is_an_error_in_its_words(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _copy(tmp_path)
    (folder / "bad.yaml").write_text("- {name: a, pointer: /workflows/0/data_pipeline/source, "
                                     "input: {}, expect: 1, custom_data: 5}\n")
    assert main(["test", str(folder / "manifest.yaml"), str(folder / "bad.yaml")]) == 1
    out = capsys.readouterr().out
    assert "a case's custom_data must be an object" in out and "--custom-data" not in out
