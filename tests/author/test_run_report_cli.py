"""run and poll say why records failed (grouped by error code, line and one-line reason),
answer --format json, and log progress when stderr is not a terminal; on `init` manifests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from manifest_runtime.cli import main, run_report
from manifest_runtime.cli.progress import Progress

BAD = ['{"event": "contact.created", "data": {"first_name": "Nobody"}}', '"just text"']


def _scaffold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str = "inbound-webhook",
              bad: bool = True) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init", "acme", "--kind", kind, "--no-input"]) == 0
    monkeypatch.chdir(tmp_path / "acme")
    assert main(["setup", "manifest.yaml", "--answers", "answers.yaml", "--replay",
                 "cassette.yaml"]) == 0
    if bad:
        with open("payloads.jsonl", "a", encoding="utf-8") as f:
            f.write("\n".join(BAD) + "\n")


def test_a_failed_run_says_why_on_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    _scaffold(tmp_path, monkeypatch)
    capsys.readouterr()
    assert main(["run", "manifest.yaml", "--input", "payloads.jsonl"]) == 1
    out = capsys.readouterr().out
    assert "acme-contacts: read 4, delivered 2, failed 2" in out
    assert "2 failures by error code:\n" in out
    assert "  jq-runtime (1)\n    line 4 [source]: jq: Cannot index string" in out
    assert "  no-email (1)\n    line 3 [transform]: the transformed record has no email" in out
    assert "    hint: map the source field holding the email address" in out
    shown = [line for line in out.splitlines() if line.startswith("    line ")]
    assert all(len(line) <= 4 + 110 + 20 for line in shown)  # one line each, cut


def test_show_failures_limits_what_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _scaffold(tmp_path, monkeypatch)
    capsys.readouterr()
    assert main(["run", "manifest.yaml", "--input", "payloads.jsonl",
                 "--show-failures", "1"]) == 1
    out = capsys.readouterr().out
    assert "2 failures, the first 1 by error code:" in out
    assert out.count("    line ") == 1 and "1 not shown" in out
    assert main(["run", "manifest.yaml", "--input", "payloads.jsonl", "--restart",
                 "--show-failures", "0"]) == 1
    out = capsys.readouterr().out
    assert "by error code" not in out and "failed 2" in out


def test_run_format_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    _scaffold(tmp_path, monkeypatch)
    capsys.readouterr()
    assert main(["run", "manifest.yaml", "--input", "payloads.jsonl", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["exit_code"] == 1 and report["command"] == "run"
    assert (report["read"], report["delivered"], report["failed"]) == (4, 2, 2)
    assert report["failures"]["by_code"] == {"jq-runtime": 1, "no-email": 1}
    assert sorted(f["record"] for f in report["failures"]["first"]) == [3, 4]


def test_run_json_errors_before_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _scaffold(tmp_path, monkeypatch, bad=False)
    capsys.readouterr()
    Path("broken.yaml").write_text(Path("manifest.yaml").read_text().replace(
        "type: generic", "type: genric"))
    assert main(["run", "broken.yaml", "--input", "payloads.jsonl", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["error"]["code"] == "invalid-manifest" and report["error"]["diagnostics"]
    assert main(["run", "manifest.yaml", "--format", "json"]) == 2
    report = json.loads(capsys.readouterr().out)
    assert report["error"]["code"] == "usage" and "--input" in report["error"]["message"]


def test_poll_format_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    _scaffold(tmp_path, monkeypatch, kind="inbound-polling", bad=False)
    capsys.readouterr()
    assert main(["poll", "manifest.yaml", "--once", "--replay", "cassette.yaml",
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["command"] == "poll"
    assert (report["read"], report["delivered"], report["failed"]) == (2, 2, 0)
    assert report["cycles"][0]["stopped_by"] == "iterate is false"


class _FastClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 6.0  # every reading is 6 s later: a 10 s interval passes every 2nd record
        return self.now


def test_run_logs_progress_lines_when_not_on_a_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    _scaffold(tmp_path, monkeypatch)

    def slow(**kwargs: object) -> Progress:
        return Progress(**kwargs, clock=_FastClock())  # type: ignore[arg-type]

    monkeypatch.setattr(run_report, "Progress", slow)
    capsys.readouterr()
    assert main(["run", "manifest.yaml", "--input", "payloads.jsonl"]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("progress: ")]
    assert lines and "/4 records (" in lines[0] and "/s, " in lines[0]
    assert main(["run", "manifest.yaml", "--input", "payloads.jsonl", "--restart",
                 "--quiet"]) == 1
    assert "progress: " not in capsys.readouterr().err
