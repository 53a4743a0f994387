"""`run`'s input: JSON Lines from a file or from standard input, read lazily as bytes (a line
ends at "\\n" only, so U+2028 inside a JSON string is not a line break). Decoding is per line
(pipeline/records.py): a line that is not UTF-8 is that record's read-stage dead letter, not
the end of the run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from ..errors import UsageError


def input_lines(args: argparse.Namespace, inbound: bool) -> tuple[Iterator[bytes | str], bool]:
    """The input's lines, read lazily, and whether they come from standard input."""
    given, option = (args.input, "--input") if inbound else (args.contacts, "--contacts")
    wrong = args.contacts if inbound else args.input
    kind = "inbound" if inbound else "outbound"
    if wrong is not None:
        raise UsageError(f"this is an {kind} workflow: give its records with {option}, not "
                         f"{'--contacts' if inbound else '--input'}")
    if given is None:
        what = "webhook payloads" if inbound else "contacts to process"
        raise UsageError(f"give the {what} with {option} FILE.jsonl (one JSON per line)")
    if given == "-":
        if not inbound:
            raise UsageError("--contacts takes a file")
        return _stream(_stdin()), True
    try:
        with open(given, "rb"):  # refused now rather than once the run has started
            pass
    except OSError as exc:
        raise UsageError(f"{option} {given}: cannot read it ({exc.strerror})") from None
    return _file_lines(given), False


def _file_lines(path: str) -> Iterator[bytes]:
    with open(path, "rb") as file:
        yield from file


def _stdin() -> Any:
    """Standard input as bytes (text when it is already text: tests, embedding)."""
    return getattr(sys.stdin, "buffer", None) or sys.stdin


def _stream(stream: Any) -> Iterator[bytes | str]:
    """Lines of a pipe as they come (readline: no read-ahead block to wait for)."""
    while line := stream.readline():
        yield line
