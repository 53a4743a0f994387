"""Where an ActiveCampaign account keeps its records: in memory (tests, `--state :memory:`) or
in the SQLite state file (the embedded sandbox, DESIGN §6). The rules live in account.py;
a storage only reads and writes records.

Records are the account's own dicts (a contact: `{id, email, firstName, ..., fieldValues,
tags}`), stored whole; in SQLite as JSON text beside the columns that look them up.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from ..store import StateDB


@dataclass(frozen=True, slots=True)
class CustomField:
    id: str  # numeric id as a string, as in ActiveCampaign
    title: str
    perstag: str  # personalization tag, e.g. COMPANY (used as %COMPANY%)
    type: str = "text"


DEFAULT_CUSTOM_FIELDS = (
    CustomField("1", "Company", "COMPANY"),
    CustomField("2", "Birthday", "BIRTHDAY", "date"),
)

KINDS = ("contact", "account", "deal", "custom_object")  # record kinds with their own table


class Storage(Protocol):
    def transaction(self) -> Any:
        """A context manager: the writes inside it land together (or not at all)."""
        ...

    def next_id(self, kind: str) -> int: ...

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        """A copy of the record, or None."""
        ...

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None: ...

    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        """Copies of every record of a kind by key, oldest first."""
        ...

    def tags(self) -> list[str]: ...

    def add_tag(self, tag: str) -> None: ...

    def custom_fields(self) -> tuple[CustomField, ...]: ...


class MemoryStorage:
    def __init__(self, custom_fields: tuple[CustomField, ...] = DEFAULT_CUSTOM_FIELDS) -> None:
        self._records: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self._tags: list[str] = []
        self._ids: dict[str, int] = {}
        self._custom_fields = custom_fields

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def next_id(self, kind: str) -> int:
        self._ids[kind] = self._ids.get(kind, 0) + 1
        return self._ids[kind]

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        record = self._records[kind].get(key)
        return copy.deepcopy(record) if record is not None else None

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None:
        self._records[kind][key] = copy.deepcopy(record)

    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self._records[kind])

    def tags(self) -> list[str]:
        return list(self._tags)

    def add_tag(self, tag: str) -> None:
        if tag not in self._tags:
            self._tags.append(tag)

    def custom_fields(self) -> tuple[CustomField, ...]:
        return self._custom_fields


_SCHEMA = """
CREATE TABLE IF NOT EXISTS ac_ids (kind TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ac_records (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    seq  INTEGER NOT NULL,  -- insertion order, for listings
    data TEXT NOT NULL,     -- the record as JSON
    PRIMARY KEY (kind, key)
);
-- MAX(seq) for the next record's place: without it, every put scans the whole table
CREATE INDEX IF NOT EXISTS ac_records_seq ON ac_records (seq);
CREATE TABLE IF NOT EXISTS ac_tags (id INTEGER PRIMARY KEY AUTOINCREMENT, tag TEXT UNIQUE);
CREATE TABLE IF NOT EXISTS ac_custom_fields (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, perstag TEXT NOT NULL, type TEXT NOT NULL
);
"""


class SqliteStorage:
    """The sandbox account's records in the state (tables `ac_*`; a SQLite file or a
    PostgreSQL database: store/). One connection shared by threads under a lock;
    `transaction()` commits once, or rolls back on an error."""

    def __init__(self, db: StateDB,
                 custom_fields: tuple[CustomField, ...] = DEFAULT_CUSTOM_FIELDS,
                 lock: threading.RLock | None = None) -> None:
        self._db = db
        self._lock = lock or threading.RLock()
        self._depth = 0
        self._fields: tuple[CustomField, ...] | None = None  # read once: nothing changes them
        self._tags: set[str] = set()  # tags known to be committed in ac_tags (never deleted)
        self._new_tags: set[str] = set()  # added in the transaction under way
        # the record read (get) or written (put) last in the transaction under way, as stored:
        # a put() of the same text writes nothing (an import of records the sandbox holds
        # already rewrites no row). Forgotten when a transaction begins or ends.
        self._read: tuple[str, str, str] | None = None
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)
            if self._db.execute("SELECT COUNT(*) FROM ac_custom_fields").fetchone()[0] == 0:
                # another process opening the file at the same moment may seed it between
                # the look and the insert: its rows are the same ones
                self._db.executemany(
                    "INSERT OR IGNORE INTO ac_custom_fields (id, title, perstag, type) "
                    "VALUES (?,?,?,?)",
                    [(f.id, f.title, f.perstag, f.type) for f in custom_fields])

    def transaction(self) -> _Transaction:
        return _Transaction(self)

    def next_id(self, kind: str) -> int:
        with _Transaction(self):
            (last,) = self._db.execute(
                "INSERT INTO ac_ids (kind, last) VALUES (?, 1) ON CONFLICT (kind) "
                "DO UPDATE SET last = ac_ids.last + 1 RETURNING last", (kind,)).fetchone()
            return int(last)

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM ac_records WHERE kind = ? AND key = ?",
                                   (kind, key)).fetchone()
            if row is None:
                return None
            self._read = (kind, key, row[0])
        return json.loads(row[0])  # type: ignore[no-any-return]

    def put(self, kind: str, key: str, record: dict[str, Any]) -> None:
        data = _ENCODE(record)
        with _Transaction(self):
            if self._read == (kind, key, data):  # read just now, unchanged: nothing to write
                return
            self._db.execute(
                "INSERT INTO ac_records (kind, key, seq, data) VALUES (?, ?, "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM ac_records), ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
                (kind, key, data))
            self._read = (kind, key, data)  # as it now stands in this transaction

    def records(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT key, data FROM ac_records WHERE kind = ? "
                                    "ORDER BY seq", (kind,)).fetchall()
        return {key: json.loads(data) for key, data in rows}

    def tags(self) -> list[str]:
        with self._lock:
            return [t for (t,) in self._db.execute("SELECT tag FROM ac_tags ORDER BY id")]

    def add_tag(self, tag: str) -> None:
        if tag in self._tags:  # every record of an import carries the same few tags
            return
        with self.transaction():
            self._db.execute("INSERT OR IGNORE INTO ac_tags (tag) VALUES (?)", (tag,))
            self._new_tags.add(tag)

    def custom_fields(self) -> tuple[CustomField, ...]:
        if self._fields is None:  # every upsert checks its fields against these
            with self._lock:
                rows = self._db.execute("SELECT id, title, perstag, type FROM ac_custom_fields "
                                        "ORDER BY CAST(id AS INTEGER)").fetchall()
            self._fields = tuple(CustomField(*row) for row in rows)
        return self._fields


_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode  # a record as stored


class _Transaction:
    """`SqliteStorage.transaction()`: the writes inside land together (one commit by the
    outermost), or a failure rolls them back. A plain class, not @contextmanager: an upsert
    opens three (its own, next_id's, put's), for every record."""

    __slots__ = ("_storage",)

    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    def __enter__(self) -> None:
        storage = self._storage
        storage._lock.acquire()
        storage._depth += 1
        if storage._depth == 1:
            storage._read = None

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        storage = self._storage
        try:
            if storage._depth == 1:
                storage._read = None
                if kind is not None:
                    storage._db.rollback()
                    storage._new_tags.clear()
                else:
                    storage._db.commit()
                    storage._tags |= storage._new_tags
                    storage._new_tags.clear()
        finally:
            storage._depth -= 1
            storage._lock.release()
