"""Ignored keys are collected per block, handed outward, and never mixed between threads."""

from __future__ import annotations

import threading

from manifest_runtime.activecampaign.ignored import (
    collecting,
    describe_ignored,
    ignored_warnings,
    report_ignored,
)


def test_collections_nest_and_stay_per_thread() -> None:
    report_ignored(["nobody collects this"])  # no collection: nothing to hold it
    with collecting() as outer:
        report_ignored(["a"])
        with collecting() as inner:
            report_ignored(["b"])
        seen: list[list[str]] = []

        def other() -> None:
            with collecting() as mine:
                report_ignored(["c"])
            seen.append(mine)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert inner == ["b"] and outer == ["a", "b"] and seen == [["c"]]


def test_the_warning_texts() -> None:
    keys = ["note", "deal.color", "_tags (there is no contact to tag)"]
    assert describe_ignored(keys) == ["ignored key 'note'", "ignored key 'deal.color'",
                                      "ignored key '_tags' (there is no contact to tag)"]
    assert ignored_warnings(["note"], 3, 1) == ["ignored key 'note' on record 3 item 1"]
