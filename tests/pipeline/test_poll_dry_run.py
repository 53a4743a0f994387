"""`poll --dry-run`: the transformed records as JSON lines on stdout, nothing delivered,
polling_state neither saved nor marked (issue 11.3), over real loopback HTTP."""

from __future__ import annotations

import gc
import json

import pytest
from test_poll_cli import LEADS, contacts, leads_api, poll, seed, stored_state

from manifest_runtime.cli.poll import _Freezer


def test_dry_run_prints_the_records_and_changes_nothing(capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    seed()
    seen: list[str] = []
    with leads_api([LEADS[:2], LEADS[2:4], LEADS[4:]], seen) as url:
        assert poll(url, "--dry-run") == 0
        captured = capsys.readouterr()
        records = [json.loads(line) for line in captured.out.splitlines()]
        # the saved mapping renamed name -> firstName; the source added the tag
        assert records == [{"email": lead["email"], "firstName": lead["name"],
                            "_tags": ["leads"]} for lead in LEADS]
        assert "poll (dry run): 3 request(s), read 5, transformed 5, failed 0" in captured.err
        # polling_state moved from page to page in memory (3 requests, not 1 forever) ...
        assert [p.split("?")[1] for p in seen] == ["page=1", "page=2", "page=3"]
        # ... and nothing of it reached the state file, nor any contact the sandbox
        assert stored_state() == (False, None)
        assert contacts(capsys) == []
        # so a real poll afterwards starts from the beginning, initial_setup included
        assert poll(url) == 0
        assert "poll: 3 request(s), read 5, delivered 5" in capsys.readouterr().out
    assert contacts(capsys) == [lead["email"] for lead in LEADS]


def test_dry_run_with_reset_starts_over_without_forgetting(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed()
    seen: list[str] = []
    with leads_api([LEADS[:2], LEADS[2:]], seen) as url:
        assert poll(url) == 0
        before = stored_state()
        seen.clear()
        capsys.readouterr()
        assert poll(url, "--dry-run", "--reset") == 0
        assert len(capsys.readouterr().out.splitlines()) == 5
        assert seen[0].endswith("page=1")
        assert stored_state() == before


MANY = [{"email": f"m{i}@example.com", "name": f"M {i}"} for i in range(3000)]
PAGES = [MANY[i:i + 600] for i in range(0, 3000, 600)]  # 2 pages pass the 1,000 per cycle


def test_catch_up_polls_again_at_once_while_a_cycle_hits_the_limit(
        capsys: pytest.CaptureFixture[str]) -> None:
    seed()
    seen: list[str] = []
    with leads_api(PAGES, seen) as url:
        assert poll(url, "--dry-run", "--catch-up") == 0
        captured = capsys.readouterr()
    assert [json.loads(line)["email"] for line in captured.out.splitlines()] == \
        [lead["email"] for lead in MANY]
    cycles = [line for line in captured.err.splitlines() if "poll (dry run)" in line]
    assert [c.split("stopped: ")[1] for c in cycles] == [
        "more than 1000 results this cycle", "more than 1000 results this cycle",
        "iterate is false"]
    assert [p.split("?")[1] for p in seen] == [f"page={n}" for n in range(1, 6)]
    assert stored_state() == (False, None)


def test_from_the_second_cycle_the_collector_is_quieter_until_the_poll_ends(
        capsys: pytest.CaptureFixture[str]) -> None:
    """cli/poll.py's _Freezer: gc.freeze() and a higher young threshold after the first
    cycle, both undone at the end (the API's handler runs in this process: it sees them)."""
    seed()
    frozen: list[int] = []
    young: list[int] = []

    class Seen(list[str]):
        def append(self, path: str) -> None:
            frozen.append(gc.get_freeze_count())
            young.append(gc.get_threshold()[0])
            super().append(path)

    assert gc.get_freeze_count() == 0
    threshold = gc.get_threshold()
    with leads_api(PAGES, Seen()) as url:
        assert poll(url, "--dry-run", "--catch-up") == 0
    assert len(capsys.readouterr().out.splitlines()) == len(MANY)
    # cycle 1: pages 1-2; cycle 2: pages 3-4; cycle 3: page 5
    assert frozen[:2] == [0, 0] and all(count > 10_000 for count in frozen[2:])
    assert young[:2] == [threshold[0]] * 2 and young[2:] == [_Freezer.YOUNG] * 3
    assert len(frozen) == 5 and gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def test_without_catch_up_one_poll_stops_at_the_limit(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    seed()
    with leads_api(PAGES, []) as url:
        assert poll(url, "--dry-run") == 0
    assert len(capsys.readouterr().out.splitlines()) == 1200


def test_the_tally_hands_the_tracker_exact_counts_around_failures() -> None:
    """cli/poll.py's _Tally: results without a failure are counted a batch at a time; a
    failure flushes them first, so the tracker's counts and failures match one-by-one."""
    import argparse

    from manifest_runtime.cli.poll import _Tally
    from manifest_runtime.cli.progress import Counts, Total
    from manifest_runtime.cli.run_report import Tracker
    from manifest_runtime.pipeline.journal import DeadLetter

    tracker = Tracker(argparse.Namespace(quiet=True), Total(None), unit="results")
    tally = _Tally(tracker)
    for delivered in (True, True, False):
        tally.done += 1
        tally.delivered += delivered
    assert tracker.counts == Counts()  # not yet handed over
    dead = [DeadLetter("leads-in", 3, None, "source", "jq-runtime", "boom", "", {})]
    tally.flush()
    tracker.record(dead, delivered=False)
    assert tracker.counts == Counts(done=4, delivered=2, failed=1)
    tally.done += 1
    tally.flush()
    tally.flush()  # nothing more
    assert tracker.counts == Counts(done=5, delivered=2, failed=1)
    assert tracker.failures.total == 1
