"""libjq's verdict on jq program texts (compiles, or its error message), remembered on disk.

`validate` compiles every distinct jq program of a manifest to find syntax errors, and libjq
takes ~1.3 ms per program (it re-reads its builtins each time). Re-validating an unchanged
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
from pathlib import Path
from typing import Any

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


def verdict_of(text: str, compile_text: Any) -> str:
    """COMPILES or libjq's message for `text`: from the cache, else by `compile_text(text)`
    (which raises ValueError with libjq's message on a syntax error)."""
    known = VERDICTS.get(text)
    if known is not None:
        return known
    try:
        compile_text(text)
        verdict = COMPILES
    except ValueError as exc:
        verdict = str(exc) or "jq: error: the program does not compile"
    VERDICTS.put(text, verdict)
    return verdict
