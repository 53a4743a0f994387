"""Input records for `run`: JSON Lines, one record per line (blank lines skipped). A line
that is not JSON is not fatal: it becomes a record that fails at the `read` stage (and so a
dead letter), and the run goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

MAX_NESTING = 100  # deeper records are refused: jq and the redactor recurse on them


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


@dataclass(frozen=True)
class Record:
    number: int  # 1-based line in the input
    value: Any  # the parsed JSON; the raw text when `error` is set
    error: str | None = None  # why the line could not be read


def read_jsonl(lines: Iterator[str] | list[str]) -> Iterator[Record]:
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield Record(number, _cut(text), f"line {number} is not JSON: {exc}")
        except RecursionError:
            yield Record(number, _cut(text), f"line {number} nests too deeply to be read")
        else:
            if too_deep(value, text=text):
                yield Record(number, _cut(text), f"line {number} nests deeper than "
                             f"{MAX_NESTING} levels")
            else:
                yield Record(number, value)


def _cut(text: str, limit: int = 10_000) -> str:
    """A bad line as kept in its dead letter (a 100 MB line is not copied whole)."""
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"
