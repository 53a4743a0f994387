"""Record identities: a digest of the line (blanks around it aside, salted with the
workflow) and its ordinal among identical lines; the compact set they are kept in."""

from __future__ import annotations

import random

from manifest_runtime.pipeline.records import Identities, SeenSet, read_jsonl


def test_seen_set_agrees_with_a_python_set() -> None:
    rng = random.Random(7)
    values = [rng.randrange(1, 2**64) for _ in range(20_000)]
    values += values[:3000] + [rng.randrange(1, 50) for _ in range(2000)]  # repeats, clusters
    seen, reference = SeenSet(capacity=8), set()
    for v in values:
        assert seen.add(v) == (v not in reference)
        reference.add(v)


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
