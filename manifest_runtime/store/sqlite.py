"""The state in a SQLite file (the default: `.manifest-runtime/state.db`), or in memory
(`:memory:`). WAL mode: readers (sandbox listings) never block a run."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from ..errors import UsageError
from .schema import OUR_TABLES, migrate_sqlite

MEMORY = ":memory:"
APPLICATION_ID = 0x4D525354  # "MRST": marks a SQLite file as a manifest-runtime state file


class StateConnection(sqlite3.Connection):
    """The state file's connection. While `batching` (StateFile.batch), the commits of the
    parts (`with db:`, `commit()`) are deferred to the batch's one commit, and a part's
    rollback spoils the batch (`spoiled`: the batch is rolled back whole)."""

    dialect = "sqlite"
    batching = False
    spoiled = False

    def commit(self) -> None:
        if not self.batching:
            super().commit()

    def rollback(self) -> None:
        if self.batching:
            self.spoiled = True
            return
        super().rollback()

    def __exit__(self, kind: Any, value: Any, tb: Any) -> Any:
        if self.batching:
            if kind is not None:
                self.rollback()
            return False
        return super().__exit__(kind, value, tb)


def open_sqlite(path: str, default_path: str) -> StateConnection:
    """Open (or create) a state file. A missing parent directory is created only for the
    default location; any other problem is a UsageError naming the file."""
    if path == MEMORY:
        db = sqlite3.connect(MEMORY, check_same_thread=False, factory=StateConnection)
        migrate_sqlite(db, path)
        return db
    directory = os.path.dirname(path)
    if path == default_path and directory:
        os.makedirs(directory, exist_ok=True)
    if os.path.isdir(path):
        raise UsageError(f"--state {path}: is a directory; give a file name, e.g. "
                         f"{os.path.join(path, 'state.db')}")
    if directory and not os.path.isdir(directory):
        raise UsageError(f"--state {path}: the directory {directory} does not exist")
    private_file(path)
    try:
        db = sqlite3.connect(path, check_same_thread=False, timeout=30.0,  # wait for writers
                             factory=StateConnection)
        db.execute("PRAGMA journal_mode=WAL")  # readers (sandbox listings) never block a run
        # in WAL mode, NORMAL commits without an fsync each (~0.3 ms here): a killed process
        # loses nothing; only a power cut may drop the last commits (the file stays sound)
        db.execute("PRAGMA synchronous=NORMAL")
        # 16 MiB of pages (the default is 2): the b-trees' upper levels stay in memory as the
        # sandbox and the journal grow, so a record's lookups cost the same at 1M rows as at
        # 10k (bench/bench_chunks.py)
        db.execute("PRAGMA cache_size=-16384")
        _claim(db, path)
        migrate_sqlite(db, path)
    except sqlite3.DatabaseError as exc:  # not a database, unreadable, locked, ...
        raise UsageError(f"--state {path}: cannot use it as the state database ({exc}); "
                         "give a new file name or a file written by manifest-runtime"
                         ) from None
    return db


def private_file(path: str) -> None:
    """The state file holds credentials (setup's stored connection): readable by its owner
    only. A new file is created with mode 0600 (SQLite gives its -wal and -shm files the
    database file's mode); an existing one, and its -wal/-shm, are narrowed to 0600."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for name in (path, f"{path}-wal", f"{path}-shm"):
            try:
                if os.stat(name).st_mode & 0o077:
                    os.chmod(name, 0o600)
            except OSError:  # absent, or not ours: SQLite reports what matters
                pass
    except OSError:  # e.g. a read-only directory: SQLite reports it
        return
    else:
        os.close(fd)


def _claim(db: sqlite3.Connection, path: str) -> None:
    """Refuse another program's SQLite file (its tables would clash with ours); mark a new
    file (or one written before the mark existed, holding only our tables) as ours."""
    app_id = db.execute("PRAGMA application_id").fetchone()[0]
    if app_id == APPLICATION_ID:
        return
    tables = {name for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if app_id != 0 or not tables <= OUR_TABLES:
        foreign = ", ".join(sorted(tables - OUR_TABLES)[:5]) or f"application id {app_id}"
        raise UsageError(f"--state {path}: a SQLite file of another program ({foreign}); "
                         "give a new file name or a file written by manifest-runtime")
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
