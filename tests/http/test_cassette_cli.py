"""Cassettes through `manifest-runtime eval` (issue 13.7): record modes (append by default,
new, all) and request matching (--match, the cassette's `match: {ignore: [...]}`), over real
loopback HTTP (tests/http/fake_api.py), then replayed with the server gone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fake_api import running
from test_e2e_cli import Case, build

from manifest_runtime.cli import main

CONNECTION = "/workflows/0/setup/connect/describe_connection"
OPTIONS = "/workflows/0/setup/select/form_fields/0/options"
TARGET = "/workflows/0/data_pipeline/target"


def evaluate(capsys: pytest.CaptureFixture[str], case: Case, pointer: str, *options: str,
             email: str = "ada@example.com") -> tuple[int, str, str]:
    extra = ["--input", json.dumps({"email": email}),
             "--custom-data", json.dumps({"contact": "c1"})] if pointer == TARGET else []
    code = main(["eval", str(case.manifest), pointer, "--credentials", str(case.credentials),
                 *extra, *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def recorded(cassette: Path) -> list[str]:
    data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    return [f"{e['request']['method']} {e['request']['url']}"
            for e in data["interactions"] or []]


def test_two_records_keep_both_interactions_and_modes_new_and_all(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = build(tmp_path, "token", "cursor")
    cassette = tmp_path / "c.yaml"
    with running(case.server) as api:
        remap = ["--remap", f"{case.host}={api.url}", "--record", str(cassette)]
        assert evaluate(capsys, case, CONNECTION, *remap)[0] == 0
        assert evaluate(capsys, case, TARGET, *remap)[0] == 0  # appended (the default)
        assert recorded(cassette) == ["GET https://api.example.com/v1/me",
                                      "POST https://api.example.com/v1/contacts/c1/notes"]
        code, _, err = evaluate(capsys, case, CONNECTION, *remap, "--record-mode", "new")
        assert code == 2 and "the cassette exists already" in err and "Traceback" not in err
        assert len(recorded(cassette)) == 2  # untouched
    # the server is gone: both replay from the one cassette
    for pointer in (CONNECTION, TARGET):
        code, out, err = evaluate(capsys, case, pointer, "--replay", str(cassette))
        assert code == 0, err
    assert json.loads(out)["body"]["body"] == {"email": "ada@example.com"}
    with running(case.server) as api:
        code, _, err = evaluate(capsys, case, CONNECTION, "--remap", f"{case.host}={api.url}",
                                "--record", str(cassette), "--record-mode", "all")
        assert code == 0, err
    assert recorded(cassette) == ["GET https://api.example.com/v1/me"]


def test_match_parts_and_the_cassettes_ignore_list(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = build(tmp_path, "token", "cursor")
    cassette = tmp_path / "c.yaml"
    with running(case.server) as api:
        code, _, err = evaluate(capsys, case, TARGET, "--remap", f"{case.host}={api.url}",
                                "--record", str(cassette))
        assert code == 0, err
    other = "grace@example.com"
    code, _, err = evaluate(capsys, case, TARGET, "--replay", str(cassette), email=other)
    assert code == 1 and "replay-unmatched" in err
    assert "--match method,url" in err  # the hint names the ways out
    code, out, err = evaluate(capsys, case, TARGET, "--replay", str(cassette),
                              "--match", "method,url", email=other)
    assert code == 0, err
    assert json.loads(out)["body"]["body"] == {"email": "ada@example.com"}  # the recorded answer
    # a per-cassette ignore list: only that field is left out; the URL still counts
    text = cassette.read_text(encoding="utf-8")
    cassette.write_text(text.replace("interactions:", "match:\n  ignore: [body.email]\n"
                                     "interactions:", 1), encoding="utf-8")
    assert evaluate(capsys, case, TARGET, "--replay", str(cassette), email=other)[0] == 0
    code, _, err = main_error(capsys, case, cassette, '{"contact": "c2"}')
    assert code == 1 and "replay-unmatched" in err
    # appending keeps the match section
    with running(case.server) as api:
        assert evaluate(capsys, case, CONNECTION, "--remap", f"{case.host}={api.url}",
                        "--record", str(cassette))[0] == 0
    data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
    assert data["match"] == {"ignore": ["body.email"]} and len(data["interactions"]) == 2


def main_error(capsys: pytest.CaptureFixture[str], case: Case, cassette: Path,
               custom_data: str) -> tuple[int, str, str]:
    code = main(["eval", str(case.manifest), TARGET, "--credentials", str(case.credentials),
                 "--input", '{"email": "x@example.com"}', "--custom-data", custom_data,
                 "--replay", str(cassette)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(("options", "message"), [
    (["--match", "method,verb"], "--match method,verb: expected a comma-separated list"),
    (["--match", "method,url"], "--match goes with --replay"),
    (["--record-mode", "all"], "--record-mode goes with --record"),
])
def test_cassette_option_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      options: list[str], message: str) -> None:
    case = build(tmp_path, "token", "cursor")
    extra = ["--replay", str(tmp_path / "none.yaml")] if "verb" in options[1] else []
    code, _, err = evaluate(capsys, case, CONNECTION, *options, *extra)
    assert code == 2 and message in err, err


def test_a_malformed_ignore_list_is_a_usage_error(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    case = build(tmp_path, "token", "cursor")
    cassette = tmp_path / "c.yaml"
    cassette.write_text("version: 1\nmatch:\n  ignore: [headers.Date]\ninteractions:\n",
                        encoding="utf-8")
    code, _, err = evaluate(capsys, case, CONNECTION, "--replay", str(cassette))
    assert code == 2 and "ignore entry 'headers.Date' is not body.<field>" in err, err
