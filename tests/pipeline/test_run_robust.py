"""`run` under stress: a stop mid-run loses and repeats nothing, odd input lines never stop the
run, batches with --limit, --retry-failed, dry runs leave no trace, fan-out counts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from deliver_api import DeliverApi

from manifest_runtime.cli import main
from manifest_runtime.pipeline.journal import Journal
from manifest_runtime.state import StateFile

HERE = Path(__file__).parent
MANIFEST = str(HERE / "deliver.yaml")


def contacts(path: Path, emails: list[str], extra: str = "") -> str:
    path.write_text("".join(json.dumps({"email": e}) + "\n" for e in emails) + extra,
                    encoding="utf-8")
    return str(path)


def run(api: DeliverApi, file: str, *options: str, workflow: str = "deliver") -> int:
    return main(["run", MANIFEST, "--workflow", workflow, "--contacts", file,
                 "--remap", f"https://deliver.example.com={api.url}", *options])


def dead_letters() -> list[Any]:
    with StateFile(os.environ["MANIFEST_RUNTIME_STATE"]) as s:
        return Journal(s.db, s.lock).dead_letters()


def test_a_stop_mid_run_loses_and_repeats_nothing(tmp_path: Path) -> None:
    """SIGINT while records are in flight: the ones in flight finish and are recorded; the
    rerun delivers exactly the rest. Every record is delivered exactly once."""
    emails = [f"u{i}@example.com" for i in range(30)]
    file = contacts(tmp_path / "c.jsonl", emails)
    with DeliverApi(delay=0.1) as api:
        argv = [sys.executable, "-m", "manifest_runtime", "run", MANIFEST, "--workflow",
                "deliver", "--contacts", file, "--concurrency", "4",
                "--remap", f"https://deliver.example.com={api.url}"]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while len(api.received) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert "run the same command again to resume" in err and "Traceback" not in err
        first = len(api.received)
        assert 6 <= first < 30
        again = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        assert again.returncode == 0, again.stderr
        assert f"{first} of them skipped" in again.stdout
    delivered = [r["email"] for r in api.received]
    assert sorted(delivered) == sorted(emails)  # each exactly once


def test_odd_lines_become_dead_letters_and_the_run_goes_on(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    separator = json.dumps({"email": "sep@example.com", "firstName": "A\u2028B"},
                           ensure_ascii=False)
    file = tmp_path / "c.jsonl"
    file.write_text("\ufeff" + json.dumps({"email": "bom@example.com"}) + "\n" + deep + "\n"
                    + separator + "\n" + "[1, 2]\n", encoding="utf-8")
    with DeliverApi() as api:
        assert run(api, str(file)) == 1
    assert [r["email"] for r in api.received] == ["bom@example.com", "sep@example.com"]
    assert api.received[1]["firstName"] == "A\u2028B"  # U+2028 is not a line break
    assert [(d.record_no, d.stage, d.code) for d in dead_letters()] == [
        (2, "read", "record-not-json"), (4, "read", "record-not-contact")]
    assert "nests too deeply" in dead_letters()[0].message
    assert "read 4, delivered 2, failed 2" in capsys.readouterr().out


def test_limit_works_through_a_file_in_batches(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    file = contacts(tmp_path / "c.jsonl", ["a@x.test", "b@x.test", "c@x.test"])
    with DeliverApi() as api:
        for _ in range(3):
            assert run(api, file, "--limit", "1") == 0
        assert [r["email"] for r in api.received] == ["a@x.test", "b@x.test", "c@x.test"]
    assert "read 3, delivered 1" in capsys.readouterr().out.splitlines()[-1]


def test_retry_failed_runs_only_the_failures_and_replaces_their_dead_letters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = contacts(tmp_path / "c.jsonl", ["a@x.test", "bad@x.test", "c@x.test"])
    with DeliverApi(fail={"bad@x.test"}) as api:
        assert run(api, file) == 1
        assert [d.record_no for d in dead_letters()] == [2]
        api.fail.clear()  # the receiving side is fixed
        assert run(api, file) == 0  # a plain rerun skips everything, failures included
        assert run(api, file, "--retry-failed") == 0
        assert sorted(r["email"] for r in api.received) == ["a@x.test", "bad@x.test",
                                                            "c@x.test"]
    assert dead_letters() == []
    assert "read 3, delivered 1, failed 0; 2 of them skipped" in capsys.readouterr().out


def test_dry_run_and_restart_leave_no_stale_dead_letters(tmp_path: Path) -> None:
    file = contacts(tmp_path / "c.jsonl", ["a@x.test"], extra="not json\n")
    with DeliverApi() as api:
        assert run(api, file, "--dry-run") == 1
        assert dead_letters() == []  # a dry run records nothing
        assert run(api, file) == 1
        assert run(api, file, "--restart") == 1
    assert [d.record_no for d in dead_letters()] == [2]  # not twice


def test_fan_out_counts_items_and_records(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "c.jsonl"
    file.write_text("".join(json.dumps(c) + "\n" for c in [
        {"email": "a@x.test", "items": ["1@x.test", "2@x.test", "bad@x.test"]},
        {"email": "b@x.test", "items": []},
    ]))
    with DeliverApi(fail={"bad@x.test"}) as api:
        assert run(api, str(file), workflow="fan-out") == 1
    assert len(api.received) == 2
    line = capsys.readouterr().out.splitlines()[0]
    assert line == ("fan-out: read 2 records, 3 items after fan-out: delivered 2 items, "
                    "failed 1 records (1 dead letters), 1 records gave no items")
    (dead,) = dead_letters()
    assert (dead.record_no, dead.item, dead.stage) == (1, 2, "target")
