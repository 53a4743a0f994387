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
from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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


_DECODE = json.JSONDecoder(parse_constant=_no_constant).decode  # made once, not per line


def loads_strict(text: str | bytes) -> Any:
    """json.loads refusing NaN, Infinity and -Infinity (ValueError), which Python accepts."""
    if type(text) is str and not text.startswith("\ufeff"):  # else json.loads' own checks
        return _DECODE(text)
    return json.loads(text, parse_constant=_no_constant)


@dataclass(frozen=True)
class Record:
    number: int  # 1-based line in the input
    value: Any  # the parsed JSON; the raw text when `error` is set
    error: str | None = None  # why the line could not be read
    key: str | None = None  # the record's identity (None: not journaled by identity)
    code: str = "record-not-json"  # the error's code when `error` is set


class Identities:
    """Record identities of one input: a salted digest of the line and its ordinal among the
    identical lines before it. Memory: 16 bytes per distinct line (SeenSet), plus a counter
    per line that repeats."""

    def __init__(self, salt: str, earlier: Mapping[int, int] | None = None) -> None:
        self._base = hashlib.blake2b(salt.encode("utf-8") + b"\0", digest_size=16)
        self._seen = SeenSet()
        self._repeats: dict[int, int] = {}
        # a part of a file (pipeline/distributed.py): short digest -> how many identical
        # lines came before this part (only the lines that did)
        self._earlier = earlier or {}

    def key(self, data: bytes) -> str:
        h = self._base.copy()
        h.update(data)
        digest = h.digest()
        short = int.from_bytes(digest[:8], "big") or 1  # short_digest, inlined: per line
        ordinal = 1
        if not self._seen.add(short):
            ordinal = self._repeats.get(short, 1) + 1
            self._repeats[short] = ordinal
        if self._earlier:
            ordinal += self._earlier.get(short, 0)
        return f"{digest.hex()}-{ordinal}"

    def digest(self, data: bytes) -> bytes:
        h = self._base.copy()
        h.update(data)
        return h.digest()


def short_digest(digest: bytes) -> int:
    """What identical lines are counted by: the digest's first 8 bytes (never 0)."""
    return int.from_bytes(digest[:8], "big") or 1  # 0 marks an empty slot


class SeenSet:
    """A set of non-zero 64-bit ints in one flat array (open addressing, linear probing, at
    most half full): 16 bytes an entry where a Python set of ints takes about 70."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._slots = array("Q", bytes(8 * capacity))
        self._mask = capacity - 1
        self._size = 0

    def __contains__(self, value: int) -> bool:
        slots, mask = self._slots, self._mask
        i = value & mask
        while (found := slots[i]) != 0:
            if found == value:
                return True
            i = (i + 1) & mask
        return False

    def add(self, value: int) -> bool:
        """Add `value`; False when it was there already."""
        slots, mask = self._slots, self._mask
        i = value & mask
        while True:
            found = slots[i]
            if found == value:
                return False
            if found == 0:
                break
            i = (i + 1) & mask
        slots[i] = value
        self._size += 1
        if self._size * 2 > len(slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = len(self._slots) - 1
        self._size = 0
        for value in old:
            if value:
                self.add(value)


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
    for number, line in enumerate(lines, first_line):
        data = line_data(number, line)
        if not data:
            continue
        key = identities.key(data) if identities is not None else None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Record(number, _cut(data.decode("utf-8", "replace")),
                         f"line {number} is not UTF-8 (byte {exc.start + 1} of the line: "
                         f"{exc.reason})", key, "record-not-utf8")
            continue
        try:
            value = loads_strict(text)
        except ValueError as exc:
            yield Record(number, _cut(text), f"line {number} is not JSON: {exc}", key)
        except RecursionError:
            yield Record(number, _cut(text), f"line {number} nests too deeply to be read", key)
        else:
            if too_deep(value, text=text):
                yield Record(number, _cut(text), f"line {number} nests deeper than "
                             f"{MAX_NESTING} levels", key)
            else:
                yield Record(number, value, key=key)


def _cut(text: str, limit: int = 10_000) -> str:
    """A bad line as kept in its dead letter (a 100 MB line is not copied whole)."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
