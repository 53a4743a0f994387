"""Input records for `run`: JSON Lines, one record per line (blank lines skipped). A line
that cannot be read (not UTF-8, not strict JSON, nested too deeply) is not fatal: it becomes a
record that fails at the `read` stage (and so a dead letter), and the run goes on.

Each record has an identity (`Record.key`): a digest of the line's bytes (surrounding
whitespace aside) salted with the workflow's name, and its ordinal among identical lines of
the same input (`<32 hex>-<n>`). The journal keys resume marks by it, so a line keeps its
identity wherever it moves in the file; an edited line is a new record.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

MAX_NESTING = 100  # deeper records are refused: jq and the redactor recurse on them
BOM = b"\xef\xbb\xbf"


def too_deep(value: Any, limit: int = MAX_NESTING, text: str | None = None) -> bool:
    """Does `value` nest arrays/objects more than `limit` levels deep? (iterative; given the
    JSON `text` it came from, a text with fewer brackets than `limit` is not walked at all)"""
    if text is not None and text.count("[") + text.count("{") <= limit:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (strict JSON has no NaN or Infinity)")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # made once, not per line
_DECODE = _DECODER.decode
# the C scanner `decode` calls, without its two regex matches
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]


def loads_strict(text: str | bytes) -> Any:
    """json.loads refusing NaN, Infinity and -Infinity (ValueError), which Python accepts."""
    if type(text) is str and not text.startswith("\ufeff"):  # else json.loads' own checks
        return _DECODE(text)
    return json.loads(text, parse_constant=_no_constant)


def _loads_line(text: str) -> Any:
    """`loads_strict` of a line's text (stripped: no whitespace around it): the scanner alone
    when it reads the whole text; anything else (an error, more after the value, a BOM) the
    usual way, for the same value or the same error."""
    if text and text[0] != "\ufeff":
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            pass
        else:
            if end == len(text):
                return value
    return loads_strict(text)


class Record(NamedTuple):
    """One input record, immutable (a named tuple: made once per line, it costs a third of a
    frozen dataclass)."""

    number: int  # 1-based line in the input
    value: Any  # the parsed JSON; the raw text when `error` is set
    error: str | None = None  # why the line could not be read
    key: str | None = None  # the record's identity (None: not journaled by identity)
    code: str = "record-not-json"  # the error's code when `error` is set


class Identities:
    """Record identities of one input: a salted digest of the line and its ordinal among the
    identical lines before it. Memory: bounded whatever the input's length (LineCounts)."""

    def __init__(self, salt: str, earlier: Mapping[int, int] | None = None,
                 memory_entries: int | None = None) -> None:
        self._base = hashlib.blake2b(salt.encode("utf-8") + b"\0", digest_size=16)
        self._counts = LineCounts(memory_entries)
        # a part of a file (pipeline/distributed.py): short digest -> how many identical
        # lines came before this part (only the lines that did)
        self._earlier = earlier or {}

    def key(self, data: bytes) -> str:
        h = self._base.copy()
        h.update(data)
        digest = h.digest()
        short = int.from_bytes(digest[:8], "big") or 1  # short_digest, inlined: per line
        ordinal = self._counts.add(short)
        if self._earlier:
            ordinal += self._earlier.get(short, 0)
        return f"{digest.hex()}-{ordinal}"

    def digest(self, data: bytes) -> bytes:
        h = self._base.copy()
        h.update(data)
        return h.digest()

    def close(self) -> None:
        self._counts.close()


def short_digest(digest: bytes) -> int:
    """What identical lines are counted by: the digest's first 8 bytes (never 0)."""
    return int.from_bytes(digest[:8], "big") or 1  # never 0 (as the parts have it)


class LineCounts:
    """How many times each short digest (a non-zero 64-bit int) has been counted, in memory
    of a fixed bound whatever the number of digests.

    Up to `memory_entries` distinct digests are counted in a dict (~90 bytes an entry). When
    it is full, all of it moves to a table of a private temporary SQLite database (on disk,
    removed when closed; its page cache 1 MiB) and the dict starts again empty. A digest not
    in the dict is then looked up there, but only when a Bloom filter of everything moved
    (2 MiB, made at the first move) says it may be: a new line almost never costs a query
    (the filter's three bit positions of a digest, already uniform, are its own bits 0-23,
    24-47 and 40-63). The counts are exactly those of an unbounded dict."""

    MEMORY_ENTRIES = 1 << 14  # 16,384 distinct digests in the dict: ~1.5 MB
    BLOOM_BITS = 1 << 24  # 2 MiB; false positives ~1 % after 1,000,000 moved digests

    def __init__(self, memory_entries: int | None = None) -> None:
        self._limit = max(1, memory_entries or self.MEMORY_ENTRIES)
        self._counts: dict[int, int] = {}
        self._db: Any = None  # the temporary database, once something moved there
        self._bloom = bytearray()
        self._mask = 0
        self.moved = 0  # how many times memory moved to the database (tests, benchmarks)

    def add(self, digest: int) -> int:
        """Count `digest` once more; how many times it has been counted, this one included."""
        counts = self._counts
        count = counts.get(digest)
        if count is not None:
            count += 1
        elif self._db is None:
            count = 1
        else:
            count = self._stored(digest) + 1
        counts[digest] = count
        if len(counts) >= self._limit:
            self._move()
        return count

    def get(self, digest: int) -> int:
        """How many times `digest` has been counted (0: never)."""
        count = self._counts.get(digest)
        if count is not None:
            return count
        return 0 if self._db is None else self._stored(digest)

    def _stored(self, digest: int) -> int:
        bloom, mask = self._bloom, self._mask
        a, b, c = digest & mask, (digest >> 24) & mask, (digest >> 40) & mask
        if not (bloom[a >> 3] >> (a & 7) & 1 and bloom[b >> 3] >> (b & 7) & 1
                and bloom[c >> 3] >> (c & 7) & 1):
            return 0
        row = self._db.execute("SELECT n FROM counts WHERE d = ?",
                               (digest - _SIGN,)).fetchone()
        return 0 if row is None else int(row[0])

    def _move(self) -> None:
        """Everything in memory into the database (counts there replaced: the ones in memory
        include them), then memory empty."""
        if self._db is None:
            import sqlite3

            try:  # "": a private temporary database on disk, deleted when closed
                db = sqlite3.connect("", check_same_thread=False)
                for pragma in ("journal_mode = OFF", "synchronous = OFF",
                               "cache_size = -1024", "temp_store = FILE"):
                    db.execute(f"PRAGMA {pragma}")
                db.execute("CREATE TABLE counts (d INTEGER PRIMARY KEY, n INTEGER NOT NULL) "
                           "WITHOUT ROWID")
            except sqlite3.Error:  # no temporary directory to write in: all in memory
                self._limit = sys.maxsize
                return
            self._db = db
            self._bloom = bytearray(self.BLOOM_BITS >> 3)
            self._mask = self.BLOOM_BITS - 1
        bloom, counts, mask = self._bloom, self._counts, self._mask
        for digest in counts:
            a, b, c = digest & mask, (digest >> 24) & mask, (digest >> 40) & mask
            bloom[a >> 3] |= 1 << (a & 7)
            bloom[b >> 3] |= 1 << (b & 7)
            bloom[c >> 3] |= 1 << (c & 7)
        with self._db:  # in key order: the b-tree's pages in turn
            self._db.executemany("INSERT INTO counts (d, n) VALUES (?, ?) ON CONFLICT (d) DO "
                                 "UPDATE SET n = excluded.n",
                                 ((d - _SIGN, counts[d]) for d in sorted(counts)))
        self._counts = {}
        self.moved += 1

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
            self._bloom = bytearray()


_SIGN = 1 << 63  # digests are unsigned 64-bit, SQLite's integers signed


def line_data(number: int, line: bytes | str) -> bytes:
    """A line's bytes as its identity digests them: the BOM of line 1 and surrounding
    whitespace aside (empty: a blank line, no record)."""
    data = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
    if number == 1 and data.startswith(BOM):
        data = data[len(BOM):]
    return data.strip()


def read_jsonl(lines: Iterable[bytes | str], salt: str | None = None, *, first_line: int = 1,
               earlier: Mapping[int, int] | None = None) -> Iterator[Record]:
    """The records of JSON Lines (bytes as read from a file, or text); with a `salt` (the
    workflow's name) each record gets its identity. A part of a file: `first_line` is the
    number of its first line, `earlier` the counts of identical lines before it (by
    `short_digest`), so its records get the identities a whole-file read gives them."""
    identities = Identities(salt, earlier) if salt is not None else None
    key_of = identities.key if identities is not None else None
    try:
        yield from _records(lines, key_of, first_line)
    finally:
        if identities is not None:
            identities.close()


def _records(lines: Iterable[bytes | str], key_of: Callable[[bytes], str] | None,
             first_line: int) -> Iterator[Record]:
    decode = _loads_line
    for number, line in enumerate(lines, first_line):
        # line_data, inlined for the common case (bytes, not the first line): once per line
        data = line.strip() if type(line) is bytes and number != 1 else line_data(number, line)
        if not data:
            continue
        key = key_of(data) if key_of is not None else None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Record(number, _cut(data.decode("utf-8", "replace")),
                         f"line {number} is not UTF-8 (byte {exc.start + 1} of the line: "
                         f"{exc.reason})", key, "record-not-utf8")
            continue
        try:
            value = decode(text)
        except ValueError as exc:
            yield Record(number, _cut(text), f"line {number} is not JSON: {exc}", key)
        except RecursionError:
            yield Record(number, _cut(text), f"line {number} nests too deeply to be read", key)
        else:
            if text.count("[") + text.count("{") > MAX_NESTING and too_deep(value):
                yield Record(number, _cut(text), f"line {number} nests deeper than "
                             f"{MAX_NESTING} levels", key)
            else:
                yield Record(number, value, None, key)


def _cut(text: str, limit: int = 10_000) -> str:
    """A bad line as kept in its dead letter (a 100 MB line is not copied whole)."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
