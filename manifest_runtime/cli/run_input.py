"""`run`'s input: JSON Lines from a file (read lazily, its SHA-256 taken first for resume,
refused before anything runs when it is not UTF-8) or from standard input (no resume). A
line ends at "\\n" only, so U+2028 inside a JSON string is not a line break; a leading BOM
is dropped."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from ..errors import UsageError


def input_lines(args: argparse.Namespace, inbound: bool) -> tuple[Iterator[str], str | None]:
    """The input lines, read lazily (a line ends at "\\n" only: U+2028 inside a JSON string
    is not a line break), and the file's SHA-256 (None for stdin: no resume). A leading BOM
    is dropped; a file that is not UTF-8 is refused before anything runs."""
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
        return _lines(_stdin_utf8()), None
    digest = _checked_digest(given, option)
    return _file_lines(given), digest


def _checked_digest(path: str, option: str) -> str:
    """SHA-256 of the file, checking on the way (in chunks) that it is UTF-8."""
    import codecs
    import hashlib

    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen = 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                sha.update(chunk)
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise UsageError(f"{option} {path}: not UTF-8 (byte {seen + exc.start})"
                                     ) from None
                seen += len(chunk)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise UsageError(f"{option} {path}: not UTF-8 (it ends inside a character)"
                                 ) from None
    except OSError as exc:
        raise UsageError(f"{option} {path}: cannot read it ({exc.strerror})") from None
    return sha.hexdigest()


def _file_lines(path: str) -> Iterator[str]:
    with open(path, encoding="utf-8", newline="\n") as f:
        yield from _lines(f)


def _stdin_utf8() -> Any:
    """Standard input as strict UTF-8 lines ending at "\\n" only (as a file is read)."""
    import io

    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # already text (tests, embedding)
        return sys.stdin
    return io.TextIOWrapper(buffer, encoding="utf-8", errors="strict", newline="\n")


def _lines(stream: Any) -> Iterator[str]:
    number = 0
    try:
        for number, line in enumerate(stream, 1):
            yield line.removeprefix("\ufeff") if number == 1 else line
    except UnicodeDecodeError as exc:
        raise UsageError(f"the input is not UTF-8 (after line {number}: {exc.reason}); the "
                         "records before it are recorded") from None
