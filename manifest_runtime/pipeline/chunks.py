"""A JSON Lines file in byte ranges, for workers that each read their own part (pipeline/
distributed.py), and what makes a part's record identities the ones a whole-file read gives.

A part owns the lines whose first byte lies in [start, end): it seeks to start - 1 and skips
to the byte after the first newline there (none to skip at 0), then reads lines until one
starts at or after `end`. No part reads more than its own lines plus the one line it skips.

A record's identity (pipeline/records.py) is the digest of its line and its ordinal among the
identical lines before it in the whole file. A part learns those ordinals from a first cheap
pass (`scan`: each part's line count and the short digests of its lines, in parallel); the
driver then gives each part the number of the line it starts at and, for the lines it shares
with the parts before it, how many came earlier (`plan`).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .records import Identities, LineCounts, line_data, short_digest

MIN_PART = 16 * 1024  # bytes: smaller parts cost more in scheduling than they gain
MAX_PART = 32 * 1024 * 1024  # bytes: a retried part repeats at most this much reading
PARTS_PER_WORKER = 4  # so that a slow part does not leave the other workers idle


@dataclass(frozen=True)
class ByteRange:
    index: int
    start: int
    end: int


@dataclass(frozen=True)
class Scan:
    """What the first pass learns of a part: its lines (blank ones too) and the short digests
    of its records' lines, in order (8 bytes each)."""

    index: int
    lines: int
    digests: bytes  # array("Q") as bytes


@dataclass(frozen=True)
class Part:
    """A part as the driver hands it to a worker."""

    index: int
    start: int
    end: int
    first_line: int  # the number of its first line in the file
    earlier: dict[int, int] = field(default_factory=dict)  # short digest -> lines before
    lines: int = 0


def split(path: str, workers: int, part_bytes: int | None = None) -> list[ByteRange]:
    """The file's byte ranges: about PARTS_PER_WORKER per worker, each MIN_PART..MAX_PART
    bytes (or `part_bytes` each)."""
    size = os.path.getsize(path)
    if size == 0:
        return [ByteRange(0, 0, 0)]
    if part_bytes is None:
        part_bytes = min(MAX_PART, max(MIN_PART, -(-size // (max(1, workers)
                                                           * PARTS_PER_WORKER))))
    count = max(1, -(-size // max(1, part_bytes)))
    step = -(-size // count)
    return [ByteRange(i, i * step, min(size, (i + 1) * step)) for i in range(count)
            if i * step < size]


def range_lines(path: str, start: int, end: int) -> Iterator[bytes]:
    """The lines whose first byte lies in [start, end) (each with its newline)."""
    with open(path, "rb") as file:
        if start > 0:
            file.seek(start - 1)
            file.readline()  # the end of the line the part before owns
        position = file.tell()
        while position < end:
            line = file.readline()
            if not line:
                return
            yield line
            position += len(line)


def scan(path: str, part: ByteRange, salt: str) -> Scan:
    """The first pass over a part: its line count and its records' short digests."""
    identities = Identities(salt)
    digests = array("Q")
    lines = 0
    for lines, line in enumerate(range_lines(path, part.start, part.end), 1):
        data = line_data(1 if part.start == 0 and lines == 1 else 2, line)
        if data:
            digests.append(short_digest(identities.digest(data)))
    return Scan(part.index, lines, digests.tobytes())


def plan(ranges: Sequence[ByteRange], scans: Sequence[Scan]) -> list[Part]:
    """Each part's first line and the counts of the identical lines before it (only for the
    lines it shares with earlier parts). Memory: bounded, as a single-process run's
    identities (records.LineCounts)."""
    counts = LineCounts()
    parts: list[Part] = []
    first_line = 1
    by_index = {s.index: s for s in scans}
    try:
        for r in ranges:
            found = by_index[r.index]
            digests = array("Q")
            digests.frombytes(found.digests)
            earlier = {}
            for d in set(digests):
                before = counts.get(d)
                if before:
                    earlier[d] = before
            for d in digests:
                counts.add(d)
            parts.append(Part(r.index, r.start, r.end, first_line, earlier, found.lines))
            first_line += found.lines
    finally:
        counts.close()
    return parts
