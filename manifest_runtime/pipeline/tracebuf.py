"""`--trace` with records in flight at once: each record's trace lines are kept while it
runs (per thread: a worker runs one record at a time) and handed over whole when it ends, so
the lines of two records never interleave. Tracers call `captured(text)` first and print the
text themselves only when it was not captured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_local = threading.local()


@contextmanager
def capture() -> Iterator[list[str]]:
    """While inside, this thread's trace lines go to the yielded list."""
    lines: list[str] = []
    previous = getattr(_local, "lines", None)
    _local.lines = lines
    try:
        yield lines
    finally:
        _local.lines = previous


def captured(text: str) -> bool:
    """Keep `text` for the record this thread is running; False when none is."""
    lines: list[str] | None = getattr(_local, "lines", None)
    if lines is None:
        return False
    lines.append(text)
    return True
