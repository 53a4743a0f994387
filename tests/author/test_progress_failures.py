"""cli/progress.py (total, percentage, rate, ETA; log lines off a terminal; quiet) and
cli/failures.py (the first N failures grouped by code, one line each)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from manifest_runtime.cli import progress as progress_module
from manifest_runtime.cli.failures import Failures, one_line
from manifest_runtime.cli.progress import Counts, Progress, Total, count_records


def test_count_records_counts_lines_and_estimates_huge_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text("".join(f'{{"n": {i}}}\n' for i in range(1000)))
    assert count_records(str(f)) == Total(1000)
    f.write_text('{"a": 1}\n{"a": 2}')  # no newline at the end
    assert count_records(str(f)) == Total(2)
    assert count_records(None) == Total(None) and count_records("-") == Total(None)
    assert count_records(str(tmp_path / "missing")) == Total(None)
    f.write_text("".join(f'{{"n": {i:04d}}}\n' for i in range(5000)))
    monkeypatch.setattr(progress_module, "COUNT_LIMIT", 100)
    monkeypatch.setattr(progress_module, "SAMPLE", 1200)
    estimate = count_records(str(f))
    assert estimate.estimated and abs((estimate.records or 0) - 5000) < 100


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_lines_every_interval_with_rate_and_eta() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress(total=Total(10_000), stream=out, terminal=False, interval=10, clock=clock)
    clock.now += 5
    p.update(Counts(done=1000, delivered=1000))
    assert out.getvalue() == ""  # nothing before the first interval
    clock.now += 5
    p.update(Counts(done=2000, delivered=1990, failed=10))
    assert out.getvalue() == ("progress: 2,000/10,000 records (20%), 200/s, ETA 0:00:40, "
                              "elapsed 0:00:10, delivered 1,990, failed 10\n")
    clock.now += 3
    p.update(Counts(done=2500, delivered=2490, failed=10))
    assert out.getvalue().count("\n") == 1  # the next one after another 10 s
    p.close()


def test_log_line_without_total_or_with_an_estimate() -> None:
    clock = Clock()
    p = Progress(total=Total(None), stream=io.StringIO(), terminal=False, clock=clock)
    clock.now += 2
    p.update(Counts(done=50, delivered=50))
    assert p.line().startswith("progress: 50 records, 25/s, elapsed 0:00:02")
    p2 = Progress(total=Total(100, estimated=True), stream=io.StringIO(), terminal=False,
                  clock=clock)
    clock.now += 1
    p2.update(Counts(done=50))
    assert "50/~100 records (50%)" in p2.line()


def test_quiet_prints_nothing() -> None:
    out, clock = io.StringIO(), Clock()
    p = Progress(total=Total(10), stream=out, terminal=True, quiet=True, clock=clock)
    clock.now += 60
    p.update(Counts(done=5))
    p.close()
    assert out.getvalue() == "" and p.mode == "off"


def test_terminal_bar_shows_total_percentage_rate_and_eta() -> None:
    out = io.StringIO()
    p = Progress(total=Total(200), stream=out, terminal=True)
    assert p.mode == "bar"
    p.update(Counts(done=50, delivered=49, failed=1))
    p._bar.refresh()
    shown = out.getvalue()
    p.close()
    assert "50/200" in shown and "25%" in shown and "ETA" in shown
    assert "ok 49 failed 1" in shown and "/s" in shown


@dataclass(frozen=True)
class Dead:
    record_no: int
    code: str
    message: str
    stage: str = "source"
    item: int | None = None
    pointer: str = "/workflows/0/data_pipeline/source"
    hint: str | None = None


def test_failures_grouped_by_code_most_frequent_first_with_the_first_n() -> None:
    f = Failures(keep=3)
    f.add([Dead(2, "jq-runtime", "jq: Cannot index string with \"email\"\nmore detail",
                hint="guard with ?")])
    f.add([Dead(5, "no-email", "no email after the transform", stage="transform")])
    f.add([Dead(7, "jq-runtime", "jq: Cannot index number", hint="guard with ?"),
           Dead(9, "jq-runtime", "x" * 300), Dead(11, "http-status", "HTTP 500")])
    assert f.total == 5 and f.by_code == {"jq-runtime": 3, "no-email": 1, "http-status": 1}
    assert f.render(more="all of them: manifest-runtime state show") == (
        "5 failures, the first 3 by error code:\n"
        "  jq-runtime (3, 1 not shown)\n"
        "    line 2 [source]: jq: Cannot index string with \"email\"\n"
        "    line 7 [source]: jq: Cannot index number\n"
        "    hint: guard with ?\n"
        "  http-status (1, 1 not shown)\n"
        "  no-email (1)\n"
        "    line 5 [transform]: no email after the transform\n"
        "  all of them: manifest-runtime state show\n")
    assert f.as_json()["by_code"] == {"jq-runtime": 3, "http-status": 1, "no-email": 1}
    assert [d["record"] for d in f.as_json()["first"]] == [2, 5, 7]


def test_failures_none_or_zero_shown() -> None:
    assert Failures().render() == ""
    f = Failures(keep=0)
    f.add([Dead(1, "x", "y")])
    assert f.render() == "" and f.total == 1


def test_one_line_folds_and_cuts() -> None:
    assert one_line("  a\n b") == "a"
    assert one_line("a   b\tc") == "a b c"
    assert len(one_line("x" * 500)) == 110 and one_line("x" * 500).endswith("…")
    assert one_line("") == ""


def test_tracker_counts_and_collects(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import json

    from manifest_runtime.cli.run_report import Tracker, print_failures, print_summary_json

    args = argparse.Namespace(show_failures=1, quiet=True, trace=False, format="text",
                              dead_letter="dead.jsonl")
    t = Tracker(args, Total(3))
    t.record([], delivered=True)
    t.record([Dead(2, "no-email", "no email")], delivered=False)
    t.record([Dead(3, "no-email", "no email")], delivered=False)
    t.close()
    assert (t.counts.done, t.counts.delivered, t.counts.failed) == (3, 1, 2)
    assert t.progress.mode == "off"
    print_failures(args, t.failures, "s.db")
    assert capsys.readouterr().out == (
        "2 failures, the first 1 by error code:\n  no-email (2, 1 not shown)\n"
        "    line 2 [source]: no email\n")
    print_summary_json("run", "w", {"read": 3}, t.failures, "s.db", 1)
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["read"] == 3
    assert report["failures"]["by_code"] == {"no-email": 2}
