"""Byte-range parts of a JSON Lines file (pipeline/chunks.py): every line read by exactly one
part, and each record's identity and line number as a whole-file read gives them, duplicate
lines across parts included."""

from __future__ import annotations

from pathlib import Path

import pytest

from manifest_runtime.pipeline.chunks import plan, range_lines, scan, split
from manifest_runtime.pipeline.records import LineCounts, read_jsonl

SALT = "deliver"


def whole(path: Path) -> list[tuple[int, str | None]]:
    with open(path, "rb") as f:
        return [(r.number, r.key) for r in read_jsonl(f, salt=SALT)]


def by_parts(path: Path, part_bytes: int) -> list[tuple[int, str | None]]:
    ranges = split(str(path), 2, part_bytes)
    parts = plan(ranges, [scan(str(path), r, SALT) for r in ranges])
    out: list[tuple[int, str | None]] = []
    for p in parts:
        out += [(r.number, r.key) for r in read_jsonl(
            range_lines(str(path), p.start, p.end), salt=SALT, first_line=p.first_line,
            earlier=p.earlier)]
    return out


@pytest.mark.parametrize("part_bytes", [1, 7, 16, 50, 10_000])
def test_parts_give_the_identities_and_line_numbers_of_a_whole_read(
        tmp_path: Path, part_bytes: int) -> None:
    lines = ['{"a":1}', '{"a":2}', "", '{"a":1}', "  ", '{"a":1}', "not json", '{"a":2}',
             '{"b":"\u00e9"}', '{"a":1}']
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    expected = whole(path)
    assert [k for _, k in expected if k and k.endswith("-4")]  # four identical lines
    assert by_parts(path, part_bytes) == expected


def test_every_byte_range_reads_each_line_once(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(f'{{"n":{i}}}\n'.encode() for i in range(1000)) + b'{"last":1}')
    for part_bytes in (1, 9, 10, 11, 4096):
        got = [line for r in split(str(path), 2, part_bytes)
               for line in range_lines(str(path), r.start, r.end)]
        assert b"".join(got) == path.read_bytes(), part_bytes


def test_parts_per_worker(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"n":1}\n' * 100_000)  # 800 kB
    assert len(split(str(path), 2)) == 8
    assert len(split(str(path), 1000)) == 49  # not below 16 KiB a part
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert len(split(str(tmp_path / "empty.jsonl"), 2)) == 1


def test_parts_agree_when_the_counts_live_on_disk(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory bounded to a handful of digests (records.LineCounts): the parts' identities are
    still a whole-file read's, and both are what they are with everything in memory."""
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(b'{"n":%d}\n' % (i * 7 % 23) for i in range(400)))
    in_memory = whole(path)
    monkeypatch.setattr(LineCounts, "MEMORY_ENTRIES", 4)
    assert whole(path) == in_memory
    for part_bytes in (50, 999):
        assert by_parts(path, part_bytes) == in_memory
