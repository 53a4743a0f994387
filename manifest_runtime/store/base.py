"""What the state's SQL needs from a database connection, whichever the backend.

The modules that keep state (state.py, pipeline/journal.py, pipeline/polling.py,
intake/journal.py, activecampaign/storage.py) write portable SQL with `?` placeholders
against a `StateDB`: the SQLite connection itself (store/sqlite.py), or a PostgreSQL
connection that speaks the same small part of the sqlite3 API (store/postgres.py) and
rewrites the few SQLite-only forms (store/dialect.py). What differs beyond the SQL text goes
through the helpers here (`columns`, `has_table`, `lock_key`), which ask the connection's
`dialect`.

Transactions follow the sqlite3 module's rules on both: a write opens one, `with db:`
commits it (or rolls back on an exception), `commit()`/`rollback()` end it, a read alone
commits nothing and holds nothing. While a `StateFile.batch()` is open (`batching`), the
parts' commits wait for the batch's one commit and a part's rollback spoils the batch;
writes a module defers while the batch is open (`Deferred`: the sandbox's records) are
flushed into it right before that commit, or dropped with its rollback.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class StateDB(Protocol):
    """A state connection (sqlite3.Connection and PgConnection both are one)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...

    def executescript(self, sql_script: str, /) -> Any: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, kind: Any, value: Any, tb: Any, /) -> Any: ...


class BatchingDB(StateDB, Protocol):
    """A state connection inside StateFile.batch(): `spoiled` once a part rolled back."""

    batching: bool
    spoiled: bool


class Deferred(Protocol):
    """Writes a module keeps in memory while a batch is open (the sandbox's records), so
    that the batch writes them with one statement instead of one per record: `flush` writes
    them into the batch's transaction right before it commits (or before a read that must
    see them); `end` is told whether the transaction committed or rolled back."""

    def flush(self) -> None: ...

    def end(self, committed: bool) -> None: ...


def deferred(db: StateDB) -> dict[str, Deferred]:
    """The connection's deferred writers by name (made on first use). A plain
    sqlite3.Connection takes no attribute (and never batches): a new dict each time."""
    found: dict[str, Deferred] | None = getattr(db, "deferred", None)
    if found is None:
        found = {}
        with suppress(AttributeError):
            db.deferred = found  # type: ignore[attr-defined]  # both state connections take it
    return found


def flush_deferred(db: StateDB) -> None:
    for writer in tuple(getattr(db, "deferred", {}).values()):
        writer.flush()


def end_deferred(db: StateDB, committed: bool) -> None:
    for writer in tuple(getattr(db, "deferred", {}).values()):
        writer.end(committed)


def dialect_of(db: object) -> Dialect:
    """The connection's SQL dialect (a plain sqlite3 connection is SQLite)."""
    found: Dialect = getattr(db, "dialect", "sqlite")
    return found


def columns(db: StateDB, table: str) -> set[str]:
    """The column names of a table (empty when there is no such table)."""
    if dialect_of(db) == "postgresql":
        return {name for (name,) in db.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema()", (table,))}
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def has_table(db: StateDB, table: str) -> bool:
    if dialect_of(db) == "postgresql":
        return db.execute("SELECT to_regclass(?)", (table,)).fetchone()[0] is not None
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (table,)).fetchone() is not None


def begin_exclusive(db: StateDB, key: str) -> None:
    """Open a write transaction that no other process holds for `key` at the same time:
    SQLite locks the whole file (BEGIN IMMEDIATE); PostgreSQL takes a transaction-level
    advisory lock on the key (released by the commit or rollback)."""
    db.execute("BEGIN IMMEDIATE")
    if dialect_of(db) == "postgresql":
        db.execute("SELECT pg_advisory_xact_lock(CAST(? AS BIGINT))", (lock_key(key),))


def hold(db: StateDB, name: str) -> bool | None:
    """Hold `name` for as long as this connection lives, or until `unhold` (PostgreSQL: a
    session-level advisory lock, let go by the server when the process dies, on whatever
    machine): True when held (now or already), False when another session holds it. None on
    SQLite, which has no such lock (a process there is checked by its pid instead)."""
    take = getattr(db, "hold", None)
    return None if take is None else bool(take(lock_key(name)))


def unhold(db: StateDB, name: str) -> None:
    let_go = getattr(db, "unhold", None)
    if let_go is not None:
        let_go(lock_key(name))


def lock_key(name: str) -> int:
    """A stable signed 64-bit number for an advisory lock (PostgreSQL)."""
    import hashlib

    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
