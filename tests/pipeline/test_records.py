"""Record identities: a digest of the line (blanks around it aside, salted with the
workflow) and its ordinal among identical lines; the bounded counts they are kept in."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from manifest_runtime.pipeline.records import Identities, LineCounts, read_jsonl


def test_identity_ordinals_and_salt() -> None:
    lines = [b'{"a": 1}', b'  {"a": 1}\r\n', b'{"a": 2}', b'{"a": 1}']
    keys = [Identities("wf").key(b"x")] + [r.key for r in read_jsonl(lines, salt="wf")]
    digests = [str(k).rsplit("-", 1) for k in keys[1:]]
    assert [n for _, n in digests] == ["1", "2", "1", "3"]
    assert digests[0][0] == digests[1][0] == digests[3][0] != digests[2][0]
    other = [r.key for r in read_jsonl(lines, salt="another workflow")]
    assert not set(other) & set(keys)
    assert [r.key for r in read_jsonl(lines)] == [None] * 4  # no salt: no identity


def test_webhook_bodies_are_strict_json_too() -> None:
    from manifest_runtime.intake.webhook import Incoming, parse_payload

    for body in (b'{"score": NaN}', b'[Infinity]', b'{"x": -Infinity}'):
        kept, error = parse_payload(Incoming("POST", "/w", [], [], body))
        assert error is not None and "not a JSON number" in error and kept == body.decode()
    assert parse_payload(Incoming("POST", "/w", [], [], b'{"score": 1.5}')) == \
        ({"score": 1.5}, None)


def test_line_counts_moved_to_disk_count_exactly_as_a_dict() -> None:
    """A small memory bound: most digests live in the temporary database, the counts (and
    `get`) are still exactly those of an unbounded dict."""
    rng = random.Random(11)
    values = [rng.randrange(1, 2**64) for _ in range(3000)]
    values += [rng.choice(values) for _ in range(3000)] + [rng.randrange(1, 40)
                                                            for _ in range(500)]
    rng.shuffle(values)
    counts, reference = LineCounts(memory_entries=64), Counter[int]()
    try:
        for v in values:
            reference[v] += 1
            assert counts.add(v) == reference[v]
            probe = rng.choice(values)
            assert counts.get(probe) == reference[probe]
        assert counts.moved > 50  # the database did most of the work
        assert counts.get(2**64 - 1) == 0 or 2**64 - 1 in reference
    finally:
        counts.close()


def test_identities_are_the_same_whatever_the_memory_bound() -> None:
    rng = random.Random(3)
    lines = [b'{"n": %d}' % rng.randrange(300) for _ in range(2000)]
    small = Identities("wf", memory_entries=16)
    try:
        bounded = [small.key(line) for line in lines]
    finally:
        small.close()
    assert bounded == [r.key for r in read_jsonl(lines, salt="wf")]
    assert len(set(bounded)) == len(bounded)  # an ordinal for every repeat


def test_line_counts_stay_in_memory_when_no_temporary_database_opens(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    def refuse(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("unable to open database file")

    counts = LineCounts(memory_entries=4)
    monkeypatch.setattr(sqlite3, "connect", refuse)
    assert [counts.add(d) for d in (1, 2, 3, 4, 5, 1, 6, 1)] == [1, 1, 1, 1, 1, 2, 1, 3]
    assert counts.moved == 0 and counts.get(5) == 1 and counts.get(7) == 0
