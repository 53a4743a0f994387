"""libjq's verdict on jq program texts (compiles, or its error message), remembered on disk.

`validate` compiles every distinct jq program of a manifest to find syntax errors, and libjq
takes ~1.3 ms per program (it re-reads its builtins each time): programs not judged yet are
compiled many at once (`optimistic`, `settle`, below). Re-validating an unchanged
manifest asks the same questions again, so the answers are kept in a small SQLite file under
the user's cache directory, keyed by the program text and the installed jq binding (its file's
size and modification time: another jq version is another key). A program whose verdict is
known is not compiled by `validate` at all; `run` compiles it when it first runs.

* MANIFEST_RUNTIME_CACHE_DIR: the directory (default `$XDG_CACHE_HOME/manifest-runtime`, else
  `~/.cache/manifest-runtime`);
* MANIFEST_RUNTIME_NO_CACHE=1: neither read nor write it.

The cache is an optimisation only: any failure to open, read or write it (read-only home,
a locked or damaged file) turns it off for the process, silently. Several processes may use
it at once (SQLite locking, WAL; a write that waits more than a second is dropped).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

CACHE_DIR_VARIABLE = "MANIFEST_RUNTIME_CACHE_DIR"
NO_CACHE_VARIABLE = "MANIFEST_RUNTIME_NO_CACHE"
FILE_NAME = "jq-verdicts-v1.sqlite3"
COMPILES = ""  # the stored verdict of a program that compiles (else: libjq's message)
_FLUSH_EVERY = 256


def cache_dir() -> Path:
    explicit = os.environ.get(CACHE_DIR_VARIABLE, "").strip()
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".cache") / "manifest-runtime"


def _jq_identity() -> str:
    """The installed jq binding, without importing it: its file's path, size and mtime."""
    from importlib.util import find_spec

    spec = find_spec("jq")
    origin = spec.origin if spec is not None else None
    if not origin:
        return "unknown"
    stat = os.stat(origin)
    return f"{origin}:{stat.st_size}:{stat.st_mtime_ns}"


class Verdicts:
    """The verdicts of one process: read through, written in batches (and at exit)."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._identity = ""
        self._pending: list[tuple[str, str]] = []
        self._known: dict[str, str] = {}

    def _connection(self) -> sqlite3.Connection | None:
        if self._opened:
            return self._db
        self._opened = True
        if os.environ.get(NO_CACHE_VARIABLE, "").strip() not in ("", "0"):
            return None
        try:
            self._identity = _jq_identity()
            directory = cache_dir()
            directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(directory / FILE_NAME, timeout=1.0, isolation_level=None,
                                 check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")
            db.execute("CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, error TEXT)")
        except (OSError, sqlite3.Error):
            return None
        self._db = db
        atexit.register(self.flush)
        return db

    def _key(self, text: str) -> str:
        digest = hashlib.sha256(f"{self._identity}\0{text}".encode()).hexdigest()
        return digest

    def get(self, text: str) -> str | None:
        """The stored verdict: COMPILES, libjq's error message, or None (unknown)."""
        if text in self._known:
            return self._known[text]
        db = self._connection()
        if db is None:
            return None
        try:
            row = db.execute("SELECT error FROM verdicts WHERE key = ?",
                             (self._key(text),)).fetchone()
        except sqlite3.Error:
            self._off()
            return None
        if row is None:
            return None
        verdict: str = row[0]
        self._known[text] = verdict
        return verdict

    def put(self, text: str, verdict: str) -> None:
        self._known[text] = verdict
        if self._connection() is None:
            return
        self._pending.append((self._key(text), verdict))
        if len(self._pending) >= _FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        db, pending = self._db, self._pending
        if db is None or not pending:
            return
        self._pending = []
        try:
            with db:
                db.executemany("INSERT OR REPLACE INTO verdicts (key, error) VALUES (?, ?)",
                               pending)
        except sqlite3.Error:
            self._off()

    def forget(self) -> None:
        """Forget what this process knows (the file stays): for tests and benchmarks."""
        self.flush()
        self._known.clear()
        if self._db is not None:
            self._db.close()
        self._db, self._opened = None, False

    def _off(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db, self._pending = None, []


VERDICTS = Verdicts()


def libjq_compile(text: str) -> None:
    """libjq's verdict on `text`: raises ValueError with its message when it does not compile.
    Only the verdict: the program that runs is compiled on first use, on the engine chosen
    then (commands/jq.py JqNode.program)."""
    import jq

    jq.compile(text)


# ------------------------------------------------------------------ many at once
#
# libjq re-reads its builtins for every program it compiles (~1.2 ms), whatever the program's
# size. A compile walk over a manifest asks about each program where it meets it and needs the
# answer there. So the walk is first run `optimistic()`: an unknown program is taken to compile
# and noted; `settle()` then asks libjq about all the noted programs together, CHUNK per
# compile, each in parentheses as one term of a comma list. When all compile (the usual case)
# the walk's result stands as it is; otherwise the caller walks again, every verdict known.
#
# Why a chunk that compiles means that each of its programs compiles alone: a program whose
# brackets and strings are closed within itself (`_self_contained`) sits inside `(\n...\n)` as
# a whole; those parentheses parse only around a jq expression, and every term is part of the
# program, so each name it uses is looked up as it would be alone. A program of only
# definitions, or with `import`, is not an expression: its chunk fails, and a failing chunk is
# halved until the programs that fail are compiled alone (their own message, as before). A
# program that is not self-contained (unbalanced, a comment: `#` may continue a line) is
# compiled alone from the start.

CHUNK = 256

_PENDING: ContextVar[list[str] | None] = ContextVar("jq_verdicts_pending", default=None)


@contextmanager
def optimistic() -> Iterator[list[str]]:
    """Within: verdict_of answers COMPILES for a program it does not know, and lists it in the
    yielded list, for `settle`."""
    pending: list[str] = []
    token = _PENDING.set(pending)
    try:
        yield pending
    finally:
        _PENDING.reset(token)


def settle(texts: list[str], compile_text: Callable[[str], None] = libjq_compile) -> bool:
    """Find the verdicts of `texts` (kept in VERDICTS), compiling many programs at once: True
    when every one compiles."""
    unique = [t for t in dict.fromkeys(texts) if VERDICTS.get(t) is None]
    together = [t for t in unique if _self_contained(t)]
    alone = [t for t in unique if not _self_contained(t)]
    ok = all([verdict_of(t, compile_text) == COMPILES for t in alone])
    for start in range(0, len(together), CHUNK):
        ok = _settle_together(together[start:start + CHUNK], compile_text) and ok
    return ok


def _settle_together(texts: list[str], compile_text: Callable[[str], None]) -> bool:
    if len(texts) == 1:
        return verdict_of(texts[0], compile_text) == COMPILES
    try:
        compile_text(",\n".join(f"(\n{t}\n)" for t in texts))
    except ValueError:
        half = len(texts) // 2
        first = _settle_together(texts[:half], compile_text)
        return _settle_together(texts[half:], compile_text) and first
    for t in texts:
        VERDICTS.put(t, COMPILES)
    return True


_CLOSES = {")": "(I", "]": "[", "}": "{"}


def _self_contained(text: str) -> bool:
    """Are the program's brackets, strings and string interpolations `\\(...)` all closed
    within it, never closing more than it opened, and has it no comment?"""
    stack: list[str] = []  # ( [ { open brackets, " an open string, I an interpolation
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if stack and stack[-1] == '"':
            if ch == "\\":
                if text.startswith("(", i + 1):
                    stack.append("I")
                i += 2
                continue
            if ch == '"':
                stack.pop()
        elif ch == "#":
            return False
        elif ch in "([{\"":
            stack.append(ch)
        elif ch in _CLOSES:
            if not stack or stack[-1] not in _CLOSES[ch]:
                return False
            stack.pop()
        i += 1
    return not stack


def verdict_of(text: str, compile_text: Callable[[str], None] = libjq_compile) -> str:
    """COMPILES or libjq's message for `text`: from the cache, else by `compile_text(text)`
    (which raises ValueError with libjq's message on a syntax error). Within `optimistic()`
    an unknown program is taken to compile, and listed."""
    known = VERDICTS.get(text)
    if known is not None:
        return known
    pending = _PENDING.get()
    if pending is not None:
        pending.append(text)
        return COMPILES
    return _compiled(text, compile_text)


def _compiled(text: str, compile_text: Callable[[str], None]) -> str:
    """libjq's verdict on `text` alone, kept in VERDICTS."""
    try:
        compile_text(text)
        verdict = COMPILES
    except ValueError as exc:
        verdict = str(exc) or "jq: error: the program does not compile"
    VERDICTS.put(text, verdict)
    return verdict
